/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OwFdBudget: spare fds are lent, and taken back (least recently used first) when users or a
 * new loan need them; a loan taken back reads -1, its fd closed; ending a loan closes what it
 * still holds. */
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
  OwFdLoan *newest;
  int fds[3];
  int fd;

  ow_fd_budget_add_user (budget);
  for (guint i = 0; i < 3; i++)
    {
      fds[i] = new_fd ();
      loans[i] = ow_fd_budget_lend (budget, fds[i]);
      g_assert_nonnull (loans[i]);
      g_assert_cmpint (ow_fd_loan_get_fd (loans[i]), ==, fds[i]);
    }
  g_assert_cmpuint (ow_fd_budget_get_loans (budget), ==, 3);

  /* Full (1 user + 3 loans): a fourth loan takes the least recently used one's place. The
   * oldest was used since, so the second goes. */
  g_assert_cmpint (ow_fd_loan_use (loans[0]), ==, fds[0]);
  fd = new_fd ();
  newest = ow_fd_budget_lend (budget, fd);
  g_assert_nonnull (newest);
  g_assert_cmpint (ow_fd_loan_get_fd (loans[1]), ==, -1);
  g_assert_cmpint (ow_fd_loan_use (loans[1]), ==, -1);
  g_assert_false (is_open (fds[1]));
  g_assert_true (is_open (fds[0]));
  g_assert_cmpuint (ow_fd_budget_get_loans (budget), ==, 3);
  ow_fd_loan_end (loans[1]);
  loans[1] = newest;
  fds[1] = fd;

  /* Two more users take back the two least recently used loans (the third, then the first). */
  ow_fd_budget_add_user (budget);
  ow_fd_budget_add_user (budget);
  g_assert_cmpuint (ow_fd_budget_get_loans (budget), ==, 1);
  g_assert_cmpint (ow_fd_loan_get_fd (loans[2]), ==, -1);
  g_assert_cmpint (ow_fd_loan_get_fd (loans[0]), ==, -1);
  g_assert_false (is_open (fds[2]));
  g_assert_false (is_open (fds[0]));
  g_assert_cmpint (ow_fd_loan_get_fd (loans[1]), ==, fds[1]);
  g_assert_true (is_open (fds[1]));

  /* Users alone fill the limit: no loan at all, and its fd is closed. */
  ow_fd_budget_add_user (budget);
  fd = new_fd ();
  g_assert_null (ow_fd_budget_lend (budget, fd));
  g_assert_false (is_open (fd));
  g_assert_false (is_open (fds[1]));
  g_assert_cmpuint (ow_fd_budget_get_loans (budget), ==, 0);

  /* A user gone leaves room for a loan again. */
  ow_fd_budget_remove_user (budget);
  ow_fd_budget_remove_user (budget);
  fds[0] = new_fd ();
  ow_fd_loan_end (loans[0]);
  loans[0] = ow_fd_budget_lend (budget, fds[0]);
  g_assert_nonnull (loans[0]);
  g_assert_cmpuint (ow_fd_budget_get_loans (budget), ==, 1);

  /* Ending: closes what is still lent; a loan taken back only goes. */
  ow_fd_loan_end (loans[1]);
  ow_fd_loan_end (loans[2]);
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

/* However many fds are spare, no more than MAX_LOANS at once: a new loan takes the least
 * recently used one's place. */
static void
test_max_loans (void)
{
  g_autoptr (OwFdBudget) budget = ow_fd_budget_new (100, 2);
  int fds[3] = { new_fd (), new_fd (), new_fd () };
  OwFdLoan *a = ow_fd_budget_lend (budget, fds[0]);
  OwFdLoan *b = ow_fd_budget_lend (budget, fds[1]);
  OwFdLoan *c;

  g_assert_nonnull (a);
  g_assert_nonnull (b);
  c = ow_fd_budget_lend (budget, fds[2]);
  g_assert_nonnull (c);
  g_assert_cmpuint (ow_fd_budget_get_loans (budget), ==, 2);
  g_assert_cmpint (ow_fd_loan_get_fd (a), ==, -1);
  g_assert_false (is_open (fds[0]));
  g_assert_cmpint (ow_fd_loan_get_fd (b), ==, fds[1]);
  g_assert_cmpint (ow_fd_loan_get_fd (c), ==, fds[2]);
  ow_fd_loan_end (a);
  ow_fd_loan_end (b);
  ow_fd_loan_end (c);
  g_assert_false (is_open (fds[1]));
  g_assert_false (is_open (fds[2]));

  /* None at all when MAX_LOANS is 0. */
  {
    g_autoptr (OwFdBudget) none = ow_fd_budget_new (100, 0);
    int fd = new_fd ();

    g_assert_null (ow_fd_budget_lend (none, fd));
    g_assert_false (is_open (fd));
  }
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
