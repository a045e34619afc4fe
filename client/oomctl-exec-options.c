/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomctl watch --exec: its command line and its state file (oomctl-exec.h). */
#include "oomctl-exec.h"

#include <string.h>

void
oomctl_exec_split_argv (int *argc, char **argv, OomctlExecOptions *options)
{
  for (int i = 1; i < *argc; i++)
    if (strcmp (argv[i], "--exec") == 0)
      {
        options->argv = g_strdupv (argv + i + 1);
        argv[i] = NULL;
        *argc = i;
        return;
      }
}

const GOptionEntry *
oomctl_exec_option_entries (OomctlExecOptions *options)
{
  static GOptionEntry entries[4];
  const GOptionEntry filled[] = {
    { "exec-timeout", 0, 0, G_OPTION_ARG_INT, &options->timeout,
      "Kill a hook (--exec) still running after SEC seconds (30)", "SEC" },
    { "exec-queue", 0, 0, G_OPTION_ARG_INT, &options->queue_max,
      "Keep at most N events waiting for the hook; drop newer ones (1000)", "N" },
    { "state-file", 0, 0, G_OPTION_ARG_FILENAME, &options->state_file,
      "Keep the last event the hook handled in PATH and resume after it", "PATH" },
    { NULL },
  };

  options->timeout = OOMCTL_EXEC_DEFAULT_TIMEOUT;
  options->queue_max = OOMCTL_EXEC_DEFAULT_QUEUE;
  memcpy (entries, filled, sizeof entries);
  return entries;
}

void
oomctl_exec_options_clear (OomctlExecOptions *options)
{
  g_clear_pointer (&options->argv, g_strfreev);
  g_clear_pointer (&options->state_file, g_free);
}

gboolean
oomctl_exec_read_state (const char *path, char **epoch, guint64 *seq, GError **error)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) fields = NULL;
  g_autoptr (GError) local = NULL;

  if (!g_file_get_contents (path, &text, NULL, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return FALSE;
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  fields = g_strsplit (g_strstrip (text), " ", 2);
  if (g_strv_length (fields) != 2
      || !g_ascii_string_to_unsigned (fields[1], 10, 0, G_MAXUINT64, seq, NULL))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   "%s does not hold \"EPOCH SEQ\"", path);
      return FALSE;
    }
  *epoch = g_strdup (fields[0]);
  return TRUE;
}
