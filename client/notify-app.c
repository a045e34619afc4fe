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

/* A container or pod, by the names the node gave (else by the container's short id). */
static char *
container_words (GVariant *details)
{
  const char *ns = "", *pod = NULL, *name = NULL, *id = NULL;

  g_variant_lookup (details, OOMWATCH_KEY_POD_NAMESPACE, "&s", &ns);
  g_variant_lookup (details, OOMWATCH_KEY_POD_NAME, "&s", &pod);
  g_variant_lookup (details, OOMWATCH_KEY_CONTAINER_NAME, "&s", &name);
  g_variant_lookup (details, OOMWATCH_KEY_CONTAINER_ID, "&s", &id);
  if (name != NULL && pod != NULL)
    return g_strdup_printf (_ ("Container %s of pod %s/%s"), name, ns, pod);
  if (pod != NULL)
    return g_strdup_printf (_ ("Pod %s/%s"), ns, pod);
  if (id != NULL)
    return g_strdup_printf (_ ("Container %.12s"), id);
  return NULL;
}

/* What the details tell: the app's desktop entry, else the container, else the unit, else the
 * process. The app-id
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
    app->name = container_words (details);
  if (app->name == NULL)
    app->name = g_strdup (unit ?: comm ?: _ ("A process"));
  app->key = g_strdup (app_id != NULL && app_id[0] != '\0' ? app_id : app->name);
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
  g_free (app->key);
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

/* What the user knows the app by, and asks not to be warned about again. */
const char *
notify_app_key (const NotifyApp *app)
{
  return app->key;
}

/* One body line per kill: the app first; the cgroup's path is for the details. */
char *
notify_app_describe_kill (const NotifyApp *app, const char *cgroup, const char *kind,
                          guint64 count, GVariant *details)
{
  const char *comm = NULL, *reason = NULL;
  g_autofree char *leaf = g_path_get_basename (cgroup);
  guint32 pid = 0;

  g_variant_lookup (details, OOMWATCH_KEY_COMM, "&s", &comm);
  g_variant_lookup (details, OOMWATCH_KEY_REASON, "&s", &reason);
  if (strcmp (kind, OOMWATCH_KIND_OOMD_KILL) == 0)
    return g_strdup_printf (_ ("%s: stopped by systemd-oomd (%s)"), app->name,
                            notify_app_reason_text (reason));
  if (g_variant_lookup (details, OOMWATCH_KEY_PID, "u", &pid) && g_strcmp0 (app->name, comm) != 0)
    return g_strdup_printf (_ ("%s: %s (pid %u)"), app->name, comm ?: "?", pid);
  if (pid != 0)
    return g_strdup_printf (_ ("%s (pid %u)"), comm ?: "?", pid);
  return g_strdup_printf (ngettext ("%u process in %s", "%u processes in %s", (gulong)count),
                          (guint)count, leaf);
}

char *
notify_app_describe_summary (const NotifyApp *app, const char *kind, GVariant *details)
{
  const char *reason = NULL;
  guint64 anon, shmem = 0, limit;

  /* What the victim had charged: its anonymous and shared memory (its file pages are mostly
   * libraries, charged to whoever read them first). */
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

/* A line of "Show details": when, the body's line, and the cgroups. */
void
notify_app_append_details (GString *text, const NotifyApp *app, const char *cgroup,
                           const char *kind, const char *line, GVariant *details)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *when = g_date_time_format (now, "%F %T");
  const char *task_cgroup = NULL;

  g_variant_lookup (details, OOMWATCH_KEY_TASK_CGROUP, "&s", &task_cgroup);
  g_string_append_printf (text, "%s  %s  %s\n    %s: %s\n", when, kind, line, _ ("cgroup"),
                          task_cgroup ?: cgroup);
  if (app->desktop_id != NULL)
    g_string_append_printf (text, "    %s: %s.desktop\n", _ ("application"), app->desktop_id);
}
