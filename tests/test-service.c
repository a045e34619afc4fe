/* Integration tests on cgroup v1: the built oomwatchd on a private bus, real OOMs. */
#include "ow-test-env.h"
#include "ow-test-cgroups.h"
#include "oomwatch-error.h"

#include <string.h>
#include <unistd.h>

#define EVENT_TIMEOUT_MS 10000
/* The daemon re-checks for kills for about a second after each OOM. */
#define SETTLE_MS 1500

static OwTestSignal *
signal_at (OwTestEnv *env, guint i)
{
  return g_ptr_array_index (env->signals, i);
}

static guint64
watch_counter (OwTestEnv *env, const char *canonical, const char *key)
{
  g_autoptr (GVariant) watch = ow_test_env_find_watch (env, canonical);
  guint64 value = 0;

  g_assert_nonnull (watch);
  g_assert_true (g_variant_lookup (watch, key, "t", &value));
  return value;
}

static guint32
watch_watchers (OwTestEnv *env, const char *canonical)
{
  g_autoptr (GVariant) watch = ow_test_env_find_watch (env, canonical);
  guint32 watchers = 0;

  if (watch == NULL)
    return 0;
  g_assert_true (g_variant_lookup (watch, "watchers", "u", &watchers));
  return watchers;
}

static void
assert_hog_killed (GSubprocess *hog)
{
  ow_test_env_wait_process (hog);
  g_assert_true (g_subprocess_get_if_signaled (hog));
  g_assert_cmpint (g_subprocess_get_term_sig (hog), ==, SIGKILL);
}

/* One OOM kill: "oom" first, then "oom-kill" with the exact rise of the kernel's counter,
 * within a second; ListWatches agrees with what was signalled. */
static void
test_kill (void)
{
  g_autoptr (GSubprocess) hog = NULL;
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "kill", "32M", FALSE);
  g_autofree char *canonical = ow_test_env_watch (env, NULL, cgroup);
  OwTestSignal *first, *kill = NULL;
  guint64 oom_ts = 0, kill_ts = 0, total = 0;
  gboolean under_oom = TRUE;

  g_assert_cmpstr (canonical, ==, cgroup);
  hog = ow_test_env_hog (env, "kill", 256);
  assert_hog_killed (hog);
  g_assert_true (ow_test_env_wait_signal (env, cgroup, "oom-kill", EVENT_TIMEOUT_MS));
  ow_test_env_iterate (SETTLE_MS);

  first = signal_at (env, 0);
  g_assert_cmpstr (first->kind, ==, "oom");
  g_assert_cmpuint (first->count, >=, 1);
  /* v2 has no under_oom: the key exists on v1 only. */
  g_assert_true (g_variant_lookup (first->details, "under-oom", "b", &under_oom)
                 == (ow_test_cgroups_version () == 1));
  g_assert_false (under_oom && ow_test_cgroups_version () == 1);
  g_assert_true (g_variant_lookup (first->details, "timestamp", "t", &oom_ts));

  for (guint i = 0; i < env->signals->len; i++)
    if (g_strcmp0 (signal_at (env, i)->kind, "oom-kill") == 0)
      kill = signal_at (env, i);
  g_assert_cmpuint (ow_test_env_n_signals (env, cgroup, "oom-kill"), ==, 1);
  g_assert_cmpuint (kill->count, ==, 1);
  g_assert_true (g_variant_lookup (kill->details, "total", "t", &total));
  g_assert_cmpuint (total, ==, ow_test_env_oom_control (env, "kill", "oom_kill"));
  g_assert_true (g_variant_lookup (kill->details, "timestamp", "t", &kill_ts));
  g_assert_cmpint (kill_ts - oom_ts, <, G_USEC_PER_SEC);

  g_assert_cmpuint (watch_counter (env, cgroup, "oom"), ==, ow_test_env_sum (env, cgroup, "oom"));
  g_assert_cmpuint (watch_counter (env, cgroup, "oom-kill"), ==, 1);
  g_assert_cmpuint (ow_test_env_n_signals (env, cgroup, "removed"), ==, 0);
  ow_test_env_free (env);
}

/* Two OOMs in a row: the counts add up. */
static void
test_two_kills (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "twice", "32M", FALSE);
  g_free (ow_test_env_watch (env, NULL, cgroup));

  for (int i = 0; i < 2; i++)
    {
      g_autoptr (GSubprocess) hog = ow_test_env_hog (env, "twice", 256);

      assert_hog_killed (hog);
      ow_test_env_iterate (SETTLE_MS);
    }
  g_assert_cmpuint (ow_test_env_sum (env, cgroup, "oom-kill"), ==, 2);
  g_assert_cmpuint (ow_test_env_oom_control (env, "twice", "oom_kill"), ==, 2);
  g_assert_cmpuint (watch_counter (env, cgroup, "oom-kill"), ==, 2);
  g_assert_cmpuint (watch_counter (env, cgroup, "oom"), ==, ow_test_env_sum (env, cgroup, "oom"));
  ow_test_env_free (env);
}

/* oom_kill_disable 1: "oom" with under-oom, no kill; raising the limit → "oom-recovered". */
static void
test_paused (void)
{
  if (ow_test_cgroups_skip_unless (1, "oom_kill_disable (pause instead of kill) has no v2 counterpart"))
    return;
  g_autoptr (GSubprocess) hog = NULL;
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "paused", "32M", TRUE);
  g_free (ow_test_env_watch (env, NULL, cgroup));
  g_autofree char *dir = ow_test_env_cgroup_path (env, "paused");
  g_autoptr (GVariant) watch = NULL;
  gboolean under_oom = FALSE;

  hog = ow_test_env_hog (env, "paused", 64);
  g_assert_true (ow_test_env_wait_signal (env, cgroup, "oom", EVENT_TIMEOUT_MS));
  g_assert_true (g_variant_lookup (signal_at (env, 0)->details, "under-oom", "b", &under_oom));
  g_assert_true (under_oom);
  watch = ow_test_env_find_watch (env, cgroup);
  g_assert_true (g_variant_lookup (watch, "under-oom", "b", &under_oom));
  g_assert_true (under_oom);

  ow_test_env_write (dir, "memory.limit_in_bytes", "256M");
  g_assert_true (ow_test_env_wait_signal (env, cgroup, "oom-recovered", EVENT_TIMEOUT_MS));
  ow_test_env_wait_process (hog);
  g_assert_true (g_subprocess_get_if_exited (hog));
  g_assert_cmpint (g_subprocess_get_exit_status (hog), ==, 0);
  ow_test_env_iterate (SETTLE_MS);

  g_assert_cmpuint (ow_test_env_n_signals (env, cgroup, "oom-kill"), ==, 0);
  g_assert_cmpuint (ow_test_env_n_signals (env, cgroup, "oom-recovered"), ==, 1);
  g_clear_pointer (&watch, g_variant_unref);
  watch = ow_test_env_find_watch (env, cgroup);
  g_assert_true (g_variant_lookup (watch, "under-oom", "b", &under_oom));
  g_assert_false (under_oom);
  ow_test_env_free (env);
}

/* rmdir: one WatchRemoved, never an "oom", and the watch is gone. */
static void
test_rmdir (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "gone", "32M", FALSE);
  g_free (ow_test_env_watch (env, NULL, cgroup));
  g_autofree char *dir = ow_test_env_cgroup_path (env, "gone");

  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 1);
  g_assert_cmpint (rmdir (dir), ==, 0);
  g_assert_true (ow_test_env_wait_signal (env, cgroup, "removed", EVENT_TIMEOUT_MS));
  ow_test_env_iterate (500);
  g_assert_cmpuint (env->signals->len, ==, 1);
  g_assert_null (ow_test_env_find_watch (env, cgroup));
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 0);
  ow_test_env_free (env);
}

static void
count_signal (guint *counter)
{
  (*counter)++;
}

/* Two clients on one cgroup: one registration, both hear; after one unwatches the other
 * still hears. Every accepted spelling of the path is the same watch. */
static void
test_two_clients (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "shared", "32M", FALSE);
  g_autofree char *absolute = ow_test_env_cgroup_path (env, "shared");
  g_autofree char *sloppy = g_strdup_printf ("%s//./", cgroup + 1);
  g_autoptr (GDBusConnection) other_connection = ow_test_env_connect (env);
  g_autoptr (OomwatchManager) other = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *c1 = NULL, *c2 = NULL, *c3 = NULL;
  guint other_heard = 0;

  other = oomwatch_manager_proxy_new_sync (other_connection, G_DBUS_PROXY_FLAGS_NONE,
                                           "org.oomwatch.OomWatch1", "/org/oomwatch/OomWatch1",
                                           NULL, &error);
  g_assert_no_error (error);
  g_signal_connect_swapped (other, "oom-event", G_CALLBACK (count_signal), &other_heard);

  c1 = ow_test_env_watch (env, NULL, absolute);
  c2 = ow_test_env_watch (env, NULL, sloppy);
  c3 = ow_test_env_watch (env, other, cgroup);
  g_assert_cmpstr (c1, ==, cgroup);
  g_assert_cmpstr (c2, ==, cgroup);
  g_assert_cmpstr (c3, ==, cgroup);
  g_assert_cmpuint (watch_watchers (env, cgroup), ==, 2);
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 1);

  {
    g_autoptr (GSubprocess) hog = ow_test_env_hog (env, "shared", 256);

    assert_hog_killed (hog);
    g_assert_true (ow_test_env_wait_signal (env, cgroup, "oom-kill", EVENT_TIMEOUT_MS));
    ow_test_env_iterate (SETTLE_MS);
  }
  g_assert_cmpuint (other_heard, ==, env->signals->len);

  oomwatch_manager_call_unwatch_sync (env->manager, cgroup, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                      &error);
  g_assert_no_error (error);
  g_assert_cmpuint (watch_watchers (env, cgroup), ==, 1);
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 1);

  other_heard = 0;
  {
    g_autoptr (GSubprocess) hog = ow_test_env_hog (env, "shared", 256);

    assert_hog_killed (hog);
    while (other_heard < 2)
      ow_test_env_iterate (10);
  }
  oomwatch_manager_call_unwatch_sync (other, cgroup, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (ow_test_env_find_watch (env, cgroup));
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 0);
  g_signal_handlers_disconnect_by_data (other, &other_heard);
  ow_test_env_free (env);
}

/* A client that is killed loses its watches, and the kernel registration goes. */
static void
test_client_killed (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "orphan", NULL, FALSE);
  const char *argv[] = { g_getenv ("OOMCTL"), "watch", cgroup, NULL };
  g_autoptr (GSubprocess) client = ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_STDOUT_SILENCE, argv);

  for (int i = 0; i < 500 && watch_watchers (env, cgroup) == 0; i++)
    ow_test_env_iterate (10);
  g_assert_cmpuint (watch_watchers (env, cgroup), ==, 1);
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 1);

  g_subprocess_force_exit (client);
  ow_test_env_wait_process (client);
  for (int i = 0; i < 500 && ow_test_env_watched (env, cgroup); i++)
    ow_test_env_iterate (10);
  g_assert_null (ow_test_env_find_watch (env, cgroup));
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 0);
  ow_test_env_free (env);
}

static void
assert_watch_fails (OwTestEnv *env, const char *cgroup, GVariant *options, GQuark domain, int code)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *canonical = NULL;

  oomwatch_manager_call_watch_sync (env->manager, cgroup,
                                    options ?: g_variant_new ("a{sv}", NULL),
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

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, ow_test_env_drop_to_nobody, NULL, NULL);
  client = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (client, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("oomctl as nobody: %s", err);
  g_assert_cmpint (g_subprocess_get_exit_status (client), ==, 1);
  g_assert_nonnull (strstr (err, "already holds 2 watches"));
  g_assert_nonnull (strstr (err, c));
  for (int i = 0; i < 500 && ow_test_env_watched (env, a); i++)
    ow_test_env_iterate (10);
  g_assert_null (ow_test_env_find_watch (env, a));

  /* Root has no per-client cap, but the daemon's total holds. */
  g_free (ow_test_env_watch (env, NULL, a));
  g_free (ow_test_env_watch (env, NULL, b));
  g_free (ow_test_env_watch (env, NULL, c));
  assert_watch_fails (env, d, NULL, OOMWATCH_ERROR, OOMWATCH_ERROR_LIMIT_EXCEEDED);
  g_assert_null (ow_test_env_find_watch (env, d));
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 3);
  ow_test_env_free (env);
}

/* Only one daemon owns the name: a second one exits non-zero; --replace takes over. */
static void
test_replace (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  const char *second_argv[] = { g_getenv ("OOMWATCHD"), NULL };
  const char *replace_argv[] = { g_getenv ("OOMWATCHD"), "--replace", NULL };
  g_autoptr (GSubprocess) second = NULL;
  g_autoptr (GSubprocess) replacement = NULL;
  g_autofree char *err = NULL;
  g_autofree char *old_owner = NULL;
  g_autoptr (GError) error = NULL;

  second = ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_STDERR_PIPE, second_argv);
  g_subprocess_communicate_utf8 (second, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (second), ==, 1);
  g_assert_nonnull (strstr (err, "--replace"));

  old_owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (env->manager));
  replacement = ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_STDERR_SILENCE, replace_argv);
  ow_test_env_wait_process (env->daemon);
  g_assert_true (g_subprocess_get_if_exited (env->daemon));
  g_assert_cmpint (g_subprocess_get_exit_status (env->daemon), ==, 0);
  /* The replacement now serves, and is the one the harness stops. */
  g_object_unref (env->daemon);
  env->daemon = g_object_ref (replacement);
  g_free (env->daemon_pid);
  env->daemon_pid = g_strdup (g_subprocess_get_identifier (replacement));
  for (int i = 0; i < 500; i++)
    {
      g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (env->manager));

      if (owner != NULL && g_strcmp0 (owner, old_owner) != 0)
        break;
      ow_test_env_iterate (10);
    }
  g_assert_null (ow_test_env_find_watch (env, "/"));
  ow_test_env_free (env);
}

static OwTestSignal *
find_signal (OwTestEnv *env, const char *cgroup, const char *kind)
{
  for (guint i = 0; i < env->signals->len; i++)
    {
      OwTestSignal *signal = signal_at (env, i);

      if (g_strcmp0 (signal->cgroup, cgroup) == 0 && g_strcmp0 (signal->kind, kind) == 0)
        return signal;
    }
  return NULL;
}

/* The oom-kill signal names the victim: the hog's pid, name and uid, and its cgroups. */
static void
assert_names_victim (OwTestSignal *kill, guint32 hog_pid, const char *task_cgroup,
                     const char *oom_cgroup)
{
  guint32 pid = 0, uid = 1;
  const char *comm = NULL, *task = NULL, *oom = NULL;

  g_assert_nonnull (kill);
  g_assert_cmpuint (kill->count, ==, 1);
  g_assert_true (g_variant_lookup (kill->details, "pid", "u", &pid));
  g_assert_cmpuint (pid, ==, hog_pid);
  g_assert_true (g_variant_lookup (kill->details, "comm", "&s", &comm));
  g_assert_cmpstr (comm, ==, "oom-hog");
  g_assert_true (g_variant_lookup (kill->details, "uid", "u", &uid));
  g_assert_cmpuint (uid, ==, 0);
  g_assert_true (g_variant_lookup (kill->details, "task-cgroup", "&s", &task));
  g_assert_cmpstr (task, ==, task_cgroup);
  g_assert_true (g_variant_lookup (kill->details, "oom-cgroup", "&s", &oom));
  g_assert_cmpstr (oom, ==, oom_cgroup);
}

static void
test_victim (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "victim", "32M", FALSE);
  g_free (ow_test_env_watch (env, NULL, cgroup));
  g_autoptr (GSubprocess) hog = ow_test_env_hog (env, "victim", 256);
  guint32 hog_pid = ow_test_env_pid (hog);

  assert_hog_killed (hog);
  g_assert_true (ow_test_env_wait_signal (env, cgroup, "oom-kill", EVENT_TIMEOUT_MS));
  ow_test_env_iterate (SETTLE_MS);
  g_assert_cmpuint (ow_test_env_sum (env, cgroup, "oom-kill"), ==, 1);
  assert_names_victim (find_signal (env, cgroup, "oom-kill"), hog_pid, cgroup, cgroup);
  ow_test_env_free (env);
}

/* A recursive watch follows a child and a grandchild created after it began, reports the
 * grandchild's OOM there with the victim's name, and the kill on every watched ancestor. */
static void
test_recursive (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *parent = ow_test_env_make_cgroup (env, "rec", NULL, FALSE);
  g_autofree char *child = NULL, *grandchild = NULL;
  g_autoptr (GSubprocess) hog = NULL;
  g_autoptr (GVariant) watch = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *canonical = NULL;
  gboolean recursive = FALSE;
  guint32 hog_pid;

  canonical = ow_test_env_watch_recursive (env, parent, &error);
  g_assert_no_error (error);

  child = ow_test_env_make_cgroup (env, "rec/child", NULL, FALSE);
  for (int i = 0; i < 500 && !ow_test_env_watched (env, child); i++)
    ow_test_env_iterate (10);
  grandchild = ow_test_env_make_cgroup (env, "rec/child/grand", "32M", FALSE);
  for (int i = 0; i < 500 && !ow_test_env_watched (env, grandchild); i++)
    ow_test_env_iterate (10);
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 3);
  watch = ow_test_env_find_watch (env, parent);
  g_assert_true (g_variant_lookup (watch, "recursive", "b", &recursive));
  g_assert_true (recursive);
  g_clear_pointer (&watch, g_variant_unref);
  watch = ow_test_env_find_watch (env, grandchild);
  g_assert_true (g_variant_lookup (watch, "recursive", "b", &recursive));
  g_assert_false (recursive);

  hog = ow_test_env_hog (env, "rec/child/grand", 256);
  hog_pid = ow_test_env_pid (hog);
  assert_hog_killed (hog);
  g_assert_true (ow_test_env_wait_signal (env, grandchild, "oom-kill", EVENT_TIMEOUT_MS));
  ow_test_env_iterate (SETTLE_MS);
  assert_names_victim (find_signal (env, grandchild, "oom-kill"), hog_pid, grandchild, grandchild);
  assert_names_victim (find_signal (env, child, "oom-kill"), hog_pid, grandchild, grandchild);
  assert_names_victim (find_signal (env, parent, "oom-kill"), hog_pid, grandchild, grandchild);
  g_assert_cmpuint (ow_test_env_sum (env, grandchild, "oom-kill"), ==, 1);
  g_assert_cmpuint (ow_test_env_sum (env, child, "oom-kill"), ==, 1);
  g_assert_cmpuint (ow_test_env_sum (env, parent, "oom-kill"), ==, 1);
  /* The limit was the grandchild's: on v1 its ancestors were not told; v2 counts the
   * grandchild's "oom" on every ancestor too. */
  if (ow_test_cgroups_version () == 1)
    g_assert_cmpuint (ow_test_env_n_signals (env, parent, "oom"), ==, 0);
  else
    g_assert_cmpuint (ow_test_env_sum (env, parent, "oom"), ==,
                      ow_test_env_oom_control (env, "rec", "oom"));

  oomwatch_manager_call_unwatch_sync (env->manager, parent, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                      &error);
  g_assert_no_error (error);
  g_assert_null (ow_test_env_find_watch (env, child));
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 0);
  ow_test_env_free (env);
}

/* The watched parent's limit is hit by a task in its child: "oom" on the parent, and an
 * "oom-kill" there naming the victim in the child. */
static void
test_parent_limit (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *parent = ow_test_env_make_cgroup (env, "lim", "32M", FALSE);
  g_autofree char *child = ow_test_env_make_cgroup (env, "lim/kid", NULL, FALSE);
  g_free (ow_test_env_watch (env, NULL, parent));
  g_autoptr (GSubprocess) hog = ow_test_env_hog (env, "lim/kid", 256);
  guint32 hog_pid = ow_test_env_pid (hog);

  assert_hog_killed (hog);
  g_assert_true (ow_test_env_wait_signal (env, parent, "oom-kill", EVENT_TIMEOUT_MS));
  ow_test_env_iterate (SETTLE_MS);
  g_assert_cmpstr (signal_at (env, 0)->kind, ==, "oom");
  g_assert_cmpuint (ow_test_env_sum (env, parent, "oom-kill"), ==, 1);
  assert_names_victim (find_signal (env, parent, "oom-kill"), hog_pid, child, parent);
  ow_test_env_free (env);
}

/* Without the kernel log, kills are still counted, without names. */
static void
test_no_kernel_log (void)
{
  const char *const args[] = { "--no-kernel-log", NULL };
  OwTestEnv *env = ow_test_env_new (args);
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "nolog", "32M", FALSE);
  g_free (ow_test_env_watch (env, NULL, cgroup));
  g_autoptr (GSubprocess) hog = ow_test_env_hog (env, "nolog", 256);
  OwTestSignal *kill;
  guint64 total = 0;

  g_assert_false (oomwatch_manager_get_kernel_log (env->manager));
  assert_hog_killed (hog);
  g_assert_true (ow_test_env_wait_signal (env, cgroup, "oom-kill", EVENT_TIMEOUT_MS));
  ow_test_env_iterate (SETTLE_MS);
  kill = find_signal (env, cgroup, "oom-kill");
  g_assert_cmpuint (kill->count, ==, 1);
  g_assert_true (g_variant_lookup (kill->details, "total", "t", &total));
  g_assert_cmpuint (total, ==, 1);
  g_assert_false (g_variant_lookup (kill->details, "pid", "u", NULL));
  ow_test_env_free (env);
}

/* On v1 a watched ancestor gets a watched descendant's kills from its exact counter, kernel log
 * or not: exactly one oom-kill on every level, without names. */
static void
test_recursive_no_kernel_log (void)
{
  const char *const args[] = { "--no-kernel-log", NULL };
  OwTestEnv *env = ow_test_env_new (args);
  g_autofree char *top = ow_test_env_make_cgroup (env, "quiet", NULL, FALSE);
  g_autofree char *mid = ow_test_env_make_cgroup (env, "quiet/mid", NULL, FALSE);
  g_autofree char *leaf = ow_test_env_make_cgroup (env, "quiet/mid/leaf", "32M", FALSE);
  g_autoptr (GSubprocess) hog = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *canonical = NULL;
  const char *levels[] = { leaf, mid, top };

  canonical = ow_test_env_watch_recursive (env, top, &error);
  g_assert_no_error (error);
  hog = ow_test_env_hog (env, "quiet/mid/leaf", 256);
  assert_hog_killed (hog);
  g_assert_true (ow_test_env_wait_signal (env, top, "oom-kill", EVENT_TIMEOUT_MS));
  ow_test_env_iterate (SETTLE_MS);
  for (gsize i = 0; i < G_N_ELEMENTS (levels); i++)
    {
      OwTestSignal *kill = find_signal (env, levels[i], "oom-kill");

      g_assert_cmpuint (ow_test_env_sum (env, levels[i], "oom-kill"), ==, 1);
      g_assert_false (g_variant_lookup (kill->details, "pid", "u", NULL));
      /* A total only where the kernel keeps that counter: on v1 the victim's own cgroup,
       * on v2 every level (memory.events is hierarchical). */
      g_assert_true (g_variant_lookup (kill->details, "total", "t", NULL)
                     == (i == 0 || ow_test_cgroups_version () == 2));
    }
  ow_test_env_free (env);
}

/* A recursive watch over the caller's limit fails whole, leaving nothing behind. */
static void
test_recursive_limit (void)
{
  const char *const args[] = { "--total-watch-limit=2", NULL };
  OwTestEnv *env = ow_test_env_new (args);
  g_autofree char *top = ow_test_env_make_cgroup (env, "big", NULL, FALSE);
  g_autoptr (GError) error = NULL;
  g_autofree char *canonical = NULL;
  g_autoptr (GVariant) watches = NULL;

  g_free (ow_test_env_make_cgroup (env, "big/a", NULL, FALSE));
  g_free (ow_test_env_make_cgroup (env, "big/b", NULL, FALSE));
  canonical = ow_test_env_watch_recursive (env, top, &error);
  g_assert_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_LIMIT_EXCEEDED);
  oomwatch_manager_call_list_watches_sync (env->manager, G_DBUS_CALL_FLAGS_NONE, -1, &watches,
                                           NULL, NULL);
  g_assert_cmpuint (g_variant_n_children (watches), ==, 0);
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 0);
  ow_test_env_free (env);
}

int
main (int argc, char **argv)
{
  int skip = ow_test_env_init (&argc, &argv);

  if (skip != 0)
    return skip;
  g_test_add_func ("/v1/kill", test_kill);
  g_test_add_func ("/v1/two-kills", test_two_kills);
  g_test_add_func ("/v1/paused", test_paused);
  g_test_add_func ("/v1/rmdir", test_rmdir);
  g_test_add_func ("/v1/two-clients", test_two_clients);
  g_test_add_func ("/v1/client-killed", test_client_killed);
  g_test_add_func ("/v1/errors", test_errors);
  g_test_add_func ("/v1/limits", test_limits);
  g_test_add_func ("/v1/replace", test_replace);
  g_test_add_func ("/v1/victim", test_victim);
  g_test_add_func ("/v1/recursive", test_recursive);
  g_test_add_func ("/v1/parent-limit", test_parent_limit);
  g_test_add_func ("/v1/no-kernel-log", test_no_kernel_log);
  g_test_add_func ("/v1/recursive-limit", test_recursive_limit);
  g_test_add_func ("/v1/recursive-no-kernel-log", test_recursive_no_kernel_log);
  return g_test_run ();
}
