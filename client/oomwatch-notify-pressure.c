/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "oomwatch-notify-pressure.h"
#include "oomwatch-cgroup.h"
#include "oomwatch-names.h"

#include <string.h>

struct _NotifyPressure
{
  GDBusConnection *session;
  OomwatchManager *manager;
  char *level;
  gint64 quiet_usec;
  char *warned;     /* the cgroup of the last warning */
  gint64 warned_at; /* when (monotonic) */
  char *summary, *body; /* what the warning says now */
  guint8 urgency;
  guint32 shown_id;      /* the notification to update; 0: a new one */
  gboolean in_flight;    /* a Notify call has no answer yet: SHOWN_ID is not known */
  gboolean outdated;     /* the warning changed meanwhile: shown again once it is */
  GCancellable *cancellable;
};

/* The last component names the unit or app well enough ("app-…-firefox-123.scope"). */
static const char *
short_name (const char *cgroup)
{
  const char *slash = strrchr (cgroup, '/');

  return slash != NULL && slash[1] != '\0' ? slash + 1 : cgroup;
}

static void show (NotifyPressure *self);

static void
on_notified (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply
      = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  NotifyPressure *self = user_data;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* SELF is gone */
  self->in_flight = FALSE;
  if (reply == NULL)
    g_warning ("Cannot show a notification: %s", error->message);
  else
    g_variant_get (reply, "(u)", &self->shown_id);
  if (self->outdated)
    show (self);
}

/* One Notify call at a time: an update must name the notification the last call made. */
static void
show (NotifyPressure *self)
{
  GVariantBuilder hints;

  if (self->in_flight)
    {
      self->outdated = TRUE;
      return;
    }
  self->outdated = FALSE;
  self->in_flight = TRUE;
  g_variant_builder_init (&hints, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&hints, "{sv}", "urgency", g_variant_new_byte (self->urgency));
  g_variant_builder_add (&hints, "{sv}", "desktop-entry",
                         g_variant_new_string (OOMWATCH_NOTIFY_DESKTOP_ID));
  g_dbus_connection_call (
      self->session, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
      "org.freedesktop.Notifications", "Notify",
      g_variant_new ("(susssasa{sv}i)", "oomwatch", self->shown_id, "dialog-information",
                     self->summary, self->body, NULL, &hints, -1),
      G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable, on_notified, self);
}

static void
on_memory_pressure (OomwatchManager *manager, const char *cgroup, const char *level,
                    GVariant *details, gpointer user_data)
{
  NotifyPressure *self = user_data;
  gint64 now = g_get_monotonic_time ();
  gboolean recent = self->warned != NULL && now - self->warned_at < self->quiet_usec;
  double some = 0;

  /* Pressure below a watched cgroup is signalled on it and on each watched ancestor: one
   * warning, naming the deepest; a recent one is updated in place for a deeper cgroup. */
  if (recent && !oomwatch_cgroup_is_below (cgroup, self->warned))
    return;
  if (!recent)
    {
      self->shown_id = 0;
      self->warned_at = now;
    }
  g_free (self->warned);
  self->warned = g_strdup (cgroup);
  g_free (self->summary);
  self->summary = g_strdup_printf ("Memory is running low in %s", short_name (cgroup));
  g_free (self->body);
  if (g_variant_lookup (details, OOMWATCH_KEY_SOME_AVG10, "d", &some))
    self->body = g_strdup_printf ("Pressure %s in %s: tasks waited for memory %.0f%% of the last "
                                  "10 s. Close something before a process is killed.",
                                  level, cgroup, some);
  else
    self->body = g_strdup_printf ("Pressure %s in %s. Close something before a process is killed.",
                                  level, cgroup);
  self->urgency = strcmp (level, OOMWATCH_PRESSURE_CRITICAL) == 0 ? 2 : 1;
  show (self);
}

NotifyPressure *
notify_pressure_new (GDBusConnection *session, OomwatchManager *manager, const char *level,
                     guint quiet_sec)
{
  NotifyPressure *self;

  if (level == NULL)
    return NULL;
  self = g_new0 (NotifyPressure, 1);
  self->session = g_object_ref (session);
  self->manager = g_object_ref (manager);
  self->level = g_strdup (level);
  self->quiet_usec = (gint64)quiet_sec * G_USEC_PER_SEC;
  self->cancellable = g_cancellable_new ();
  g_signal_connect (manager, "memory-pressure", G_CALLBACK (on_memory_pressure), self);
  return self;
}

void
notify_pressure_free (NotifyPressure *self)
{
  if (self == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->manager, self);
  g_cancellable_cancel (self->cancellable);
  g_object_unref (self->cancellable);
  g_object_unref (self->manager);
  g_object_unref (self->session);
  g_free (self->warned);
  g_free (self->summary);
  g_free (self->body);
  g_free (self->level);
  g_free (self);
}

void
notify_pressure_add_option (NotifyPressure *self, GVariantDict *options)
{
  if (self != NULL)
    g_variant_dict_insert (options, OOMWATCH_OPTION_PRESSURE, "s", self->level);
}
