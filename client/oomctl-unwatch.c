/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomctl unwatch: root drops a persistent watch (one the configuration file asks for) at run
 * time, until the next reload. Any other watch belongs to the connection that made it, and
 * this command's connection is a new one, so for anything else it says what to do instead. */
#include "oomctl-commands.h"
#include "oomctl-common.h"
#include "oomctl-paths.h"
#include "oomwatch-error.h"

#include <unistd.h>

int
oomctl_unwatch (int argc, char **argv)
{
  const GOptionEntry entries[] = { { NULL } };
  g_autoptr (GOptionContext) context = g_option_context_new ("CGROUP");
  g_autoptr (OomwatchManager) manager = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) cgroup = NULL;
  int status;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context,
                                "Drop the persistent watch of CGROUP (root only) until the next "
                                "reload of the configuration. Other watches end with the "
                                "oomctl watch (or other client) that made them.");
  status = oomctl_parse_options (context, &argc, &argv);
  if (status != OOMCTL_EXIT_OK)
    return status;
  if (argc != 2)
    return oomctl_usage_error ("unwatch needs exactly one CGROUP");
  manager = oomctl_manager_new (&error);
  if (manager == NULL)
    return oomctl_fail (NULL, error);
  cgroup = oomctl_resolve_cgroups (manager, (const char *const *) argv + 1, &error);
  if (cgroup == NULL)
    return error->domain == G_IO_ERROR ? oomctl_usage_error ("%s", error->message)
                                       : oomctl_fail (NULL, error);
  if (oomwatch_manager_call_unwatch_sync (manager, cgroup[0], G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                          &error))
    return OOMCTL_EXIT_OK;
  if (g_error_matches (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NOT_WATCHED))
    {
      g_printerr ("oomctl: %s: not a persistent watch%s; a client's watch ends when that client "
                  "stops\n",
                  argv[1], geteuid () == 0 ? "" : " (and only root may drop one)");
      return OOMCTL_EXIT_FAILED;
    }
  return oomctl_fail (argv[1], error);
}
