/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Running the built oomctl from a test: its exit status and what it printed. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  int status;
  char *out;
  char *err;
} OwOomctlRun;

void ow_oomctl_run_clear (OwOomctlRun *run);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (OwOomctlRun, ow_oomctl_run_clear)

/* $OOMCTL ARGS… in CWD (NULL: ours), with the environment changed by SETENV ("NAME=value"
 * pairs; "NAME" alone unsets it; may be NULL). */
GSubprocess *ow_oomctl_start (const char *cwd, const char *const *setenv,
                              const char *const *args);
GSubprocess *ow_oomctl_start_program (const char *program, const char *cwd,
                                      const char *const *setenv, const char *const *args);
void ow_oomctl_finish (GSubprocess *process, OwOomctlRun *run);
void ow_oomctl_run (const char *cwd, const char *const *setenv, const char *const *args,
                    OwOomctlRun *run);

G_END_DECLS
