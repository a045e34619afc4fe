/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Spare file descriptors, lent to what is faster with a file kept open: the v1 source keeps its
 * memory.oom_control open, so that reading it on a wake-up (before the signal) is one pread
 * rather than a path walk, open, fstat, read and close. A loan lasts while the process has fds
 * to spare: each source counts as one user of the budget (its own fd), and a new user takes
 * back the least recently used loans until users and loans fit in the limit again. So loans
 * never cost a watch: the daemon accepts as many watches as without them. At most
 * OW_FD_LOANS_MAX are out at once (each kept file also holds kernel memory: a cgroup file once
 * read keeps a page); a new loan then takes the least recently used one's place, so the
 * cgroups that wake keep their files. */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

#define OW_FD_LOANS_MAX 1024

typedef struct _OwFdBudget OwFdBudget;
typedef struct _OwFdLoan OwFdLoan;

/* LIMIT: fds for users and loans together; MAX_LOANS: at most that many loans at once. */
OwFdBudget *ow_fd_budget_new (guint limit, guint max_loans);
void ow_fd_budget_free (OwFdBudget *self);
void ow_fd_budget_add_user (OwFdBudget *self);
void ow_fd_budget_remove_user (OwFdBudget *self);
guint ow_fd_budget_get_loans (OwFdBudget *self);
/* Takes FD: a loan, in place of the least recently used ones if the budget is full; NULL (and
 * FD is closed) when the users alone fill the limit. */
OwFdLoan *ow_fd_budget_lend (OwFdBudget *self, int fd);
/* The lent fd; -1 once the budget took it back (it closed it then). */
int ow_fd_loan_get_fd (const OwFdLoan *loan);
/* The same, marking the loan the most recently used: the last to be taken back. */
int ow_fd_loan_use (OwFdLoan *loan);
/* Closes the fd if it is still lent, and frees the loan. */
void ow_fd_loan_end (OwFdLoan *loan);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwFdBudget, ow_fd_budget_free)

G_END_DECLS
