/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The file is a GKeyFile:
 *   [Daemon]  ClientWatchLimit=256  TotalWatchLimit=0  KernelLog=true
 *   [Watches] Watch=/a;/b           RecursiveWatch=/user.slice
 *   [Daemon]  HistorySize=1024      MetricsFile=/var/lib/prometheus/node-exporter/oomwatch.prom
 *   [Daemon]  MetricsRetention=600
 *   [Daemon]  PodLogDirectory=/var/log/pods  ContainerLogDirectory=/var/log/containers
 * A missing file means the defaults; anything unknown or mistyped is an error, so a typo
 * never silently changes what the daemon does. */
#include "ow-config.h"
#include "oomwatch-error.h"

#include <string.h>

static const struct
{
  const char *group;
  const char *keys[9];
} known[] = {
  { "Daemon",
    { "ClientWatchLimit", "TotalWatchLimit", "KernelLog", "HistorySize", "MetricsFile",
      "MetricsRetention", "PodLogDirectory", "ContainerLogDirectory", NULL } },
  { "Watches", { "Watch", "RecursiveWatch", NULL } },
};

OwConfig *
ow_config_new (void)
{
  OwConfig *config = g_new0 (OwConfig, 1);

  config->client_watch_limit = -1;
  config->total_watch_limit = -1;
  config->kernel_log = -1;
  config->history_size = -1;
  config->metrics_retention = -1;
  config->watches = g_new0 (char *, 1);
  config->recursive_watches = g_new0 (char *, 1);
  return config;
}

void
ow_config_free (OwConfig *config)
{
  if (config == NULL)
    return;
  g_strfreev (config->watches);
  g_strfreev (config->recursive_watches);
  g_free (config->metrics_file);
  g_free (config->pod_log_directory);
  g_free (config->container_log_directory);
  g_free (config);
}

static gboolean
check_known (GKeyFile *file, const char *path, GError **error)
{
  g_auto (GStrv) groups = g_key_file_get_groups (file, NULL);

  for (gsize i = 0; groups[i] != NULL; i++)
    {
      g_auto (GStrv) keys = g_key_file_get_keys (file, groups[i], NULL, NULL);
      gssize g = -1;

      for (gsize k = 0; k < G_N_ELEMENTS (known); k++)
        if (strcmp (groups[i], known[k].group) == 0)
          g = (gssize)k;
      if (g < 0)
        {
          g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED, "%s: unknown group [%s]", path,
                       groups[i]);
          return FALSE;
        }
      for (gsize j = 0; keys != NULL && keys[j] != NULL; j++)
        if (!g_strv_contains (known[g].keys, keys[j]))
          {
            g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED, "%s: unknown key %s in [%s]",
                         path, keys[j], groups[i]);
            return FALSE;
          }
    }
  return TRUE;
}

static gboolean
read_limit (GKeyFile *file, const char *path, const char *key, int *value, GError **error)
{
  g_autoptr (GError) local = NULL;
  int read;

  if (!g_key_file_has_key (file, "Daemon", key, NULL))
    return TRUE;
  read = g_key_file_get_integer (file, "Daemon", key, &local);
  if (local != NULL || read < 0)
    {
      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED,
                   "%s: %s must be a whole number of 0 or more", path, key);
      return FALSE;
    }
  *value = read;
  return TRUE;
}

/* The textfile collector reads only *.prom files of its directory. */
static gboolean
read_metrics_file (GKeyFile *file, const char *path, char **value, GError **error)
{
  g_autofree char *read = NULL;

  if (!g_key_file_has_key (file, "Daemon", "MetricsFile", NULL))
    return TRUE;
  read = g_key_file_get_string (file, "Daemon", "MetricsFile", NULL);
  if (read == NULL || !g_path_is_absolute (read) || !g_str_has_suffix (read, ".prom"))
    {
      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED,
                   "%s: MetricsFile must be an absolute path ending in .prom", path);
      return FALSE;
    }
  *value = g_steal_pointer (&read);
  return TRUE;
}

/* An absolute directory, or empty: off. */
static gboolean
read_directory (GKeyFile *file, const char *path, const char *key, char **value, GError **error)
{
  g_autofree char *read = NULL;

  if (!g_key_file_has_key (file, "Daemon", key, NULL))
    return TRUE;
  read = g_key_file_get_string (file, "Daemon", key, NULL);
  if (read == NULL || (read[0] != '\0' && !g_path_is_absolute (read)))
    {
      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED,
                   "%s: %s must be an absolute path, or empty for none", path, key);
      return FALSE;
    }
  *value = g_steal_pointer (&read);
  return TRUE;
}

static GStrv
read_list (GKeyFile *file, const char *key)
{
  GStrv list = g_key_file_get_string_list (file, "Watches", key, NULL, NULL);

  if (list == NULL)
    list = g_new0 (char *, 1);
  return list;
}

OwConfig *
ow_config_load (const char *path, GError **error)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autoptr (OwConfig) config = ow_config_new ();
  g_autoptr (GError) local = NULL;

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&config);
      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED, "%s: %s", path, local->message);
      return NULL;
    }
  config->read = TRUE;
  if (!check_known (file, path, error)
      || !read_limit (file, path, "ClientWatchLimit", &config->client_watch_limit, error)
      || !read_limit (file, path, "TotalWatchLimit", &config->total_watch_limit, error)
      || !read_limit (file, path, "HistorySize", &config->history_size, error)
      || !read_limit (file, path, "MetricsRetention", &config->metrics_retention, error)
      || !read_metrics_file (file, path, &config->metrics_file, error)
      || !read_directory (file, path, "PodLogDirectory", &config->pod_log_directory, error)
      || !read_directory (file, path, "ContainerLogDirectory", &config->container_log_directory,
                          error))
    return NULL;
  if (g_key_file_has_key (file, "Daemon", "KernelLog", NULL))
    {
      gboolean on = g_key_file_get_boolean (file, "Daemon", "KernelLog", &local);

      if (local != NULL)
        {
          g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED,
                       "%s: KernelLog must be true or false", path);
          return NULL;
        }
      config->kernel_log = on;
    }
  g_strfreev (config->watches);
  g_strfreev (config->recursive_watches);
  config->watches = read_list (file, "Watch");
  config->recursive_watches = read_list (file, "RecursiveWatch");
  return g_steal_pointer (&config);
}

static int
pick (int override, int from_file, int fallback)
{
  return override >= 0 ? override : from_file >= 0 ? from_file : fallback;
}

void
ow_config_merge (const OwConfig *file, const OwConfig *overrides, guint fd_watch_limit,
                 OwSettings *settings)
{
  int total = pick (overrides->total_watch_limit, file->total_watch_limit, 0);

  settings->client_watch_limit = (guint)pick (
      overrides->client_watch_limit, file->client_watch_limit, OW_DEFAULT_CLIENT_WATCH_LIMIT);
  settings->total_watch_limit = total > 0 ? MIN ((guint)total, fd_watch_limit) : fd_watch_limit;
  settings->kernel_log = pick (overrides->kernel_log, file->kernel_log, TRUE);
}
