/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Integration tests on cgroup v1: the API's errors, the limits, and --replace. */
#include "ow-test-conditions.h"
#include "ow-test-cgroups.h"
#include "oomwatch-error.h"

#include <string.h>
#include <unistd.h>

#define EVENT_TIMEOUT_MS 10000

static void
assert_watch_fails (OwTestEnv *env, const char *cgroup, GVariant *options, GQuark domain, int code)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *canonical = NULL;

  oomwatch_manager_call_watch_sync (env->manager, cgroup, options ?: g_variant_new ("a{sv}", NULL),
                                    G_DBUS_CALL_FLAGS_NONE, -1, &canonical, NULL, &error);
  g_assert_error (error, domain, code);
  g_test_message ("Watch(%.60s) → %s", cgroup, error->message);
}

/* Every error of the API, each named, and the daemon keeps serving. */
static void
test_errors (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "errors", NULL, FALSE);
  g_autofree char *file = g_strdup_printf (
      "%s/%s", cgroup, ow_test_cgroups_version () == 1 ? "memory.oom_control" : "memory.events");
  g_autofree char *dotdot = g_strdup_printf ("%s/../errors", cgroup);
  g_autofree char *missing = g_strdup_printf ("%s/missing", cgroup);
  g_autofree char *huge = g_strnfill (65536, 'a');
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariantBuilder) options = g_variant_builder_new (G_VARIANT_TYPE ("a{sv}"));

  assert_watch_fails (env, "", NULL, OOMWATCH_ERROR, OOMWATCH_ERROR_INVALID_CGROUP);
  assert_watch_fails (env, dotdot, NULL, OOMWATCH_ERROR, OOMWATCH_ERROR_INVALID_CGROUP);
  assert_watch_fails (env, "/sys/fs/cgroup/cpu", NULL, OOMWATCH_ERROR,
                      ow_test_cgroups_other_controller_error ());
  assert_watch_fails (env, file, NULL, OOMWATCH_ERROR, OOMWATCH_ERROR_INVALID_CGROUP);
  assert_watch_fails (env, huge, NULL, OOMWATCH_ERROR, OOMWATCH_ERROR_INVALID_CGROUP);
  assert_watch_fails (env, missing, NULL, OOMWATCH_ERROR, OOMWATCH_ERROR_NO_SUCH_CGROUP);
  assert_watch_fails (env, "/etc", NULL, OOMWATCH_ERROR, OOMWATCH_ERROR_NO_SUCH_CGROUP);
  g_variant_builder_add (options, "{sv}", "bogus", g_variant_new_boolean (TRUE));
  assert_watch_fails (env, cgroup, g_variant_builder_end (options), G_DBUS_ERROR,
                      G_DBUS_ERROR_INVALID_ARGS);

  oomwatch_manager_call_unwatch_sync (env->manager, cgroup, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                      &error);
  g_assert_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NOT_WATCHED);
  g_clear_error (&error);

  /* A wrong signature and an unknown method are refused by the bus glue. */
  reply = g_dbus_connection_call_sync (env->connection, "org.oomwatch.OomWatch1",
                                       "/org/oomwatch/OomWatch1", "org.oomwatch.OomWatch1.Manager",
                                       "Watch", g_variant_new ("(i)", 42), NULL,
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  reply = g_dbus_connection_call_sync (env->connection, "org.oomwatch.OomWatch1",
                                       "/org/oomwatch/OomWatch1", "org.oomwatch.OomWatch1.Manager",
                                       "Explode", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                       &error);
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD);
  g_clear_error (&error);

  /* Still serving. */
  g_free (ow_test_env_watch (env, NULL, cgroup));
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 1);
  ow_test_env_free (env);
}

/* A caller that is not root is capped; so is the daemon as a whole. Neither leaves a
 * half-made watch behind. */
static void
test_limits (void)
{
  const char *const args[] = { "--client-watch-limit=2", "--total-watch-limit=3", NULL };
  OwTestEnv *env = ow_test_env_new (args);
  g_autofree char *a = ow_test_env_make_cgroup (env, "a", NULL, FALSE);
  g_autofree char *b = ow_test_env_make_cgroup (env, "b", NULL, FALSE);
  g_autofree char *c = ow_test_env_make_cgroup (env, "c", NULL, FALSE);
  g_autofree char *d = ow_test_env_make_cgroup (env, "d", NULL, FALSE);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) client = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  const char *argv[] = { g_getenv ("OOMCTL"), "watch", a, b, c, "--timeout=1", NULL };

  launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, ow_test_env_drop_to_nobody, NULL, NULL);
  client = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (client, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("oomctl as nobody: %s", err);
  g_assert_cmpint (g_subprocess_get_exit_status (client), ==, 1);
  g_assert_nonnull (strstr (err, "already holds 2 watches"));
  g_assert_nonnull (strstr (err, c));
  /* oomctl got its error at the third watch: the two it had are dropped with its connection. */
  g_assert_true (ow_test_env_wait_watched (env, a, FALSE));
  g_assert_true (ow_test_env_wait_watched (env, b, FALSE));

  /* Root has no per-client cap, but the daemon's total holds. */
  g_free (ow_test_env_watch (env, NULL, a));
  g_free (ow_test_env_watch (env, NULL, b));
  g_free (ow_test_env_watch (env, NULL, c));
  assert_watch_fails (env, d, NULL, OOMWATCH_ERROR, OOMWATCH_ERROR_LIMIT_EXCEEDED);
  g_assert_null (ow_test_env_find_watch (env, d));
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 3);
  ow_test_env_free (env);
}

typedef struct
{
  OwTestEnv *env;
  const char *old_owner;
} OwnerWait;

static gboolean
owner_changed (gpointer user_data)
{
  OwnerWait *wait = user_data;
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (wait->env->manager));

  return owner != NULL && g_strcmp0 (owner, wait->old_owner) != 0;
}

static guint32
name_owner_pid (OwTestEnv *env)
{
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (env->manager));
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;
  guint32 pid = 0;

  reply = g_dbus_connection_call_sync (
      env->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "GetConnectionUnixProcessID", g_variant_new ("(s)", owner), G_VARIANT_TYPE ("(u)"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &pid);
  return pid;
}

/* Only one daemon owns the name: a second one exits non-zero; --replace takes over. The
 * replacement is the new owner, starts without the old one's watches, and serves. */
static void
test_replace (void)
{
  OwTestEnv *env = ow_test_env_new_own ("it replaces the daemon and stops the replacement");
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "handover", NULL, FALSE);
  g_autofree char *dir = ow_test_env_cgroup_path (env, "handover");
  const char *second_argv[] = { g_getenv ("OOMWATCHD"), NULL };
  const char *replace_argv[] = { g_getenv ("OOMWATCHD"), "--replace", NULL };
  g_autoptr (GSubprocess) second = NULL;
  g_autoptr (GSubprocess) replacement = NULL;
  g_autofree char *err = NULL;
  g_autofree char *old_owner = NULL;
  g_autoptr (GError) error = NULL;
  OwnerWait wait = { env, NULL };

  g_free (ow_test_env_watch (env, NULL, cgroup));
  second = ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_STDERR_PIPE, second_argv);
  g_subprocess_communicate_utf8 (second, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (second), ==, 1);
  g_assert_nonnull (strstr (err, "--replace"));
  /* The first one still serves, with its watch. */
  g_assert_true (ow_test_env_watched (env, cgroup));
  g_assert_cmpuint (name_owner_pid (env), ==, g_ascii_strtoull (env->daemon_pid, NULL, 10));

  old_owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (env->manager));
  wait.old_owner = old_owner;
  replacement = ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_STDERR_SILENCE, replace_argv);
  ow_test_env_wait_process (env->daemon);
  g_assert_true (g_subprocess_get_if_exited (env->daemon));
  g_assert_cmpint (g_subprocess_get_exit_status (env->daemon), ==, 0);
  /* The replacement now serves, and is the one the harness stops. */
  g_object_unref (env->daemon);
  env->daemon = g_object_ref (replacement);
  g_free (env->daemon_pid);
  env->daemon_pid = g_strdup (g_subprocess_get_identifier (replacement));
  g_assert_true (ow_test_wait_until (owner_changed, &wait, OW_TEST_WAIT_MS));
  g_assert_cmpuint (name_owner_pid (env), ==, ow_test_env_pid (replacement));
  g_assert_false (ow_test_env_watched (env, cgroup));
  /* It takes a watch and reports on it. */
  g_free (ow_test_env_watch (env, NULL, cgroup));
  g_assert_true (ow_test_env_watched (env, cgroup));
  g_assert_cmpint (rmdir (dir), ==, 0);
  g_assert_true (ow_test_env_wait_signal (env, cgroup, "removed", EVENT_TIMEOUT_MS));
  ow_test_env_free (env);
}

int
main (int argc, char **argv)
{
  const OwTestCase cases[] = {
    { "/v1/errors", test_errors },
    { "/v1/limits", test_limits },
    { "/v1/replace", test_replace },
    { NULL },
  };

  return ow_test_env_main (argc, argv, cases);
}
