/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "oomctl-common.h"
#include "oomctl-output.h"
#include "oomwatch-error.h"
#include "oomwatch-names.h"

#include <stdio.h>
#include <string.h>

#define OOMCTL_NO_BUS_ERROR (g_quark_from_static_string ("oomctl-no-bus"))

static const OomctlCommand *current;

void
oomctl_set_command (const OomctlCommand *command)
{
  current = command;
}

OomwatchManager *
oomctl_manager_new (GError **error)
{
  g_autoptr (GDBusConnection) bus = NULL;
  g_autoptr (GError) local = NULL;

  /* Registers the error domain, so remote errors map back to OOMWATCH_ERROR codes. */
  (void) OOMWATCH_ERROR;
  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &local);
  if (bus == NULL)
    {
      g_set_error (error, OOMCTL_NO_BUS_ERROR, 0, "Failed to connect to the system bus: %s",
                   local->message);
      return NULL;
    }
  return oomwatch_manager_proxy_new_sync (bus, G_DBUS_PROXY_FLAGS_NONE, OOMWATCH_BUS_NAME,
                                          OOMWATCH_OBJECT_PATH, NULL, error);
}

static gboolean
is_spawn_error (const GError *error)
{
  return error->domain == G_DBUS_ERROR && error->code >= G_DBUS_ERROR_SPAWN_EXEC_FAILED
         && error->code <= G_DBUS_ERROR_SPAWN_NO_MEMORY;
}

/* Activation through systemd (SystemdService=) fails with systemd's own errors. */
static gboolean
is_systemd_error (const GError *error)
{
  g_autofree char *name = g_dbus_error_get_remote_error (error);

  return name != NULL && g_str_has_prefix (name, "org.freedesktop.systemd1.");
}

/* Prints the error plainly (no "GDBus.Error:…" prefix) and gives the exit status. A daemon
 * that is not there, or no bus at all, gets one message whatever was asked. */
int
oomctl_fail (const char *what, GError *error)
{
  gboolean start_failed = is_spawn_error (error) || is_systemd_error (error);

  g_dbus_error_strip_remote_error (error);
  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN)
      || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
    g_printerr ("oomctl: oomwatchd is not running, and D-Bus cannot start it on demand (its "
                "activation file %s.service is not installed).\n"
                "Start it with: systemctl start oomwatchd\n",
                OOMWATCH_BUS_NAME);
  else if (start_failed)
    g_printerr ("oomctl: oomwatchd is not running and failed to start: %s\n"
                "See: systemctl status oomwatchd; journalctl -u oomwatchd\n",
                error->message);
  else if (what != NULL && error->domain != OOMCTL_NO_BUS_ERROR)
    g_printerr ("oomctl: %s: %s\n", what, error->message);
  else
    g_printerr ("oomctl: %s\n", error->message);
  return OOMCTL_EXIT_FAILED;
}

/* A bad command line: what was wrong, the usage line, exit status 2. */
int
oomctl_usage_error (const char *format, ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("oomctl: %s\n", text);
  if (current != NULL)
    g_printerr ("Usage: %s %s %s\nRun '%s %s --help' for its options.\n", OOMCTL_NAME,
                current->name, current->usage, OOMCTL_NAME, current->name);
  return OOMCTL_EXIT_USAGE;
}

int
oomctl_parse_options (GOptionContext *context, int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;

  /* A bare --json (or -j) means short and never takes the next argument as its mode. */
  for (int i = 1; i < *argc && strcmp ((*argv)[i], "--") != 0; i++)
    if (strcmp ((*argv)[i], "--json") == 0 || strcmp ((*argv)[i], "-j") == 0)
      (*argv)[i] = (char *) "--json=short";
  g_option_context_add_main_entries (context, oomctl_output_entries (), NULL);
  if (g_option_context_parse (context, argc, argv, &error))
    return OOMCTL_EXIT_OK;
  return oomctl_usage_error ("%s", error->message);
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
    return oomctl_usage_error ("unexpected argument '%s'", (*argv)[1]);
  return status;
}
