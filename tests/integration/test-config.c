/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The configuration file: persistent watches, limits, Reload() and SIGHUP. */
#include "ow-test-conditions.h"
#include "oomwatch-error.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EVENT_TIMEOUT_MS 10000

static gboolean
watch_flag (OwTestEnv *env, const char *cgroup, const char *key)
{
  g_autoptr (GVariant) watch = ow_test_env_find_watch (env, cgroup);
  gboolean value = FALSE;

  g_assert_nonnull (watch);
  g_assert_true (g_variant_lookup (watch, key, "b", &value));
  return value;
}

static void
wait_until_watched (OwTestEnv *env, const char *cgroup, gboolean watched)
{
  g_assert_true (ow_test_env_wait_watched (env, cgroup, watched));
}

static void
write_config (OwTestEnv *env, const char *contents)
{
  g_assert_true (g_file_set_contents (env->config_path, contents, -1, NULL));
}

static void
call (OwTestEnv *env, const char *method, GError **error)
{
  GVariant *reply = g_dbus_connection_call_sync (
      env->connection, "org.oomwatch.OomWatch1", "/org/oomwatch/OomWatch1",
      "org.oomwatch.OomWatch1.Manager", method, NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
      error);

  if (reply != NULL)
    g_variant_unref (reply);
}

static void
reload (OwTestEnv *env, GError **error)
{
  call (env, "Reload", error);
}

/* Persistent watches hold without any client, show as persistent, and report OOMs. */
static void
test_persistent (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *plain = ow_test_env_make_cgroup (env, "kept", "32M", FALSE);
  g_autofree char *tree = ow_test_env_make_cgroup (env, "tree", NULL, FALSE);
  g_autofree char *leaf = ow_test_env_make_cgroup (env, "tree/leaf", NULL, FALSE);
  g_autofree char *config = g_strdup_printf ("[Watches]\nWatch=%s\nRecursiveWatch=%s\n", plain,
                                             tree);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) hog = NULL;

  write_config (env, config);
  reload (env, &error);
  g_assert_no_error (error);
  /* Signals go to watchers only: the test hears the persistent watches as root's monitor. */
  call (env, "Monitor", &error);
  g_assert_no_error (error);
  g_assert_true (watch_flag (env, plain, "persistent"));
  g_assert_false (watch_flag (env, plain, "recursive"));
  g_assert_true (watch_flag (env, tree, "persistent"));
  g_assert_true (watch_flag (env, tree, "recursive"));
  g_assert_true (watch_flag (env, leaf, "persistent"));

  hog = ow_test_env_hog (env, "kept", 256);
  ow_test_env_wait_process (hog);
  g_assert_true (ow_test_env_wait_signal (env, plain, "oom-kill", EVENT_TIMEOUT_MS));

  /* SIGHUP with a new file: the plain watch goes, the tree stays. */
  g_free (config);
  config = g_strdup_printf ("[Watches]\nRecursiveWatch=%s\n", tree);
  write_config (env, config);
  kill ((pid_t) g_ascii_strtoll (env->daemon_pid, NULL, 10), SIGHUP);
  wait_until_watched (env, plain, FALSE);
  g_assert_true (ow_test_env_watched (env, leaf));
  ow_test_env_free (env);
}

/* A bad file keeps the old configuration and says why; only root may Reload(). */
static void
test_bad_config (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "stay", NULL, FALSE);
  g_autofree char *config = g_strdup_printf ("[Watches]\nWatch=%s\n", cgroup);
  const char *argv[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "gdbus",
                         "call", "--system", "--dest", "org.oomwatch.OomWatch1", "--object-path",
                         "/org/oomwatch/OomWatch1", "--method",
                         "org.oomwatch.OomWatch1.Manager.Reload", NULL };
  g_autoptr (GSubprocess) intruder = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;

  write_config (env, config);
  reload (env, &error);
  g_assert_no_error (error);
  g_assert_true (ow_test_env_watched (env, cgroup));

  write_config (env, "[Daemon]\nClientWatchLimit=lots\n");
  reload (env, &error);
  g_assert_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "ClientWatchLimit"));
  g_clear_error (&error);
  write_config (env, "[Daemon]\nFrobnicate=1\n");
  reload (env, &error);
  g_assert_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "unknown key Frobnicate"));
  g_clear_error (&error);
  write_config (env, "this is not a key file\n");
  reload (env, &error);
  g_assert_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_true (ow_test_env_watched (env, cgroup));

  intruder = ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                         | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                argv);
  g_subprocess_communicate_utf8 (intruder, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (intruder), !=, 0);
  g_assert_nonnull (strstr (err, "AccessDenied"));
  g_assert_true (ow_test_env_watched (env, cgroup));
  ow_test_env_free (env);
}

/* Limits and the kernel log come from the file too. */
static void
test_limits_from_file (void)
{
  OwTestDaemonOptions options = { .config = "[Daemon]\nClientWatchLimit=1\nKernelLog=false\n" };
  OwTestEnv *env = ow_test_env_new_full (&options);
  g_autofree char *a = ow_test_env_make_cgroup (env, "one", NULL, FALSE);
  g_autofree char *b = ow_test_env_make_cgroup (env, "two", NULL, FALSE);
  const char *argv[] = { g_getenv ("OOMCTL"), "watch", a, b, "--timeout=1", NULL };
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GSubprocess) client = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_false (oomwatch_manager_get_kernel_log (env->manager));
  g_subprocess_launcher_set_child_setup (launcher, ow_test_env_drop_to_nobody, NULL, NULL);
  client = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (client, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (client), ==, 1);
  g_assert_nonnull (strstr (err, "limit for callers that are not root is 1"));
  ow_test_env_free (env);
}

/* oomctl unwatch ARGUMENT as root, or as nobody: its exit status; its stderr in ERR. */
static int
oomctl_unwatch (const char *cgroup, gboolean as_nobody, char **err)
{
  const char *argv[] = { g_getenv ("OOMCTL"), "unwatch", cgroup, NULL };
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GSubprocess) client = NULL;
  g_autoptr (GError) error = NULL;

  if (as_nobody)
    g_subprocess_launcher_set_child_setup (launcher, ow_test_env_drop_to_nobody, NULL, NULL);
  client = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (client, NULL, NULL, NULL, err, &error);
  g_assert_no_error (error);
  g_test_message ("oomctl unwatch %s%s: %s", cgroup, as_nobody ? " as nobody" : "", *err);
  g_assert_true (g_subprocess_get_if_exited (client));
  return g_subprocess_get_exit_status (client);
}

/* oomctl unwatch: root drops a persistent watch at run time, until the next reload. Nobody
 * else can, and a cgroup without one is refused with the reason. */
static void
test_unwatch_persistent (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *kept = ow_test_env_make_cgroup (env, "kept", NULL, FALSE);
  g_autofree char *mine = ow_test_env_make_cgroup (env, "mine", NULL, FALSE);
  g_autofree char *config = g_strdup_printf ("[Watches]\nWatch=%s\n", kept);
  g_autoptr (GError) error = NULL;

  write_config (env, config);
  reload (env, &error);
  g_assert_no_error (error);
  g_assert_true (watch_flag (env, kept, "persistent"));
  g_free (ow_test_env_watch (env, NULL, mine));

  /* A client's watch is the client's: not dropped, and the message says why. */
  {
    g_autofree char *err = NULL;

    g_assert_cmpint (oomctl_unwatch (mine, FALSE, &err), ==, 1);
    g_assert_nonnull (strstr (err, "not a persistent watch"));
    g_assert_true (ow_test_env_watched (env, mine));
  }
  /* Only root drops a persistent watch. */
  {
    g_autofree char *err = NULL;

    g_assert_cmpint (oomctl_unwatch (kept, TRUE, &err), ==, 1);
    g_assert_nonnull (strstr (err, "only root"));
    g_assert_true (watch_flag (env, kept, "persistent"));
  }
  {
    g_autofree char *err = NULL;
    g_autofree char *absolute = ow_test_env_cgroup_path (env, "kept");

    /* Any accepted spelling of the path. */
    g_assert_cmpint (oomctl_unwatch (absolute, FALSE, &err), ==, 0);
    g_assert_cmpstr (err, ==, "");
    g_assert_false (ow_test_env_watched (env, kept));
  }
  {
    g_autofree char *err = NULL;

    g_assert_cmpint (oomctl_unwatch (kept, FALSE, &err), ==, 1);
    g_assert_nonnull (strstr (err, "not a persistent watch"));
  }
  /* The next reload brings it back. */
  reload (env, &error);
  g_assert_no_error (error);
  g_assert_true (watch_flag (env, kept, "persistent"));
  g_assert_true (ow_test_env_watched (env, mine));
  ow_test_env_free (env);
}

static gboolean
file_exists (gpointer path)
{
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/* The metrics file is readable by the collector's own user although the daemon runs with the
 * unit's UMask=0077; the runtime directory's files stay the daemon's own. */
static void
test_metrics_mode (void)
{
  const char *const umask_077[] = { "sh", "-c", "umask 077 && exec \"$0\" \"$@\"", NULL };
  OwTestDaemonOptions options = { .wrapper = umask_077 };
  OwTestEnv *env = ow_test_env_new_full (&options);
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "counted", NULL, FALSE);
  g_autofree char *textdir = g_build_filename (env->tmpdir, "textfile", NULL);
  g_autofree char *prom = g_build_filename (textdir, "oomwatch.prom", NULL);
  g_autofree char *config = g_strdup_printf ("[Daemon]\nMetricsFile=%s\n", prom);
  g_autofree char *status = g_strdup_printf ("/proc/%s/status", env->daemon_pid);
  g_autofree char *proc_status = NULL;
  const char *argv[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "cat",
                         prom, NULL };
  g_autoptr (GSubprocess) reader = NULL;
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  struct stat st;

  g_assert_true (g_file_get_contents (status, &proc_status, NULL, NULL));
  g_assert_nonnull (strstr (proc_status, "\nUmask:\t0077\n"));
  g_assert_cmpint (g_mkdir (textdir, 0755), ==, 0);
  write_config (env, config);
  reload (env, &error);
  g_assert_no_error (error);
  g_free (ow_test_env_watch (env, NULL, cgroup));
  g_assert_true (ow_test_wait_until (file_exists, prom, OW_TEST_WAIT_MS));
  g_assert_cmpint (g_stat (prom, &st), ==, 0);
  g_test_message ("%s: mode %04o", prom, st.st_mode & 07777);
  g_assert_cmpint (st.st_mode & 07777, ==, 0644);

  reader = ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE,
                              argv);
  g_subprocess_communicate_utf8 (reader, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("read as nobody: %.80s", out);
  g_assert_cmpint (g_subprocess_get_exit_status (reader), ==, 0);
  g_assert_nonnull (strstr (out, "oomwatch_watches"));
  ow_test_env_free (env);
}

int
main (int argc, char **argv)
{
  int skip = ow_test_env_init (&argc, &argv);

  if (skip != 0)
    return skip;
  g_test_add_func ("/config/persistent", test_persistent);
  g_test_add_func ("/config/bad", test_bad_config);
  g_test_add_func ("/config/limits-from-file", test_limits_from_file);
  g_test_add_func ("/config/unwatch-persistent", test_unwatch_persistent);
  g_test_add_func ("/config/metrics-mode", test_metrics_mode);
  return g_test_run ();
}
