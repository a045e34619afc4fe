/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The configuration loader (ow_config_load) and what the daemon runs with (ow_config_merge). */
#include "ow-config.h"
#include "oomwatch-error.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("oomwatch-config-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "oomwatch.conf", NULL);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_unlink (f->path);
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static OwConfig *
load (Fixture *f, const char *contents, GError **error)
{
  g_assert_true (g_file_set_contents (f->path, contents, -1, NULL));
  return ow_config_load (f->path, error);
}

/* No file: nothing set, no watches. */
static void
test_missing (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (OwConfig) config = ow_config_load (f->path, &error);

  g_assert_no_error (error);
  g_assert_cmpint (config->client_watch_limit, ==, -1);
  g_assert_cmpint (config->total_watch_limit, ==, -1);
  g_assert_cmpint (config->kernel_log, ==, -1);
  g_assert_cmpstrv (config->watches, ((const char *const[]){ NULL }));
  g_assert_cmpstrv (config->recursive_watches, ((const char *const[]){ NULL }));
}

static void
test_full (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (OwConfig) config = load (f,
                                      "# comment\n"
                                      "[Daemon]\nClientWatchLimit=12\nTotalWatchLimit=0\n"
                                      "KernelLog=false\nMetricsRetention=30\n"
                                      "PodLogDirectory=/k/pods\nContainerLogDirectory=\n"
                                      "[Watches]\nWatch=/a;/b/c;\nRecursiveWatch=/user.slice\n",
                                      &error);

  g_assert_no_error (error);
  g_assert_cmpint (config->client_watch_limit, ==, 12);
  g_assert_cmpint (config->total_watch_limit, ==, 0);
  g_assert_cmpint (config->kernel_log, ==, 0);
  g_assert_cmpint (config->metrics_retention, ==, 30);
  g_assert_cmpstr (config->pod_log_directory, ==, "/k/pods");
  g_assert_cmpstr (config->container_log_directory, ==, "");
  g_assert_cmpstrv (config->watches, ((const char *const[]){ "/a", "/b/c", NULL }));
  g_assert_cmpstrv (config->recursive_watches, ((const char *const[]){ "/user.slice", NULL }));
}

/* Anything unknown or mistyped is an error naming the file and what was wrong: a typo never
 * silently changes what the daemon does. */
static void
test_errors (Fixture *f, gconstpointer data)
{
  const struct
  {
    const char *contents, *message;
  } cases[] = {
    { "[Deamon]\nKernelLog=true\n", "unknown group [Deamon]" },
    { "[Daemon]\nKernelLogs=true\n", "unknown key KernelLogs in [Daemon]" },
    { "[Watches]\nClientWatchLimit=3\n", "unknown key ClientWatchLimit in [Watches]" },
    { "[Daemon]\nClientWatchLimit=-1\n", "ClientWatchLimit must be a whole number" },
    { "[Daemon]\nTotalWatchLimit=many\n", "TotalWatchLimit must be a whole number" },
    { "[Daemon]\nKernelLog=maybe\n", "KernelLog must be true or false" },
    { "[Daemon]\nPodLogDirectory=var/log/pods\n", "PodLogDirectory must be an absolute path" },
    { "[Daemon]\nMetricsRetention=-5\n", "MetricsRetention must be a whole number" },
    { "not a key file\n", "" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (OwConfig) config = load (f, cases[i].contents, &error);

      g_test_message ("case %zu: %s", i, cases[i].contents);
      g_assert_null (config);
      g_assert_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED);
      g_assert_true (g_str_has_prefix (error->message, f->path));
      g_assert_nonnull (strstr (error->message, cases[i].message));
    }
}

/* The command line over the file over the defaults; the fd limit caps the total. */
static void
test_merge (Fixture *f, gconstpointer data)
{
  g_autoptr (OwConfig) file = ow_config_new ();
  g_autoptr (OwConfig) overrides = ow_config_new ();
  OwSettings settings;

  ow_config_merge (file, overrides, 1000, &settings);
  g_assert_cmpuint (settings.client_watch_limit, ==, OW_DEFAULT_CLIENT_WATCH_LIMIT);
  g_assert_cmpuint (settings.total_watch_limit, ==, 1000); /* 0: what the fds allow */
  g_assert_true (settings.kernel_log);

  file->client_watch_limit = 5;
  file->total_watch_limit = 300;
  file->kernel_log = FALSE;
  ow_config_merge (file, overrides, 1000, &settings);
  g_assert_cmpuint (settings.client_watch_limit, ==, 5);
  g_assert_cmpuint (settings.total_watch_limit, ==, 300);
  g_assert_false (settings.kernel_log);

  /* More than the fds allow is capped; 0 from the command line beats the file's 300. */
  ow_config_merge (file, overrides, 200, &settings);
  g_assert_cmpuint (settings.total_watch_limit, ==, 200);
  overrides->total_watch_limit = 0;
  overrides->client_watch_limit = 0;
  overrides->kernel_log = TRUE;
  ow_config_merge (file, overrides, 1000, &settings);
  g_assert_cmpuint (settings.total_watch_limit, ==, 1000);
  g_assert_cmpuint (settings.client_watch_limit, ==, 0);
  g_assert_true (settings.kernel_log);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/config/missing", Fixture, NULL, setup, test_missing, teardown);
  g_test_add ("/config/full", Fixture, NULL, setup, test_full, teardown);
  g_test_add ("/config/errors", Fixture, NULL, setup, test_errors, teardown);
  g_test_add ("/config/merge", Fixture, NULL, setup, test_merge, teardown);
  return g_test_run ();
}
