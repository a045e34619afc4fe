/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomctl watch --exec CMD [ARG…]: runs CMD once per OomEvent, as the user running oomctl,
 * one at a time in seq order. The event goes in the environment (OOMWATCH_CGROUP, _KIND,
 * _COUNT and OOMWATCH_<KEY> for every details key) and as one JSON line on standard input.
 * A hook that outlives its timeout is killed with its process group. The queue is bounded:
 * when full, the newest event is dropped, counted and logged. With a state file, the last
 * seq handled is kept after each hook, and the events not handled yet when oomctl stops
 * (oomctl-exec-spool.h), so that a restart resumes exactly after it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char **argv;        /* CMD [ARG…]; NULL: no hook */
  int timeout;        /* seconds per hook */
  int queue_max;      /* events waiting at most */
  char *state_file;   /* NULL: none */
} OomctlExecOptions;

#define OOMCTL_EXEC_HELP                                                                         \
  "--exec CMD [ARG…] (last on the line): run CMD once per OomEvent, one at a time, with the\n"  \
  "event in OOMWATCH_* environment variables and as one JSON line on standard input."

#define OOMCTL_EXEC_DEFAULT_TIMEOUT 30
#define OOMCTL_EXEC_DEFAULT_QUEUE 1000

/* Takes "--exec CMD [ARG…]" (everything after --exec) out of ARGV into OPTIONS->argv. */
void oomctl_exec_split_argv (int *argc, char **argv, OomctlExecOptions *options);
/* The options --exec-timeout, --exec-queue and --state-file, filling OPTIONS. */
const GOptionEntry *oomctl_exec_option_entries (OomctlExecOptions *options);
void oomctl_exec_options_clear (OomctlExecOptions *options);

/* Where a state file says the last handled event was; FALSE when there is none yet. */
gboolean oomctl_exec_read_state (const char *path, char **epoch, guint64 *seq, GError **error);

typedef struct _OomctlExec OomctlExec;

/* DONE is called after each hook ends (with the hooks completed so far). */
OomctlExec *oomctl_exec_new (const OomctlExecOptions *options,
                             void (*done) (guint handled, gpointer user_data), gpointer user_data);
void oomctl_exec_free (OomctlExec *self);
/* Checks the options; with --exec, makes *EXEC, and with a state file (unless --since) sets
 * *EPOCH, *AFTER and *RESUME to where the last run left off, and queues what the last run had
 * received but not handled (their seqs go into PRINTED: History() repeats them). An oomctl
 * exit status. */
int oomctl_exec_setup (OomctlExecOptions *options, gboolean since, char **epoch, guint64 *after,
                       gboolean *resume, GHashTable *printed,
                       void (*done) (guint handled, gpointer user_data), gpointer user_data,
                       OomctlExec **exec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OomctlExec, oomctl_exec_free)

/* Queues one OomEvent of the daemon's seq numbering EPOCH; JSON is its line for stdin. */
void oomctl_exec_push (OomctlExec *self, const char *epoch, const char *cgroup, const char *kind,
                       guint64 count, GVariant *details, const char *json);
/* The same, with the line as oomctl watch --json prints it */
void oomctl_exec_push_event (OomctlExec *self, const char *epoch, const char *cgroup,
                             const char *kind, guint64 count, GVariant *details);
/* An entry of History(); other signals than OomEvent are not hooked. */
void oomctl_exec_push_history_entry (OomctlExec *self, const char *epoch, GVariant *entry);
/* Starts no more hooks and waits for the one running (up to its timeout). Events still
 * queued are left to the next run (with a state file, it resumes before them). */
void oomctl_exec_stop (OomctlExec *self);

G_END_DECLS
