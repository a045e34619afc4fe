/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every oomctl sub-command shares: the proxy, error reporting, exit codes. */
#pragma once

#include "oomwatch-generated.h"

#include <gio/gio.h>

G_BEGIN_DECLS

enum {
  OOMCTL_EXIT_OK = 0,
  OOMCTL_EXIT_FAILED = 1,  /* the daemon or the bus said no */
  OOMCTL_EXIT_USAGE = 2,   /* bad command line */
  OOMCTL_EXIT_TIMEOUT = 3, /* watch --timeout ran out before --count events */
};

typedef struct
{
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
  const char *usage; /* what follows "oomctl NAME" on the usage line */
} OomctlCommand;

/* The command running, for the usage line of its errors. */
void oomctl_set_command (const OomctlCommand *command);

OomwatchManager *oomctl_manager_new (GError **error);
int oomctl_fail (const char *what, GError *error);
int oomctl_usage_error (const char *format, ...) G_GNUC_PRINTF (1, 2);
int oomctl_parse_options (GOptionContext *context, int *argc, char ***argv);
int oomctl_parse_no_arguments (int *argc, char ***argv, const GOptionEntry *entries,
                               const char *summary);

G_END_DECLS
