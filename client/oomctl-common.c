/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "oomctl-common.h"
#include "oomwatch-error.h"
#include "oomwatch-names.h"

OomwatchManager *
oomctl_manager_new (GError **error)
{
  /* Registers the error domain, so remote errors map back to OOMWATCH_ERROR codes. */
  (void) OOMWATCH_ERROR;
  return oomwatch_manager_proxy_new_for_bus_sync (G_BUS_TYPE_SYSTEM, G_DBUS_PROXY_FLAGS_NONE,
                                                  OOMWATCH_BUS_NAME, OOMWATCH_OBJECT_PATH, NULL,
                                                  error);
}

/* Prints the error plainly (no "GDBus.Error:…" prefix) and gives the exit status. */
int
oomctl_fail (const char *what, GError *error)
{
  g_dbus_error_strip_remote_error (error);
  if (what != NULL)
    g_printerr ("oomctl: %s: %s\n", what, error->message);
  else
    g_printerr ("oomctl: %s\n", error->message);
  return OOMCTL_EXIT_FAILED;
}

int
oomctl_parse_options (GOptionContext *context, int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;

  if (g_option_context_parse (context, argc, argv, &error))
    return OOMCTL_EXIT_OK;
  g_printerr ("oomctl: %s\n", error->message);
  return OOMCTL_EXIT_USAGE;
}

/* Options only: any argument left is a usage error. */
int
oomctl_parse_no_arguments (int *argc, char ***argv, const GOptionEntry *entries, const char *summary)
{
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  int status;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context, summary);
  status = oomctl_parse_options (context, argc, argv);
  if (status == OOMCTL_EXIT_OK && *argc > 1)
    {
      g_printerr ("oomctl: unexpected argument '%s'\n", (*argv)[1]);
      return OOMCTL_EXIT_USAGE;
    }
  return status;
}
