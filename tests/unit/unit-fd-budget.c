/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OwFdBudget: spare fds are lent, and taken back (oldest first) when users need them; a loan
 * taken back reads -1, its fd closed; ending a loan closes what it still holds. */
#include "ow-fd-budget.h"

#include <fcntl.h>
#include <unistd.h>

static int
new_fd (void)
{
  int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  return fd;
}

static gboolean
is_open (int fd)
{
  return fcntl (fd, F_GETFD) >= 0;
}

static void
test_lend_and_take_back (void)
{
  g_autoptr (OwFdBudget) budget = ow_fd_budget_new (4, 10);
  OwFdLoan *loans[3];
  int fds[3];
  int refused;

  ow_fd_budget_add_user (budget);
  for (guint i = 0; i < 3; i++)
    {
      fds[i] = new_fd ();
      loans[i] = ow_fd_budget_lend (budget, fds[i]);
      g_assert_nonnull (loans[i]);
      g_assert_cmpint (ow_fd_loan_get_fd (loans[i]), ==, fds[i]);
    }
  g_assert_cmpuint (ow_fd_budget_get_loans (budget), ==, 3);

  /* Full (1 user + 3 loans): no fourth loan, and its fd is closed. */
  refused = new_fd ();
  g_assert_null (ow_fd_budget_lend (budget, refused));
  g_assert_false (is_open (refused));

  /* Two more users take back the two oldest loans. */
  ow_fd_budget_add_user (budget);
  ow_fd_budget_add_user (budget);
  g_assert_cmpuint (ow_fd_budget_get_loans (budget), ==, 1);
  g_assert_cmpint (ow_fd_loan_get_fd (loans[0]), ==, -1);
  g_assert_cmpint (ow_fd_loan_get_fd (loans[1]), ==, -1);
  g_assert_false (is_open (fds[0]));
  g_assert_false (is_open (fds[1]));
  g_assert_cmpint (ow_fd_loan_get_fd (loans[2]), ==, fds[2]);
  g_assert_true (is_open (fds[2]));

  /* A user gone leaves room for a loan again. */
  ow_fd_budget_remove_user (budget);
  fds[0] = new_fd ();
  ow_fd_loan_end (loans[0]);
  loans[0] = ow_fd_budget_lend (budget, fds[0]);
  g_assert_nonnull (loans[0]);
  g_assert_cmpuint (ow_fd_budget_get_loans (budget), ==, 2);

  /* Ending: closes what is still lent; a loan taken back only goes. */
  ow_fd_loan_end (loans[1]);
  ow_fd_loan_end (loans[2]);
  g_assert_false (is_open (fds[2]));
  g_assert_cmpuint (ow_fd_budget_get_loans (budget), ==, 1);
  ow_fd_loan_end (loans[0]);
  g_assert_false (is_open (fds[0]));
  g_assert_cmpuint (ow_fd_budget_get_loans (budget), ==, 0);
}

/* A budget freed with loans still out closes their fds; the loans end later. */
static void
test_free_first (void)
{
  OwFdBudget *budget = ow_fd_budget_new (2, 10);
  int fd = new_fd ();
  OwFdLoan *loan = ow_fd_budget_lend (budget, fd);

  g_assert_nonnull (loan);
  ow_fd_budget_free (budget);
  g_assert_false (is_open (fd));
  g_assert_cmpint (ow_fd_loan_get_fd (loan), ==, -1);
  ow_fd_loan_end (loan);
}

/* However many fds are spare, no more than MAX_LOANS at once. */
static void
test_max_loans (void)
{
  g_autoptr (OwFdBudget) budget = ow_fd_budget_new (100, 2);
  OwFdLoan *a = ow_fd_budget_lend (budget, new_fd ());
  OwFdLoan *b = ow_fd_budget_lend (budget, new_fd ());
  int fd = new_fd ();

  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_null (ow_fd_budget_lend (budget, fd));
  g_assert_false (is_open (fd));
  ow_fd_loan_end (a);
  a = ow_fd_budget_lend (budget, new_fd ());
  g_assert_nonnull (a);
  ow_fd_loan_end (a);
  ow_fd_loan_end (b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fd-budget/lend-and-take-back", test_lend_and_take_back);
  g_test_add_func ("/fd-budget/free-first", test_free_first);
  g_test_add_func ("/fd-budget/max-loans", test_max_loans);
  return g_test_run ();
}
