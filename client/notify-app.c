/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "notify-app.h"
#include "oomwatch-names.h"

#include <gio/gdesktopappinfo.h>
#include <glib/gi18n.h>
#include <string.h>

static char *
icon_to_string (GIcon *icon)
{
  if (G_IS_THEMED_ICON (icon))
    {
      const char *const *names = g_themed_icon_get_names (G_THEMED_ICON (icon));

      return names != NULL && names[0] != NULL ? g_strdup (names[0]) : NULL;
    }
  if (G_IS_FILE_ICON (icon))
    return g_file_get_uri (g_file_icon_get_file (G_FILE_ICON (icon)));
  return NULL;
}

/* What the details tell: the app's desktop entry, else the unit, else the process. The app-id
 * came through the daemon's parser (UTF-8, no '/'), so it is safe as a desktop file id. */
NotifyApp *
notify_app_resolve (GVariant *details)
{
  NotifyApp *app = g_new0 (NotifyApp, 1);
  const char *app_id = NULL, *unit = NULL, *comm = NULL;

  g_variant_lookup (details, OOMWATCH_KEY_APP_ID, "&s", &app_id);
  g_variant_lookup (details, OOMWATCH_KEY_UNIT, "&s", &unit);
  g_variant_lookup (details, OOMWATCH_KEY_COMM, "&s", &comm);
  if (app_id != NULL && app_id[0] != '\0' && strchr (app_id, '/') == NULL)
    {
      g_autofree char *file_id = g_strconcat (app_id, ".desktop", NULL);
      g_autoptr (GDesktopAppInfo) info = g_desktop_app_info_new (file_id);

      if (info != NULL)
        {
          GIcon *icon = g_app_info_get_icon (G_APP_INFO (info));

          app->name = g_strdup (g_app_info_get_name (G_APP_INFO (info)));
          app->icon = icon != NULL ? icon_to_string (icon) : NULL;
          app->desktop_id = g_strdup (app_id);
        }
      else
        g_debug ("No desktop entry %s", file_id);
    }
  if (app->name == NULL)
    app->name = g_strdup (unit ?: comm ?: _ ("A process"));
  return app;
}

void
notify_app_free (NotifyApp *app)
{
  if (app == NULL)
    return;
  g_free (app->name);
  g_free (app->icon);
  g_free (app->desktop_id);
  g_free (app);
}

gboolean
notify_app_same (const NotifyApp *a, const NotifyApp *b)
{
  return g_strcmp0 (a->name, b->name) == 0 && g_strcmp0 (a->desktop_id, b->desktop_id) == 0;
}

/* systemd-oomd's reasons, in words; one it does not know yet stays as it came. */
const char *
notify_app_reason_text (const char *reason)
{
  if (g_strcmp0 (reason, "memory-pressure") == 0)
    return _ ("memory pressure");
  if (g_strcmp0 (reason, "memory-used") == 0)
    return _ ("too much memory and swap in use");
  return reason != NULL ? reason : _ ("unknown reason");
}
