/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Memory pressure on cgroup v1: levels before the OOM, bad options, costs. */
#include "ow-test-conditions.h"
#include "oomwatch-error.h"
#include "oomwatch-names.h"

#include <string.h>

/* MemoryPressure is recorded among the other signals as kind "pressure-LEVEL". */
static void
on_memory_pressure (OomwatchManager *manager, const char *cgroup, const char *level,
                    GVariant *details, gpointer user_data)
{
  OwTestEnv *env = user_data;
  OwTestSignal *signal = g_new0 (OwTestSignal, 1);

  signal->cgroup = g_strdup (cgroup);
  signal->kind = g_strconcat ("pressure-", level, NULL);
  signal->count = 1;
  signal->details = g_variant_ref (details);
  g_ptr_array_add (env->signals, signal);
}

static GVariant *
pressure_options (const char *level, gboolean recursive)
{
  g_auto (GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{sv}"));

  g_variant_builder_add (&options, "{sv}", OOMWATCH_OPTION_PRESSURE, g_variant_new_string (level));
  if (recursive)
    g_variant_builder_add (&options, "{sv}", OOMWATCH_KEY_RECURSIVE, g_variant_new_boolean (TRUE));
  return g_variant_builder_end (&options);
}

static gboolean
watch_pressure (OwTestEnv *env, const char *cgroup, const char *level, gboolean recursive,
                GError **error)
{
  g_autofree char *canonical = NULL;

  return oomwatch_manager_call_watch_sync (env->manager, cgroup,
                                           pressure_options (level, recursive),
                                           G_DBUS_CALL_FLAGS_NONE, -1, &canonical, NULL, error);
}

static gint
first_index (OwTestEnv *env, const char *cgroup, const char *kind)
{
  for (guint i = 0; i < env->signals->len; i++)
    {
      OwTestSignal *signal = g_ptr_array_index (env->signals, i);

      if (g_strcmp0 (signal->cgroup, cgroup) == 0 && g_strcmp0 (signal->kind, kind) == 0)
        return (gint)i;
    }
  return -1;
}

/* Clean page-cache churn over a 32 MiB limit brings "low" (once: the rate limit holds the
 * kernel's hundreds back), dirty page cache "medium" or "critical", all before anonymous
 * memory brings the OOM. */
static void
test_levels (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *canonical = ow_test_env_make_cgroup (env, "pressure", "32M", FALSE);
  g_autofree char *dir = ow_test_env_cgroup_path (env, "pressure");
  g_autofree char *file = g_build_filename (env->tmpdir, "churn", NULL);
  const char *argv[] = { g_getenv ("PRESSURE_HOG"), dir, file, "256", "512", NULL };
  g_autoptr (GSubprocess) hog = NULL;
  g_autoptr (GError) error = NULL;
  GOutputStream *input;
  gint low, higher, oom;
  guint32 level_value;

  g_signal_connect (env->manager, "memory-pressure", G_CALLBACK (on_memory_pressure), env);
  g_assert_true (watch_pressure (env, canonical, "low", FALSE, &error));
  g_assert_no_error (error);
  hog = ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_STDIN_PIPE, argv);
  g_assert_true (ow_test_env_wait_signal (env, canonical, "pressure-low", 60000));
  g_assert_cmpint (first_index (env, canonical, "oom"), ==, -1);
  /* Keep churning a while: the kernel signals "low" hundreds of times meanwhile. */
  ow_test_env_iterate (2000);
  g_assert_cmpuint (ow_test_env_n_signals (env, canonical, "pressure-low"), ==, 1);
  g_assert_true (g_variant_lookup (((OwTestSignal *)g_ptr_array_index (
                                        env->signals, first_index (env, canonical, "pressure-low")))
                                       ->details,
                                   OOMWATCH_KEY_LEVEL_VALUE, "u", &level_value));
  g_assert_cmpuint (level_value, ==, 50);
  /* Numbered with the other signals (continuity), though not kept for History(). */
  g_assert_true (g_variant_lookup (((OwTestSignal *)g_ptr_array_index (
                                        env->signals, first_index (env, canonical, "pressure-low")))
                                       ->details,
                                   OOMWATCH_KEY_SEQ, "t", NULL));

  input = g_subprocess_get_stdin_pipe (hog);
  g_output_stream_write_all (input, "write\n", 6, NULL, NULL, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 6000 && first_index (env, canonical, "pressure-medium") < 0
                  && first_index (env, canonical, "pressure-critical") < 0;
       i++)
    ow_test_env_iterate (10);
  g_output_stream_write_all (input, "anon\n", 5, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ow_test_env_wait_signal (env, canonical, "oom", 60000));
  ow_test_env_wait_process (hog);
  ow_test_env_iterate (500);
  low = first_index (env, canonical, "pressure-low");
  oom = first_index (env, canonical, "oom");
  higher = first_index (env, canonical, "pressure-critical");
  if (higher < 0
      || (first_index (env, canonical, "pressure-medium") >= 0
          && first_index (env, canonical, "pressure-medium") < higher))
    higher = first_index (env, canonical, "pressure-medium");
  for (guint i = 0; i < env->signals->len; i++)
    g_test_message ("signal %u: %s", i,
                    ((OwTestSignal *)g_ptr_array_index (env->signals, i))->kind);
  g_assert_cmpint (low, >=, 0);
  g_assert_cmpint (higher, >, low);
  g_assert_cmpint (oom, >, higher);
  g_assert_cmpuint (ow_test_env_n_signals (env, canonical, "pressure-medium"), <=, 1);
  g_assert_cmpuint (ow_test_env_n_signals (env, canonical, "pressure-critical"), <=, 1);
  ow_test_env_free (env);
}

static gboolean
daemon_logged (OwTestEnv *env, const char *text)
{
  g_autofree char *log = NULL;

  return g_file_get_contents (env->daemon_log, &log, NULL, NULL) && strstr (log, text) != NULL;
}

/* After a level has been quiet for its period it is sent again at once: a second hog after
 * a pause gets its own "low". */
static void
test_rearm (void)
{
  OwTestEnv *env = ow_test_env_new_own ("it reads the daemon's --verbose log");
  g_autofree char *canonical = ow_test_env_make_cgroup (env, "again", "32M", FALSE);
  g_autofree char *dir = ow_test_env_cgroup_path (env, "again");
  g_autofree char *file = g_build_filename (env->tmpdir, "churn", NULL);
  g_autofree char *rearmed = g_strdup_printf ("%s: pressure low quiet, re-armed", canonical);
  const char *argv[] = { g_getenv ("PRESSURE_HOG"), dir, file, "256", "0", NULL };
  g_autoptr (GError) error = NULL;

  g_signal_connect (env->manager, "memory-pressure", G_CALLBACK (on_memory_pressure), env);
  g_assert_true (watch_pressure (env, canonical, "low", FALSE, &error));
  for (guint round = 1; round <= 2; round++)
    {
      g_autoptr (GSubprocess) hog = ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_STDIN_PIPE, argv);

      g_assert_true (ow_test_env_wait_signal (env, canonical, "pressure-low", 30000));
      for (int i = 0; i < 3000 && ow_test_env_n_signals (env, canonical, "pressure-low") < round;
           i++)
        ow_test_env_iterate (10);
      g_assert_cmpuint (ow_test_env_n_signals (env, canonical, "pressure-low"), ==, round);
      g_subprocess_force_exit (hog);
      ow_test_env_wait_process (hog);
      /* Quiet from now on: the level comes back within one or two periods (15 s each). */
      for (int i = 0; round == 1 && i < 4000 && !daemon_logged (env, rearmed); i++)
        ow_test_env_iterate (10);
      g_assert_true (round == 2 || daemon_logged (env, rearmed));
    }
  ow_test_env_free (env);
}

static void
assert_refused (OwTestEnv *env, const char *cgroup, GVariant *options, const char *names)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *canonical = NULL;

  oomwatch_manager_call_watch_sync (env->manager, cgroup, options, G_DBUS_CALL_FLAGS_NONE, -1,
                                    &canonical, NULL, &error);
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, names));
}

/* Bad values are refused with the allowed values named; nothing is left registered. */
static void
test_bad_options (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *dir = ow_test_env_make_cgroup (env, "bad", NULL, FALSE);
  g_auto (GVariantBuilder) wrong_type = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{sv}"));
  g_auto (GVariantBuilder) events = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{sv}"));
  const char *const high[] = { "high", NULL };

  assert_refused (env, dir, pressure_options ("extreme", FALSE), "low, medium, critical");
  assert_refused (env, dir, pressure_options ("", TRUE), "low, medium, critical");
  g_variant_builder_add (&wrong_type, "{sv}", OOMWATCH_OPTION_PRESSURE, g_variant_new_uint32 (1));
  assert_refused (env, dir, g_variant_builder_end (&wrong_type), "low, medium, critical");
  /* memory.events high/max exist on cgroup v2 only. */
  g_variant_builder_add (&events, "{sv}", OOMWATCH_OPTION_EVENTS, g_variant_new_strv (high, -1));
  assert_refused (env, dir, g_variant_builder_end (&events), "cgroup v2");
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 0);
  ow_test_env_free (env);
}

static guint32
watch_key_u (OwTestEnv *env, const char *canonical, const char *key)
{
  g_autoptr (GVariant) entry = ow_test_env_find_watch (env, canonical);
  guint32 value = 0;

  g_assert_nonnull (entry);
  g_variant_lookup (entry, key, "u", &value);
  return value;
}

static char *
run_oomctl (const char *const *args, gboolean as_nobody, int *status)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) error = NULL;
  char *out = NULL;

  g_ptr_array_add (argv, (gpointer)g_getenv ("OOMCTL"));
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer)args[i]);
  g_ptr_array_add (argv, NULL);
  if (as_nobody)
    g_subprocess_launcher_set_child_setup (launcher, ow_test_env_drop_to_nobody, NULL, NULL);
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  *status = g_subprocess_get_exit_status (process);
  g_test_message ("oomctl %s → %d:\n%s", args[0], *status, out);
  return out;
}

/* Each level armed costs one fd, shared by every watcher, and counts against the limits. */
static void
test_costs (void)
{
  const char *const args[] = { "--client-watch-limit=3", "--total-watch-limit=6", NULL };
  OwTestEnv *env = ow_test_env_new (args);
  g_autofree char *a = ow_test_env_make_cgroup (env, "a", NULL, FALSE);
  g_autofree char *b = ow_test_env_make_cgroup (env, "b", NULL, FALSE);
  g_autofree char *ca = ow_test_env_canonical (env, "a");
  g_autofree char *cb = ow_test_env_canonical (env, "b");
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) entry = NULL;
  const char *level = NULL;
  const char *both[] = { "watch", "--pressure=critical", "--timeout=1", a, b, NULL };
  g_autofree char *refused = NULL;
  int status;

  /* Not root: a cgroup with pressure counts twice, so the second exceeds 3. */
  refused = run_oomctl (both, TRUE, &status);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (refused, "already holds 1 watches"));
  g_assert_nonnull (strstr (refused, "memory pressure counts twice"));
  g_assert_true (ow_test_env_wait_watched (env, ca, FALSE));
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 0);

  g_assert_true (watch_pressure (env, a, "critical", FALSE, &error));
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 2);
  entry = ow_test_env_find_watch (env, ca);
  g_assert_true (g_variant_lookup (entry, OOMWATCH_KEY_PRESSURE, "&s", &level));
  g_assert_cmpstr (level, ==, "critical");
  g_assert_cmpuint (watch_key_u (env, ca, OOMWATCH_KEY_PRESSURE_FDS), ==, 1);
  /* Again with a lower level: the same watch, two more levels armed. */
  g_assert_true (watch_pressure (env, a, "low", FALSE, &error));
  g_assert_cmpuint (watch_key_u (env, ca, OOMWATCH_KEY_PRESSURE_FDS), ==, 3);
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 4);
  /* 4 fds + b (1) + its 3 levels = 8 > 6: refused, nothing half made. */
  g_assert_false (watch_pressure (env, b, "low", FALSE, &error));
  g_assert_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_LIMIT_EXCEEDED);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_null (ow_test_env_find_watch (env, cb));
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 4);
  /* Critical only: 1 + 1 more = 6, fits. */
  g_assert_true (watch_pressure (env, b, "critical", FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 6);
  /* Unwatch closes the pressure registrations too. */
  oomwatch_manager_call_unwatch_sync (env->manager, a, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 2);
  ow_test_env_free (env);
}

static gboolean
pressure_armed (OwTestEnv *env, const char *canonical, const char *level)
{
  g_autoptr (GVariant) entry = ow_test_env_find_watch (env, canonical);
  const char *armed = NULL;

  return entry != NULL && g_variant_lookup (entry, OOMWATCH_KEY_PRESSURE, "&s", &armed)
         && g_strcmp0 (armed, level) == 0;
}

/* A recursive watch arms pressure on every cgroup it covers, also on those created later;
 * unwatching its root disarms them all, and a plain watch below keeps what it asked. */
static void
test_recursive (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *top = ow_test_env_make_cgroup (env, "top", NULL, FALSE);
  g_autofree char *kid = ow_test_env_make_cgroup (env, "top/kid", NULL, FALSE);
  g_autofree char *late = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (watch_pressure (env, top, "medium", TRUE, &error));
  g_assert_true (pressure_armed (env, top, "medium"));
  g_assert_true (pressure_armed (env, kid, "medium"));
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 2 * 3);
  late = ow_test_env_make_cgroup (env, "top/kid/late", NULL, FALSE);
  for (int i = 0; i < 500 && !pressure_armed (env, late, "medium"); i++)
    ow_test_env_iterate (10);
  g_assert_true (pressure_armed (env, late, "medium"));
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 3 * 3);

  /* The same connection also watches kid plainly, at critical only. */
  g_assert_true (watch_pressure (env, kid, "critical", FALSE, &error));
  oomwatch_manager_call_unwatch_sync (env->manager, top, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (ow_test_env_find_watch (env, top));
  g_assert_null (ow_test_env_find_watch (env, late));
  g_assert_true (pressure_armed (env, kid, "critical"));
  g_assert_cmpuint (watch_key_u (env, kid, OOMWATCH_KEY_PRESSURE_FDS), ==, 1);
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 2);
  ow_test_env_free (env);
}

/* oomctl watch --pressure prints MemoryPressure (JSON here); list and status show the cost. */
static void
test_oomctl (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *canonical = ow_test_env_make_cgroup (env, "ctl", "32M", FALSE);
  g_autofree char *dir = ow_test_env_cgroup_path (env, "ctl");
  g_autofree char *file = g_build_filename (env->tmpdir, "churn", NULL);
  const char *hog_argv[] = { g_getenv ("PRESSURE_HOG"), dir, file, "256", "0", NULL };
  const char *watch[] = { g_getenv ("OOMCTL"), "watch",        "--pressure", "low", "--json",
                          "--count=1",         "--timeout=60", canonical,    NULL };
  const char *list[] = { "list", NULL };
  const char *status[] = { "status", NULL };
  g_autoptr (GSubprocess) watcher = NULL;
  g_autoptr (GSubprocess) hog = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL, *listed = NULL, *shown = NULL, *pressure_line = NULL;
  g_autofree char *expected = g_strdup_printf ("\"signal\":\"MemoryPressure\",\"cgroup\":\"%s\","
                                               "\"level\":\"low\",\"details\":{",
                                               canonical);
  int exit_status;

  watcher = g_subprocess_newv (watch, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  g_assert_true (ow_test_env_wait_watched (env, canonical, TRUE));
  listed = run_oomctl (list, FALSE, &exit_status);
  g_assert_cmpint (exit_status, ==, 0);
  g_assert_nonnull (strstr (listed, "PRESSURE/FD"));
  g_assert_nonnull (strstr (listed, " low/3 "));
  shown = run_oomctl (status, FALSE, &exit_status);
  g_assert_nonnull (strstr (shown, "pressure:  1 watches with memory pressure armed, 3 fds"));

  hog = ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_STDIN_PIPE, hog_argv);
  g_subprocess_communicate_utf8 (watcher, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("oomctl watch:\n%s", out);
  g_assert_cmpint (g_subprocess_get_exit_status (watcher), ==, 0);
  g_assert_nonnull (strstr (out, expected));
  g_assert_nonnull (strstr (out, "\"level-value\":50"));
  /* Numbered (continuity) on the MemoryPressure line itself, not only on OOM lines. */
  pressure_line = g_strndup (strstr (out, expected), strcspn (strstr (out, expected), "\n"));
  g_assert_nonnull (strstr (pressure_line, "\"seq\":"));
  g_subprocess_force_exit (hog);
  ow_test_env_wait_process (hog);
  ow_test_env_free (env);
}

int
main (int argc, char **argv)
{
  const OwTestCase cases[] = {
    { "/pressure/levels", test_levels },
    { "/pressure/bad-options", test_bad_options },
    { "/pressure/costs", test_costs },
    { "/pressure/oomctl", test_oomctl },
    { "/pressure/recursive", test_recursive },
    { "/pressure/rearm", test_rearm },
    { NULL },
  };

  return ow_test_env_main (argc, argv, cases);
}
