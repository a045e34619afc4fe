/* oomwatch-notify: runs in a user's session and turns OomEvent signals from the system bus into
 * desktop notifications (org.freedesktop.Notifications on the session bus). A burst of kills
 * updates one notification in place (replaces_id) instead of piling up fifty. */
#include "oomwatch-error.h"
#include "oomwatch-cgroup.h"
#include "oomwatch-generated.h"
#include "oomwatch-names.h"
#include "oomwatch-notify-pressure.h"

#include <glib-unix.h>
#include <locale.h>
#include <string.h>
#include <unistd.h>

#define BODY_LINES 5

typedef struct
{
  GMainLoop *loop;
  OomwatchManager *manager;
  GDBusConnection *session;
  GStrv prefixes; /* canonical cgroups whose subtree is ours */
  GStrv kinds;
  gboolean watch;
  guint32 uid;
  gint64 coalesce_usec;
  NotifyPressure *pressure; /* --pressure: NULL when off */

  /* The notification being updated, and what it shows. */
  guint32 shown_id;
  gint64 shown_at;
  guint burst;
  GQueue lines;        /* newest first */
  GHashTable *seen;    /* pids already in this burst: one kill is told once */
  gboolean in_flight;  /* a Notify call awaits its id */
  gboolean dirty;      /* something came in meanwhile */
  int status;
} Notifier;

static gboolean
in_prefixes (Notifier *self, const char *cgroup)
{
  for (gsize i = 0; self->prefixes[i] != NULL; i++)
    {
      if (oomwatch_cgroup_is_at_or_below (cgroup, self->prefixes[i]))
        return TRUE;
    }
  return FALSE;
}

static void send_notification (Notifier *self);

static void
on_notified (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Notifier *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result,
                                                              &error);

  self->in_flight = FALSE;
  if (reply == NULL)
    g_warning ("Cannot show a notification: %s", error->message);
  else
    g_variant_get (reply, "(u)", &self->shown_id);
  if (self->dirty)
    send_notification (self);
}

static void
send_notification (Notifier *self)
{
  g_autoptr (GString) body = g_string_new (NULL);
  g_autofree char *summary = NULL;
  GVariantBuilder hints;
  guint n = 0;

  if (self->in_flight)
    {
      self->dirty = TRUE; /* the id is not known yet: update once it is */
      return;
    }
  self->dirty = FALSE;
  for (GList *l = self->lines.head; l != NULL && n < BODY_LINES; l = l->next, n++)
    g_string_append_printf (body, "%s%s", n > 0 ? "\n" : "", (const char *) l->data);
  if (self->burst > BODY_LINES)
    g_string_append_printf (body, "\n… and %u more", self->burst - BODY_LINES);
  summary = self->burst == 1 ? g_strdup ("A process ran out of memory and was killed")
                             : g_strdup_printf ("%u processes ran out of memory and were killed",
                                                self->burst);

  g_variant_builder_init (&hints, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&hints, "{sv}", "urgency", g_variant_new_byte (2)); /* critical */
  g_variant_builder_add (&hints, "{sv}", "category", g_variant_new_string ("system"));
  g_variant_builder_add (&hints, "{sv}", "desktop-entry", g_variant_new_string ("oomwatch-notify"));
  self->in_flight = TRUE;
  g_dbus_connection_call (self->session, "org.freedesktop.Notifications",
                          "/org/freedesktop/Notifications", "org.freedesktop.Notifications",
                          "Notify",
                          g_variant_new ("(susssasa{sv}i)", "oomwatch", self->shown_id,
                                         "dialog-warning", summary, body->str, NULL, &hints, -1),
                          G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_notified,
                          self);
}

static char *
describe_kill (const char *cgroup, guint64 count, GVariant *details)
{
  const char *comm = NULL, *task_cgroup = NULL;
  guint32 pid = 0;

  g_variant_lookup (details, OOMWATCH_KEY_COMM, "&s", &comm);
  g_variant_lookup (details, OOMWATCH_KEY_TASK_CGROUP, "&s", &task_cgroup);
  if (g_variant_lookup (details, OOMWATCH_KEY_PID, "u", &pid))
    return g_strdup_printf ("%s (pid %u) in %s", comm ?: "?", pid, task_cgroup ?: cgroup);
  return g_strdup_printf ("%" G_GUINT64_FORMAT " process%s in %s", count, count == 1 ? "" : "es",
                          cgroup);
}

static void
on_oom_event (OomwatchManager *manager, const char *cgroup, const char *kind, guint64 count,
              GVariant *details, gpointer user_data)
{
  Notifier *self = user_data;
  gint64 now = g_get_monotonic_time ();
  guint32 pid = 0, uid = G_MAXUINT32;
  gboolean has_pid = g_variant_lookup (details, OOMWATCH_KEY_PID, "u", &pid);

  if (!g_strv_contains ((const char *const *) self->kinds, kind))
    return;
  g_variant_lookup (details, OOMWATCH_KEY_UID, "u", &uid);
  if (!in_prefixes (self, cgroup) && !(strcmp (kind, OOMWATCH_KIND_OOM_KILL) == 0 && uid == self->uid))
    return;

  /* Not shown_id == 0: the id of the burst's first notification may still be on its way. */
  if (self->burst == 0 || now - self->shown_at > self->coalesce_usec)
    {
      /* A new burst: a new notification. */
      self->shown_id = 0;
      self->burst = 0;
      g_queue_clear_full (&self->lines, g_free);
      g_hash_table_remove_all (self->seen);
    }
  /* A kill below several watched cgroups is signalled on each: tell it once. */
  if (has_pid && !g_hash_table_add (self->seen, GUINT_TO_POINTER (pid)))
    return;
  self->shown_at = now;
  self->burst += has_pid ? 1 : (guint) count;
  g_queue_push_head (&self->lines, describe_kill (cgroup, count, details));
  send_notification (self);
}

static void
watch_prefixes (Notifier *self)
{
  for (gsize i = 0; self->watch && self->prefixes[i] != NULL; i++)
    {
      g_auto (GVariantDict) options = G_VARIANT_DICT_INIT (NULL);
      g_autoptr (GError) error = NULL;
      g_autofree char *canonical = NULL;

      g_variant_dict_insert (&options, OOMWATCH_KEY_RECURSIVE, "b", TRUE);
      notify_pressure_add_option (self->pressure, &options);
      if (!oomwatch_manager_call_watch_sync (self->manager, self->prefixes[i],
                                             g_variant_dict_end (&options), G_DBUS_CALL_FLAGS_NONE,
                                             -1, &canonical, NULL, &error))
        {
          g_dbus_error_strip_remote_error (error);
          g_warning ("Not watching %s: %s", self->prefixes[i], error->message);
        }
      else
        g_debug ("watching %s", canonical);
    }
}

static void
on_name_owner (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  Notifier *self = user_data;
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (object));

  /* oomwatchd restarted: our watches went with the old one. */
  if (owner != NULL)
    watch_prefixes (self);
}

static void
on_session_closed (GDBusConnection *connection, gboolean remote_peer_vanished, GError *error,
                   gpointer user_data)
{
  Notifier *self = user_data;

  g_printerr ("oomwatch-notify: the session bus went away\n");
  self->status = 1;
  g_main_loop_quit (self->loop);
}

static gboolean
on_quit (gpointer user_data)
{
  g_main_loop_quit (((Notifier *) user_data)->loop);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  g_auto (GStrv) prefixes = NULL;
  g_auto (GStrv) kinds = NULL;
  gboolean no_watch = FALSE, verbose = FALSE;
  int coalesce = 10;
  g_autofree char *pressure_level = NULL;
  const GOptionEntry entries[] = {
    { "pressure", 'p', 0, G_OPTION_ARG_STRING, &pressure_level,
      "Also warn of memory pressure at LEVEL or above (low, medium, critical; default: off)",
      "LEVEL" },
    { "cgroup", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &prefixes,
      "Notify for this cgroup and everything below it (repeatable; default: your user slice)",
      "CGROUP" },
    { "kind", 'k', 0, G_OPTION_ARG_STRING_ARRAY, &kinds,
      "Notify for this kind of event (repeatable; default: oom-kill)", "KIND" },
    { "no-watch", 0, 0, G_OPTION_ARG_NONE, &no_watch,
      "Do not ask oomwatchd to watch: use the watches others (or its config) hold", NULL },
    { "coalesce", 0, 0, G_OPTION_ARG_INT, &coalesce,
      "Seconds during which new kills update the last notification (default 10)", "SEC" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log debug messages", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  Notifier self = { 0 };

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context, "Show a desktop notification when a process is "
                                         "OOM-killed.");
  if (!g_option_context_parse (context, &argc, &argv, &error) || coalesce < 0)
    {
      g_printerr ("oomwatch-notify: %s\n", error != NULL ? error->message : "bad --coalesce");
      return 2;
    }
  if (verbose)
    g_log_set_debug_enabled (TRUE);

  self.uid = (guint32) getuid ();
  if (prefixes == NULL)
    {
      prefixes = g_new0 (char *, 2);
      prefixes[0] = g_strdup_printf ("/user.slice/user-%u.slice", self.uid);
    }
  if (kinds == NULL)
    kinds = g_strsplit (OOMWATCH_KIND_OOM_KILL, ",", -1);
  self.prefixes = prefixes;
  self.kinds = kinds;
  self.watch = !no_watch;
  self.coalesce_usec = (gint64) coalesce * G_USEC_PER_SEC;
  self.seen = seen;
  g_queue_init (&self.lines);

  (void) OOMWATCH_ERROR;
  self.session = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (self.session == NULL)
    {
      g_printerr ("oomwatch-notify: no session bus: %s\n", error->message);
      return 1;
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

  loop = g_main_loop_new (NULL, FALSE);
  self.loop = loop;
  g_dbus_connection_set_exit_on_close (self.session, FALSE);
  g_signal_connect (self.session, "closed", G_CALLBACK (on_session_closed), &self);
  g_signal_connect (self.manager, "oom-event", G_CALLBACK (on_oom_event), &self);
  /* At most one warning in 5 minutes. */
  self.pressure = notify_pressure_new (self.session, self.manager, pressure_level, 300);
  g_signal_connect (self.manager, "notify::g-name-owner", G_CALLBACK (on_name_owner), &self);
  g_unix_signal_add (SIGINT, on_quit, &self);
  g_unix_signal_add (SIGTERM, on_quit, &self);
  watch_prefixes (&self);
  g_main_loop_run (loop);

  g_clear_pointer (&self.pressure, notify_pressure_free);
  g_signal_handlers_disconnect_by_data (self.manager, &self);
  g_signal_handlers_disconnect_by_data (self.session, &self);
  g_queue_clear_full (&self.lines, g_free);
  g_object_unref (self.manager);
  g_object_unref (self.session);
  return self.status;
}
