/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "notify-settings.h"
#include "oomwatch-names.h"

#include <errno.h>

struct NotifySettings
{
  char *path;
  GKeyFile *file;
};

/* Read again before each look: the user may edit the file while the notifier runs. */
static void
reload (NotifySettings *settings)
{
  g_autoptr (GError) error = NULL;

  g_key_file_unref (settings->file);
  settings->file = g_key_file_new ();
  if (!g_key_file_load_from_file (settings->file, settings->path, G_KEY_FILE_KEEP_COMMENTS,
                                  &error)
      && !g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    g_warning ("Ignoring %s: %s", settings->path, error->message);
}

NotifySettings *
notify_settings_load (void)
{
  NotifySettings *settings = g_new0 (NotifySettings, 1);

  settings->path = g_build_filename (g_get_user_config_dir (), "oomwatch", "notify.conf", NULL);
  settings->file = g_key_file_new ();
  reload (settings);
  return settings;
}

void
notify_settings_free (NotifySettings *settings)
{
  if (settings == NULL)
    return;
  g_key_file_unref (settings->file);
  g_free (settings->path);
  g_free (settings);
}

gboolean
notify_settings_ignores (NotifySettings *settings, const char *app)
{
  g_auto (GStrv) apps = NULL;

  reload (settings);
  apps = g_key_file_get_string_list (settings->file, OOMWATCH_NOTIFY_GROUP,
                                     OOMWATCH_NOTIFY_IGNORED_APPS, NULL, NULL);
  return apps != NULL && g_strv_contains ((const char *const *)apps, app);
}

gboolean
notify_settings_ignore (NotifySettings *settings, const char *app, GError **error)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) apps = NULL;
  g_auto (GStrv) now = NULL;
  g_autofree char *dir = g_path_get_dirname (settings->path);

  if (notify_settings_ignores (settings, app))
    return TRUE;
  apps = g_key_file_get_string_list (settings->file, OOMWATCH_NOTIFY_GROUP,
                                     OOMWATCH_NOTIFY_IGNORED_APPS, NULL, NULL);
  if (apps != NULL)
    g_strv_builder_addv (builder, (const char **)apps);
  g_strv_builder_add (builder, app);
  now = g_strv_builder_end (builder);
  g_key_file_set_string_list (settings->file, OOMWATCH_NOTIFY_GROUP, OOMWATCH_NOTIFY_IGNORED_APPS,
                              (const char *const *)now, g_strv_length (now));
  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "Cannot create %s", dir);
      return FALSE;
    }
  return g_key_file_save_to_file (settings->file, settings->path, error);
}
