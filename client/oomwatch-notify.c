/* oomwatch-notify: runs in a user's session and turns OomEvent signals from the system bus into
 * desktop notifications (org.freedesktop.Notifications on the session bus) that name the
 * application, as its desktop entry does. A burst of kills updates one notification in place
 * (replaces_id) instead of piling up fifty. On start, and when oomwatchd comes back after a
 * restart, it shows what it missed (History(), within a window, as one burst); the last seq
 * shown is kept in the user's state directory, so a kill is never told twice, not even across
 * restarts of the notifier. */
#include "notify-app.h"
#include "oomwatch-error.h"
#include "oomwatch-cgroup.h"
#include "oomwatch-generated.h"
#include "oomwatch-names.h"
#include "oomwatch-notify-pressure.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
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
  GQueue lines;        /* newest first, markup-escaped */
  GHashTable *seen;    /* "pid:N" and "cgroup:PATH" already in this burst: one kill is told once */
  GPtrArray *unnamed;  /* cgroups of this burst's kills without a name */
  NotifyApp *subject;  /* what every kill of the burst so far stopped; NULL: several */
  char *first_summary; /* the summary while the burst holds one kill */
  gboolean in_flight;  /* a Notify call awaits its id */
  gboolean dirty;      /* something came in meanwhile */
  int status;

  /* What was shown already, by the daemon's seq (issue 16) */
  gint64 missed_window_usec; /* 0: do not catch up */
  char *state_path;
  char *epoch; /* of the daemon's seq numbers */
  guint64 last_seq;
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
  g_autoptr (GVariant) reply
      = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);

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
  const NotifyApp *app
      = self->subject != NULL && self->subject->desktop_id != NULL ? self->subject : NULL;
  GVariantBuilder hints;
  guint n = 0;

  if (self->in_flight)
    {
      self->dirty = TRUE; /* the id is not known yet: update once it is */
      return;
    }
  self->dirty = FALSE;
  for (GList *l = self->lines.head; l != NULL && n < BODY_LINES; l = l->next, n++)
    g_string_append_printf (body, "%s%s", n > 0 ? "\n" : "", (const char *)l->data);
  if (self->burst > BODY_LINES)
    g_string_append_printf (body, _ ("\n… and %u more"), self->burst - BODY_LINES);
  if (self->burst == 1)
    summary = g_strdup (self->first_summary);
  else
    summary = g_strdup_printf (ngettext ("%u process ran out of memory and was stopped",
                                         "%u processes ran out of memory and were stopped",
                                         self->burst),
                               self->burst);

  g_variant_builder_init (&hints, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&hints, "{sv}", "urgency", g_variant_new_byte (2)); /* critical */
  g_variant_builder_add (&hints, "{sv}", "category", g_variant_new_string ("system"));
  /* The app's own entry: the shell shows the notification as the app's. */
  g_variant_builder_add (&hints, "{sv}", "desktop-entry",
                         g_variant_new_string (app != NULL ? app->desktop_id : "oomwatch-notify"));
  self->in_flight = TRUE;
  g_dbus_connection_call (
      self->session, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
      "org.freedesktop.Notifications", "Notify",
      g_variant_new ("(susssasa{sv}i)", "oomwatch", self->shown_id,
                     app != NULL && app->icon != NULL ? app->icon : "dialog-warning", summary,
                     body->str, NULL, &hints, -1),
      G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_notified, self);
}

/* One body line per kill. */
static char *
describe_kill (const char *cgroup, const char *kind, guint64 count, GVariant *details,
               const NotifyApp *app)
{
  const char *comm = NULL, *task_cgroup = NULL, *reason = NULL;
  guint32 pid = 0;

  g_variant_lookup (details, OOMWATCH_KEY_COMM, "&s", &comm);
  g_variant_lookup (details, OOMWATCH_KEY_TASK_CGROUP, "&s", &task_cgroup);
  g_variant_lookup (details, OOMWATCH_KEY_REASON, "&s", &reason);
  if (strcmp (kind, OOMWATCH_KIND_OOMD_KILL) == 0)
    return g_strdup_printf (_ ("%s: stopped by systemd-oomd (%s) in %s"), app->name,
                            notify_app_reason_text (reason), task_cgroup ?: cgroup);
  if (g_variant_lookup (details, OOMWATCH_KEY_PID, "u", &pid) && app->desktop_id != NULL)
    return g_strdup_printf (_ ("%s: %s (pid %u) in %s"), app->name, comm ?: "?", pid,
                            task_cgroup ?: cgroup);
  if (pid != 0)
    return g_strdup_printf (_ ("%s (pid %u) in %s"), comm ?: "?", pid, task_cgroup ?: cgroup);
  return g_strdup_printf (ngettext ("%u process in %s", "%u processes in %s", (gulong)count),
                          (guint)count, cgroup);
}

static char *
describe_summary (const char *kind, GVariant *details, const NotifyApp *app)
{
  const char *reason = NULL;

  guint64 anon, shmem = 0, limit;

  /* What the victim had charged: its anonymous and shared memory (its file pages are
   * mostly libraries, charged to whoever read them first) */
  if (strcmp (kind, OOMWATCH_KIND_OOMD_KILL) != 0
      && g_variant_lookup (details, OOMWATCH_KEY_ANON_RSS, "t", &anon)
      && g_variant_lookup (details, OOMWATCH_KEY_LIMIT, "t", &limit))
    {
      g_autofree char *used = NULL;
      g_autofree char *of = NULL;

      g_variant_lookup (details, OOMWATCH_KEY_SHMEM_RSS, "t", &shmem);
      used = g_format_size (anon + shmem);
      of = g_format_size (limit);

      /* TRANSLATORS: "Firefox was stopped — it used 1.9 GB of its 2 GB limit" */
      return g_strdup_printf (_ ("%s was stopped — it used %s of its %s limit"), app->name, used,
                              of);
    }
  if (strcmp (kind, OOMWATCH_KIND_OOMD_KILL) != 0)
    return g_strdup_printf (_ ("%s was stopped — it ran out of memory"), app->name);
  g_variant_lookup (details, OOMWATCH_KEY_REASON, "&s", &reason);
  return g_strdup_printf (_ ("%s was stopped by systemd-oomd: %s"), app->name,
                          notify_app_reason_text (reason));
}

/* The same kill reaches us once per watched cgroup it is below: told once per burst. */
static char *
kill_key (const char *kind, GVariant *details)
{
  const char *task_cgroup = NULL;
  guint32 pid;

  if (g_variant_lookup (details, OOMWATCH_KEY_PID, "u", &pid))
    return g_strdup_printf ("pid:%u", pid);
  if (strcmp (kind, OOMWATCH_KIND_OOMD_KILL) == 0
      && g_variant_lookup (details, OOMWATCH_KEY_TASK_CGROUP, "&s", &task_cgroup))
    return g_strdup_printf ("cgroup:%s", task_cgroup);
  return NULL;
}

/* A kill without a name is signalled on each watched cgroup it is in or below (v2 counts it on
 * every ancestor; on v1 the daemon gives watched ancestors the same count): in one burst, one
 * on a cgroup nested in (or around) a cgroup already told is that same kill. Two kills in the
 * same cgroup are two. */
static gboolean
unnamed_again (Notifier *self, const char *cgroup)
{
  for (guint i = 0; i < self->unnamed->len; i++)
    {
      const char *told = g_ptr_array_index (self->unnamed, i);

      if (oomwatch_cgroup_is_below (told, cgroup) || oomwatch_cgroup_is_below (cgroup, told))
        return TRUE;
    }
  g_ptr_array_add (self->unnamed, g_strdup (cgroup));
  return FALSE;
}

static void
start_burst (Notifier *self)
{
  self->shown_id = 0;
  self->burst = 0;
  g_queue_clear_full (&self->lines, g_free);
  g_hash_table_remove_all (self->seen);
  g_ptr_array_set_size (self->unnamed, 0);
  g_clear_pointer (&self->subject, notify_app_free);
  g_clear_pointer (&self->first_summary, g_free);
}

static void
save_state (Notifier *self)
{
  g_autofree char *dir = g_path_get_dirname (self->state_path);
  g_autofree char *text = g_strdup_printf ("%s %" G_GUINT64_FORMAT "\n", self->epoch ?: "-",
                                           self->last_seq);
  g_autoptr (GError) error = NULL;

  if (g_mkdir_with_parents (dir, 0700) < 0
      || !g_file_set_contents_full (self->state_path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT,
                                    0600, &error))
    g_debug ("Cannot save %s: %s", self->state_path, error != NULL ? error->message : "mkdir");
}

static void
load_state (Notifier *self)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) fields = NULL;

  if (!g_file_get_contents (self->state_path, &text, NULL, NULL))
    return;
  fields = g_strsplit (g_strstrip (text), " ", 2);
  if (g_strv_length (fields) == 2)
    {
      self->epoch = g_strdup (fields[0]);
      self->last_seq = g_ascii_strtoull (fields[1], NULL, 10);
    }
}

/* FALSE for a signal told already (it came live and from History()). */
static gboolean
first_time (Notifier *self, GVariant *details)
{
  guint64 seq;

  if (!g_variant_lookup (details, OOMWATCH_KEY_SEQ, "t", &seq))
    return TRUE;
  if (seq <= self->last_seq)
    return FALSE;
  self->last_seq = seq;
  save_state (self);
  return TRUE;
}

static void
on_oom_event (OomwatchManager *manager, const char *cgroup, const char *kind, guint64 count,
              GVariant *details, gpointer user_data)
{
  Notifier *self = user_data;
  gint64 now = g_get_monotonic_time ();
  guint32 uid = G_MAXUINT32;
  g_autofree char *key = kill_key (kind, details);
  g_autofree char *line = NULL;
  g_autoptr (NotifyApp) app = NULL;
  gboolean keyed;

  if (!g_strv_contains ((const char *const *)self->kinds, kind))
    return;
  g_variant_lookup (details, OOMWATCH_KEY_UID, "u", &uid);
  if (!in_prefixes (self, cgroup)
      && !(strcmp (kind, OOMWATCH_KIND_OOM_KILL) == 0 && uid == self->uid))
    return;
  if (!first_time (self, details))
    return;

  /* Not shown_id == 0: the id of the burst's first notification may still be on its way. */
  if (self->burst == 0 || now - self->shown_at > self->coalesce_usec)
    start_burst (self);
  keyed = key != NULL;
  if (keyed && !g_hash_table_add (self->seen, g_steal_pointer (&key)))
    return;
  if (!keyed && strcmp (kind, OOMWATCH_KIND_OOM_KILL) == 0 && unnamed_again (self, cgroup))
    return;
  app = notify_app_resolve (details);
  line = describe_kill (cgroup, kind, count, details, app);
  self->shown_at = now;
  if (self->burst == 0)
    {
      self->first_summary = describe_summary (kind, details, app);
      self->subject = g_steal_pointer (&app);
    }
  else if (self->subject != NULL && !notify_app_same (self->subject, app))
    g_clear_pointer (&self->subject, notify_app_free);
  self->burst += !keyed && count > 1 ? (guint)count : 1;
  g_queue_push_head (&self->lines, g_markup_escape_text (line, -1));
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

/* Shows the kills of the window that were not shown yet, through the same path as live ones:
 * they coalesce into one notification. */
static void
catch_up (Notifier *self)
{
  g_auto (GVariantDict) options = G_VARIANT_DICT_INIT (NULL);
  g_autoptr (GVariant) events = NULL;
  g_autoptr (GVariant) info = NULL;
  g_autoptr (GError) error = NULL;
  const char *epoch = NULL;

  if (self->missed_window_usec == 0)
    return;
  g_variant_dict_insert (&options, "since", "t",
                         (guint64) MAX (g_get_real_time () - self->missed_window_usec, 1));
  if (!oomwatch_manager_call_history_sync (self->manager, 0, g_variant_dict_end (&options),
                                           G_DBUS_CALL_FLAGS_NONE, -1, &events, &info, NULL,
                                           &error))
    {
      g_dbus_error_strip_remote_error (error);
      g_warning ("Cannot ask what was missed: %s", error->message);
      return;
    }
  /* seq numbers of another epoch (boot, or lost runtime directory) say nothing of this one. */
  if (g_variant_lookup (info, "epoch", "&s", &epoch) && g_strcmp0 (epoch, self->epoch) != 0)
    {
      g_free (self->epoch);
      self->epoch = g_strdup (epoch);
      self->last_seq = 0;
    }
  for (gsize i = 0; i < g_variant_n_children (events); i++)
    {
      g_autoptr (GVariant) entry = g_variant_get_child_value (events, i);
      g_autoptr (GVariant) details = NULL;
      const char *signal = "", *cgroup = "", *kind = "";
      guint64 count = 0;

      g_variant_lookup (entry, "signal", "&s", &signal);
      if (strcmp (signal, "OomEvent") != 0
          || !g_variant_lookup (entry, "details", "@a{sv}", &details))
        continue;
      g_variant_lookup (entry, "cgroup", "&s", &cgroup);
      g_variant_lookup (entry, "kind", "&s", &kind);
      g_variant_lookup (entry, "count", "t", &count);
      on_oom_event (self->manager, cgroup, kind, count, details, self);
    }
}

static void
on_name_owner (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  Notifier *self = user_data;
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (object));

  /* oomwatchd restarted: our watches went with the old one. */
  if (owner != NULL)
    {
      watch_prefixes (self);
      catch_up (self);
    }
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
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, _ ("Show a desktop notification when an application "
                                            "or process is stopped for lack of memory."));
  if (!g_option_context_parse (context, &argc, &argv, &error) || coalesce < 0
      || missed_window < 0)
    {
      g_printerr ("oomwatch-notify: %s\n",
                  error != NULL ? error->message : "--coalesce and --missed-window must be >= 0");
      return 2;
    }
  if (verbose)
    g_log_set_debug_enabled (TRUE);

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
  load_state (&self);
  g_queue_init (&self.lines);

  (void)OOMWATCH_ERROR;
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
  catch_up (&self);
  g_main_loop_run (loop);

  g_clear_pointer (&self.pressure, notify_pressure_free);
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
