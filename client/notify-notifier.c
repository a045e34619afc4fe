/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "notify-notifier.h"
#include "oomwatch-cgroup.h"
#include "oomwatch-names.h"

#include <glib/gi18n.h>
#include <string.h>

#define BODY_LINES 5

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
    {
      g_variant_get (reply, "(u)", &self->shown_id);
      notify_actions_shown (self->actions, self->shown_id);
    }
  if (self->dirty)
    send_notification (self);
}

static void
send_notification (Notifier *self)
{
  g_autoptr (GString) body = g_string_new (NULL);
  g_autofree char *summary = NULL;
  g_autofree char *details = NULL;
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
  /* The app's own entry: the shell shows the notification as the app's. No "category": none
   * of the specification's fits. */
  g_variant_builder_add (
      &hints, "{sv}", "desktop-entry",
      g_variant_new_string (app != NULL ? app->desktop_id : OOMWATCH_NOTIFY_DESKTOP_ID));
  details = g_strdup_printf ("%s\n%s\n", self->details->str,
                             _ ("More: oomctl history, journalctl -u oomwatchd"));
  self->in_flight = TRUE;
  g_dbus_connection_call (
      self->session, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
      "org.freedesktop.Notifications", "Notify",
      g_variant_new ("(su@s@s@s@as@a{sv}i)", "oomwatch", self->shown_id,
                     g_variant_new_string (app != NULL && app->icon != NULL ? app->icon
                                                                            : "dialog-warning"),
                     g_variant_new_string (summary), g_variant_new_string (body->str),
                     notify_actions_offer (self->actions, details,
                                           self->subject != NULL ? notify_app_key (self->subject)
                                                                 : NULL,
                                           self->subject != NULL ? self->subject->name : NULL),
                     g_variant_builder_end (&hints), -1),
      G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_notified, self);
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
  g_string_truncate (self->details, 0);
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

void
notifier_load_state (Notifier *self)
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

void
notifier_on_oom_event (OomwatchManager *manager, const char *cgroup, const char *kind, guint64 count,
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
  app = notify_app_resolve (details);
  if (notify_settings_ignores (self->settings, notify_app_key (app)))
    return;

  /* Not shown_id == 0: the id of the burst's first notification may still be on its way. */
  if (self->burst == 0 || now - self->shown_at > self->coalesce_usec)
    start_burst (self);
  keyed = key != NULL;
  if (keyed && !g_hash_table_add (self->seen, g_steal_pointer (&key)))
    return;
  if (!keyed && strcmp (kind, OOMWATCH_KIND_OOM_KILL) == 0 && unnamed_again (self, cgroup))
    return;
  line = notify_app_describe_kill (app, cgroup, kind, count, details);
  notify_app_append_details (self->details, app, cgroup, kind, line, details);
  self->shown_at = now;
  if (self->burst == 0)
    {
      self->first_summary = notify_app_describe_summary (app, kind, details);
      self->subject = g_steal_pointer (&app);
    }
  else if (self->subject != NULL && !notify_app_same (self->subject, app))
    g_clear_pointer (&self->subject, notify_app_free);
  self->burst += !keyed && count > 1 ? (guint)count : 1;
  g_queue_push_head (&self->lines, g_markup_escape_text (line, -1));
  send_notification (self);
}

/* How many of the cgroups asked for are watched now */
guint
notifier_watch_prefixes (Notifier *self)
{
  guint watched = 0;

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
        {
          g_debug ("watching %s", canonical);
          watched++;
        }
    }
  return watched;
}

/* Shows the kills of the window that were not shown yet, through the same path as live ones:
 * they coalesce into one notification. */
void
notifier_catch_up (Notifier *self)
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
      notifier_on_oom_event (self->manager, cgroup, kind, count, details, self);
    }
}

void
notifier_on_name_owner (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  Notifier *self = user_data;
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (object));

  /* oomwatchd restarted: our watches went with the old one. */
  if (owner != NULL)
    {
      notifier_watch_prefixes (self);
      notifier_catch_up (self);
    }
}

