/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-fd-budget.h"
#include "ow-fd.h"

struct _OwFdBudget
{
  guint limit, max_loans;
  guint users;
  GQueue lent; /* OwFdLoan still holding an fd, least recently used first */
};

struct _OwFdLoan
{
  OwFdBudget *budget; /* NULL once taken back: the loan only waits for its end */
  int fd;
  GList link; /* in budget->lent */
};

OwFdBudget *
ow_fd_budget_new (guint limit, guint max_loans)
{
  OwFdBudget *self = g_new0 (OwFdBudget, 1);

  self->limit = limit;
  self->max_loans = max_loans;
  g_queue_init (&self->lent);
  return self;
}

static void
take_back (OwFdLoan *loan)
{
  g_queue_unlink (&loan->budget->lent, &loan->link);
  loan->budget = NULL;
  ow_fd_close (loan->fd);
  loan->fd = -1;
}

static void
fit (OwFdBudget *self)
{
  while (self->lent.length > 0 && self->users + self->lent.length > self->limit)
    take_back (self->lent.head->data);
}

/* Loans still out are taken back; their owners end them later. */
void
ow_fd_budget_free (OwFdBudget *self)
{
  if (self == NULL)
    return;
  while (self->lent.length > 0)
    take_back (self->lent.head->data);
  g_free (self);
}

void
ow_fd_budget_add_user (OwFdBudget *self)
{
  self->users++;
  fit (self);
}

void
ow_fd_budget_remove_user (OwFdBudget *self)
{
  g_return_if_fail (self->users > 0);
  self->users--;
}

guint
ow_fd_budget_get_loans (OwFdBudget *self)
{
  return self->lent.length;
}

OwFdLoan *
ow_fd_budget_lend (OwFdBudget *self, int fd)
{
  OwFdLoan *loan;

  if (fd < 0)
    return NULL;
  while (self->lent.length > 0
         && (self->users + self->lent.length + 1 > self->limit
             || self->lent.length >= self->max_loans))
    take_back (self->lent.head->data);
  if (self->users + 1 > self->limit || self->max_loans == 0)
    {
      ow_fd_close (fd);
      return NULL;
    }
  loan = g_new0 (OwFdLoan, 1);
  loan->budget = self;
  loan->fd = fd;
  loan->link.data = loan;
  g_queue_push_tail_link (&self->lent, &loan->link);
  return loan;
}

int
ow_fd_loan_get_fd (const OwFdLoan *loan)
{
  return loan != NULL ? loan->fd : -1;
}

int
ow_fd_loan_use (OwFdLoan *loan)
{
  if (loan == NULL || loan->budget == NULL)
    return -1;
  g_queue_unlink (&loan->budget->lent, &loan->link);
  g_queue_push_tail_link (&loan->budget->lent, &loan->link);
  return loan->fd;
}

void
ow_fd_loan_end (OwFdLoan *loan)
{
  if (loan == NULL)
    return;
  if (loan->budget != NULL)
    take_back (loan);
  g_free (loan);
}
