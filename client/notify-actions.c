/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "notify-actions.h"
#include "oomwatch-names.h"

#include <errno.h>
#include <glib/gi18n.h>

struct NotifyActions
{
  GDBusConnection *session;
  NotifySettings *settings;
  guint subscription;
  guint32 id; /* of the notification shown last; 0: none yet */
  char *details;
  char *ignore_key;
};

static void
show_details (NotifyActions *self)
{
  g_autofree char *dir = g_build_filename (g_get_user_runtime_dir (), "oomwatch-notify", NULL);
  g_autofree char *path = g_build_filename (dir, "details.txt", NULL);
  g_autoptr (GError) error = NULL;
  const char *argv[] = { "xdg-open", path, NULL };

  if (g_mkdir_with_parents (dir, 0700) < 0
      || !g_file_set_contents_full (path, self->details, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                    &error)
      || !g_spawn_async (NULL, (char **)argv, NULL,
                         G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                         &error))
    g_warning ("Cannot show the details in %s: %s", path,
               error != NULL ? error->message : g_strerror (errno));
}

static void
on_action (GDBusConnection *connection, const char *sender, const char *path,
           const char *interface, const char *signal, GVariant *parameters, gpointer user_data)
{
  NotifyActions *self = user_data;
  g_autoptr (GError) error = NULL;
  const char *action = NULL;
  guint32 id = 0;

  g_variant_get (parameters, "(u&s)", &id, &action);
  if (id == 0 || id != self->id)
    return;
  if (g_strcmp0 (action, OOMWATCH_NOTIFY_ACTION_DETAILS) == 0)
    show_details (self);
  else if (g_strcmp0 (action, OOMWATCH_NOTIFY_ACTION_IGNORE) == 0 && self->ignore_key != NULL)
    {
      if (notify_settings_ignore (self->settings, self->ignore_key, &error))
        g_message ("No more warnings about %s", self->ignore_key);
      else
        g_warning ("Cannot save the setting: %s", error->message);
    }
}

NotifyActions *
notify_actions_new (GDBusConnection *session, NotifySettings *settings)
{
  NotifyActions *self = g_new0 (NotifyActions, 1);

  self->session = g_object_ref (session);
  self->settings = settings;
  self->subscription = g_dbus_connection_signal_subscribe (
      session, "org.freedesktop.Notifications", "org.freedesktop.Notifications", "ActionInvoked",
      "/org/freedesktop/Notifications", NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_action, self, NULL);
  return self;
}

void
notify_actions_free (NotifyActions *self)
{
  if (self == NULL)
    return;
  g_dbus_connection_signal_unsubscribe (self->session, self->subscription);
  g_object_unref (self->session);
  g_free (self->details);
  g_free (self->ignore_key);
  g_free (self);
}

GVariant *
notify_actions_offer (NotifyActions *self, const char *details, const char *ignore_key,
                      const char *ignore_name)
{
  GVariantBuilder actions;

  g_free (self->details);
  self->details = g_strdup (details);
  g_free (self->ignore_key);
  self->ignore_key = g_strdup (ignore_key);
  g_variant_builder_init (&actions, G_VARIANT_TYPE_STRING_ARRAY);
  g_variant_builder_add (&actions, "s", OOMWATCH_NOTIFY_ACTION_DETAILS);
  g_variant_builder_add (&actions, "s", _ ("Show details"));
  if (ignore_key != NULL)
    {
      g_autofree char *label = g_strdup_printf (_ ("Don’t warn about %s again"), ignore_name);

      g_variant_builder_add (&actions, "s", OOMWATCH_NOTIFY_ACTION_IGNORE);
      g_variant_builder_add (&actions, "s", label);
    }
  return g_variant_builder_end (&actions);
}

void
notify_actions_shown (NotifyActions *self, guint32 id)
{
  self->id = id;
}
