/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomwatch-notify: runs in a user's session and turns OomEvent signals from the system bus into
 * desktop notifications (org.freedesktop.Notifications on the session bus) that name the
 * application, as its desktop entry does. A burst of kills updates one notification in place
 * (replaces_id) instead of piling up fifty. On start, and when oomwatchd comes back after a
 * restart, it shows what it missed (History(), within a window, as one burst); the last seq
 * shown is kept in the user's state directory, so a kill is never told twice, not even across
 * restarts of the notifier. */
#include "notify-notifier.h"
#include "oomwatch-error.h"
#include "oomwatch-names.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <unistd.h>

static void
on_session_closed (GDBusConnection *connection, gboolean remote_peer_vanished, GError *error,
                   gpointer user_data)
{
  Notifier *self = user_data;

  g_printerr ("oomwatch-notify: the session bus went away\n");
  self->status = 1;
  g_main_loop_quit (self->loop);
}

/* The kinds of event that tell of a stopped process */
static gboolean
valid_kinds (GStrv kinds)
{
  static const char *const known[]
      = { OOMWATCH_KIND_OOM_KILL, OOMWATCH_KIND_OOMD_KILL, OOMWATCH_KIND_OOM_GROUP_KILL,
          OOMWATCH_KIND_OOM, NULL };

  for (gsize i = 0; kinds != NULL && kinds[i] != NULL; i++)
    {
      if (!g_strv_contains (known, kinds[i]))
        {
          g_printerr (_ ("oomwatch-notify: unknown --kind “%s” (one of: %s)\n"), kinds[i],
                      "oom-kill, oomd-kill, oom-group-kill, oom");
          return FALSE;
        }
    }
  return TRUE;
}

/* One notifier per session (it may be started both by the autostart file and the user unit):
 * FALSE when another one holds the name. */
static gboolean
first_in_session (GDBusConnection *session)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      session, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "RequestName", g_variant_new ("(su)", OOMWATCH_NOTIFY_BUS_NAME, 4 /* DO_NOT_QUEUE */),
      G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  guint32 result = 0;

  if (reply == NULL)
    {
      g_warning ("Cannot take %s: %s", OOMWATCH_NOTIFY_BUS_NAME, error->message);
      return TRUE;
    }
  g_variant_get (reply, "(u)", &result);
  return result != 3 /* EXISTS */;
}

static gboolean
on_quit (gpointer user_data)
{
  g_main_loop_quit (((Notifier *)user_data)->loop);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  g_auto (GStrv) prefixes = NULL;
  g_auto (GStrv) kinds = NULL;
  gboolean no_watch = FALSE, verbose = FALSE;
  int coalesce = 10, missed_window = 3600;
  g_autofree char *pressure_level = NULL;
  const GOptionEntry entries[] = {
    { "pressure", 'p', 0, G_OPTION_ARG_STRING, &pressure_level,
      N_ ("Also warn of memory pressure at LEVEL or above (low, medium, critical; default: off)"),
      "LEVEL" },
    { "cgroup", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &prefixes,
      N_ ("Notify for this cgroup and everything below it (repeatable; default: your user slice)"),
      "CGROUP" },
    { "kind", 'k', 0, G_OPTION_ARG_STRING_ARRAY, &kinds,
      N_ ("Notify for this kind of event (repeatable; default: oom-kill and oomd-kill)"), "KIND" },
    { "no-watch", 0, 0, G_OPTION_ARG_NONE, &no_watch,
      N_ ("Do not ask oomwatchd to watch: use the watches others (or its config) hold"), NULL },
    { "coalesce", 0, 0, G_OPTION_ARG_INT, &coalesce,
      N_ ("Seconds during which new kills update the last notification (default 10)"), "SEC" },
    { "missed-window", 0, 0, G_OPTION_ARG_INT, &missed_window,
      N_ ("On start and when oomwatchd comes back, show kills of the last SEC seconds not shown "
          "yet (default 3600; 0: never)"),
      "SEC" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, N_ ("Log debug messages"), NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Notifier self = { 0 };

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, g_getenv (OOMWATCH_ENV_LOCALEDIR) ?: LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, _ ("Show a desktop notification when an application "
                                            "or process is stopped for lack of memory."));
  if (!g_option_context_parse (context, &argc, &argv, &error) || coalesce < 0
      || missed_window < 0 || argc > 1)
    {
      g_printerr ("oomwatch-notify: %s\n",
                  error != NULL ? error->message
                  : argc > 1    ? _ ("no arguments expected, only options")
                                : _ ("--coalesce and --missed-window must be >= 0"));
      return 2;
    }
  if (!valid_kinds (kinds))
    return 2;
  if (verbose)
    g_log_set_debug_enabled (TRUE);

  (void)OOMWATCH_ERROR;
  self.session = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (self.session == NULL)
    {
      g_printerr ("oomwatch-notify: no session bus: %s\n", error->message);
      return 1;
    }
  if (!first_in_session (self.session))
    {
      g_message ("Another oomwatch-notify runs in this session");
      g_object_unref (self.session);
      return 0;
    }
  self.manager = oomwatch_manager_proxy_new_for_bus_sync (
      G_BUS_TYPE_SYSTEM, G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES, OOMWATCH_BUS_NAME,
      OOMWATCH_OBJECT_PATH, NULL, &error);
  if (self.manager == NULL)
    {
      g_printerr ("oomwatch-notify: cannot reach oomwatchd: %s\n", error->message);
      g_object_unref (self.session);
      return 1;
    }

  self.uid = (guint32)getuid ();
  if (prefixes == NULL)
    {
      prefixes = g_new0 (char *, 2);
      prefixes[0] = g_strdup_printf ("/user.slice/user-%u.slice", self.uid);
    }
  if (kinds == NULL)
    kinds = g_strsplit (OOMWATCH_KIND_OOM_KILL "," OOMWATCH_KIND_OOMD_KILL, ",", -1);
  self.prefixes = prefixes;
  self.kinds = kinds;
  self.watch = !no_watch;
  self.coalesce_usec = (gint64)coalesce * G_USEC_PER_SEC;
  self.seen = seen;
  self.unnamed = g_ptr_array_new_with_free_func (g_free);
  self.missed_window_usec = (gint64) missed_window * G_USEC_PER_SEC;
  self.state_path = g_build_filename (g_get_user_state_dir (), "oomwatch-notify", "last-seq", NULL);
  notifier_load_state (&self);
  g_queue_init (&self.lines);


  loop = g_main_loop_new (NULL, FALSE);
  self.loop = loop;
  self.settings = notify_settings_load ();
  self.actions = notify_actions_new (self.session, self.settings);
  self.details = g_string_new (NULL);
  g_dbus_connection_set_exit_on_close (self.session, FALSE);
  g_signal_connect (self.session, "closed", G_CALLBACK (on_session_closed), &self);
  g_signal_connect (self.manager, "oom-event", G_CALLBACK (notifier_on_oom_event), &self);
  /* At most one warning in 5 minutes. */
  self.pressure = notify_pressure_new (self.session, self.manager, pressure_level, 300);
  g_signal_connect (self.manager, "notify::g-name-owner", G_CALLBACK (notifier_on_name_owner), &self);
  g_unix_signal_add (SIGINT, on_quit, &self);
  g_unix_signal_add (SIGTERM, on_quit, &self);
  if (self.watch && notifier_watch_prefixes (&self) == 0)
    {
      g_printerr (_ ("oomwatch-notify: nothing to watch: no cgroup given could be watched (see "
                     "above); use --cgroup, or --no-watch to rely on others' watches\n"));
      self.status = 1;
    }
  else
    {
      notifier_catch_up (&self);
      g_main_loop_run (loop);
    }

  g_clear_pointer (&self.pressure, notify_pressure_free);
  g_clear_pointer (&self.actions, notify_actions_free);
  g_clear_pointer (&self.settings, notify_settings_free);
  g_string_free (self.details, TRUE);
  g_signal_handlers_disconnect_by_data (self.manager, &self);
  g_signal_handlers_disconnect_by_data (self.session, &self);
  g_queue_clear_full (&self.lines, g_free);
  g_clear_pointer (&self.subject, notify_app_free);
  g_free (self.first_summary);
  g_free (self.state_path);
  g_ptr_array_unref (self.unnamed);
  g_free (self.epoch);
  g_object_unref (self.manager);
  g_object_unref (self.session);
  return self.status;
}
