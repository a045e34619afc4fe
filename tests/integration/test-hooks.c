/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomctl watch --exec: the hook runs once per event, in seq order, with the event in its
 * environment and on stdin; across restarts of the daemon (SIGKILL) and of oomctl, every kill
 * is handled exactly once; a hook that hangs is killed; hostile names are passed safely. */
#include "ow-test-conditions.h"
#include "ow-test-cgroups.h"
#include "ow-test-continuity.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>

#define WAIT_MS 120000
/* 200 kills on the host; the cgroup v2 guest is an emulated single CPU where a kill takes
 * about a second: 40 there. */
#define STORM_KILLS_HOST 200
#define STORM_KILLS_GUEST 40

/* Appends one line per run to $1: SEQ KIND COUNT PID ANON_RSS, then the cgroup, unit and
 * app-id, then the JSON line it got on stdin, tab-separated. */
static const char log_hook[] = "#!/bin/sh\n"
                               "json=$(cat)\n"
                               "printf '%s %s %s %s %s\\t%s\\t%s\\t%s\\t%s\\n' "
                               "\"$OOMWATCH_SEQ\" \"$OOMWATCH_KIND\" \"$OOMWATCH_COUNT\" "
                               "\"${OOMWATCH_PID:--}\" \"${OOMWATCH_ANON_RSS:--}\" "
                               "\"$OOMWATCH_CGROUP\" \"$OOMWATCH_UNIT\" \"$OOMWATCH_APP_ID\" "
                               "\"$json\" >> \"$1\"\n";

typedef struct
{
  OwTestEnv *env;
  char *dir;     /* scratch files */
  char *hook;    /* the script */
  char *log;     /* what it wrote */
  char *state;   /* oomctl's state file */
  char *stderr_path;
  const char *cgroup;
} Hooks;

static char *
write_script (const char *dir, const char *name, const char *text)
{
  char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, 0755), ==, 0);
  return path;
}

static void
hooks_init (Hooks *hooks, OwTestEnv *env, const char *script)
{
  g_autoptr (GError) error = NULL;

  hooks->env = env;
  hooks->dir = g_dir_make_tmp ("oomwatch-hooks-XXXXXX", &error);
  g_assert_no_error (error);
  hooks->hook = write_script (hooks->dir, "hook", script);
  hooks->log = g_build_filename (hooks->dir, "log", NULL);
  hooks->state = g_build_filename (hooks->dir, "state", NULL);
  hooks->stderr_path = g_build_filename (hooks->dir, "stderr", NULL);
}

static void
hooks_clear (Hooks *hooks)
{
  g_autofree char *err = NULL;

  if (g_file_get_contents (hooks->stderr_path, &err, NULL, NULL))
    g_test_message ("oomctl's stderr:\n%s", err);
  ow_test_remove_tree (hooks->dir);
  g_free (hooks->dir);
  g_free (hooks->hook);
  g_free (hooks->log);
  g_free (hooks->state);
  g_free (hooks->stderr_path);
}

/* oomctl watch CGROUP [EXTRA…] --state-file … --exec HOOK LOG, with ENV added to its own. */
static GSubprocess *
start_watch (Hooks *hooks, const char *cgroup, const char *const *extra, const char *const *env)
{
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *state_arg = g_strdup_printf ("--state-file=%s", hooks->state);
  GSubprocess *oomctl;

  /* Each oomctl's stderr after the last's */
  int err_fd = open (hooks->stderr_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

  g_assert_cmpint (err_fd, >=, 0);
  g_subprocess_launcher_take_stderr_fd (launcher, err_fd);
  for (gsize i = 0; env != NULL && env[i] != NULL; i += 2)
    g_subprocess_launcher_setenv (launcher, env[i], env[i + 1], TRUE);
  g_ptr_array_add (argv, (gpointer)g_getenv ("OOMCTL"));
  g_ptr_array_add (argv, "watch");
  g_ptr_array_add (argv, (gpointer)cgroup);
  for (gsize i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer)extra[i]);
  g_ptr_array_add (argv, state_arg);
  g_ptr_array_add (argv, "--exec");
  g_ptr_array_add (argv, hooks->hook);
  g_ptr_array_add (argv, hooks->log);
  g_ptr_array_add (argv, NULL);
  oomctl = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, &error);
  g_assert_no_error (error);
  return oomctl;
}

static void
stop_watch (GSubprocess *oomctl)
{
  g_subprocess_send_signal (oomctl, SIGTERM);
  ow_test_env_wait_process (oomctl);
  g_assert_true (g_subprocess_get_if_exited (oomctl));
}

static GPtrArray *
read_log (Hooks *hooks)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *runs = g_ptr_array_new_with_free_func ((GDestroyNotify)g_strfreev);

  if (!g_file_get_contents (hooks->log, &text, NULL, NULL))
    return runs;
  lines = g_strsplit (text, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0')
      g_ptr_array_add (runs, g_strsplit (lines[i], "\t", 5));
  return runs;
}

/* The sum of COUNT over the runs for oom-kill */
static guint64
kills_handled (Hooks *hooks)
{
  g_autoptr (GPtrArray) runs = read_log (hooks);
  guint64 sum = 0;

  for (guint i = 0; i < runs->len; i++)
    {
      g_auto (GStrv) fields = g_strsplit (((char **)g_ptr_array_index (runs, i))[0], " ", 5);

      if (g_strv_length (fields) == 5 && strcmp (fields[1], "oom-kill") == 0)
        sum += g_ascii_strtoull (fields[2], NULL, 10);
    }
  return sum;
}

static void
wait_kills_handled (Hooks *hooks, guint64 n)
{
  gint64 until = g_get_monotonic_time () + ow_test_timeout_ms (WAIT_MS) * G_TIME_SPAN_MILLISECOND;

  g_autofree char *err = NULL;

  while (kills_handled (hooks) < n && g_get_monotonic_time () < until)
    ow_test_env_iterate (50);
  g_file_get_contents (hooks->stderr_path, &err, NULL, NULL);
  g_test_message ("the hook handled %" G_GUINT64_FORMAT " kills; the daemon told this test of %"
                  G_GUINT64_FORMAT "; oomctl %s events",
                  kills_handled (hooks), ow_test_env_sum (hooks->env, hooks->cgroup, "oom-kill"),
                  err != NULL && strstr (err, "dropped") != NULL ? "dropped" : "dropped no");
  g_assert_cmpuint (kills_handled (hooks), ==, n);
}

/* The test's own watch and oomctl's */
static void
wait_two_watchers (OwTestEnv *env, const char *cgroup)
{
  gint64 until = g_get_monotonic_time () + ow_test_timeout_ms (WAIT_MS) * G_TIME_SPAN_MILLISECOND;
  guint32 watchers = 0;

  while (watchers < 2 && g_get_monotonic_time () < until)
    {
      g_autoptr (GVariant) watch = ow_test_env_find_watch (env, cgroup);

      if (watch != NULL)
        g_variant_lookup (watch, "watchers", "u", &watchers);
      if (watchers < 2)
        ow_test_env_iterate (20);
    }
  g_assert_cmpuint (watchers, ==, 2);
}

/* The daemon saves the counters and history of what it sent when History() is asked. */
static void
flush_daemon (OwTestEnv *env)
{
  g_autoptr (GVariant) events = NULL;
  g_autoptr (GVariant) info = NULL;
  g_autoptr (GError) error = NULL;

  oomwatch_manager_call_history_sync (env->manager, G_MAXUINT64 - 1, g_variant_new ("a{sv}", NULL),
                                      G_DBUS_CALL_FLAGS_NONE, -1, &events, &info, NULL, &error);
  g_assert_no_error (error);
}

/* Every run once, in seq order, with the event's environment and its JSON line on stdin. */
static void
check_runs (Hooks *hooks, const char *cgroup)
{
  g_autoptr (GPtrArray) runs = read_log (hooks);
  guint64 last = 0;
  guint named = 0;

  g_assert_cmpuint (runs->len, >, 0);
  for (guint i = 0; i < runs->len; i++)
    {
      char **run = g_ptr_array_index (runs, i);
      g_auto (GStrv) fields = g_strsplit (run[0], " ", 5);
      g_autofree char *json_seq = NULL;
      guint64 seq;

      g_assert_cmpuint (g_strv_length (run), ==, 5);
      g_assert_cmpuint (g_strv_length (fields), ==, 5);
      seq = g_ascii_strtoull (fields[0], NULL, 10);
      g_assert_cmpuint (seq, >, last);
      last = seq;
      g_assert_cmpstr (run[1], ==, cgroup);
      g_assert_cmpstr (run[2], ==, "app-org.example.Hog-42.scope");
      g_assert_cmpstr (run[3], ==, "org.example.Hog");
      json_seq = ow_test_json_field (run[4], "seq");
      g_assert_cmpstr (json_seq, ==, fields[0]);
      g_assert_nonnull (strstr (run[4], "\"kind\":\""));
      if (strcmp (fields[3], "-") != 0)
        {
          named++;
          g_assert_cmpstr (fields[1], ==, "oom-kill");
          g_assert_cmpstr (fields[4], !=, "-");
        }
    }
  g_test_message ("%u hook runs, %u of them named the victim", runs->len, named);
}

/* The done-when test: 200 kills (40 in the v2 guest), the daemon SIGKILLed and restarted, oomctl stopped and
 * started again; the hook handled every kill once, in seq order. */
static void
test_storm_restarts (void)
{
  const guint64 kills = ow_test_cgroups_version () == 2 ? STORM_KILLS_GUEST : STORM_KILLS_HOST;
  OwTestEnv *env = ow_test_env_new_own ("it SIGKILLs the daemon and starts it again");
  const char *name = "app-org.example.Hog-42.scope";
  /* The storms' oom events come faster than a hook runs, more of them the quicker the daemon
   * tells each: oomctl's default queue (1000) would drop some, which is not what this tests. */
  const char *const extra[] = { "--exec-queue=1000000", NULL };
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, name, "8M", FALSE);
  g_autoptr (GSubprocess) oomctl = NULL;
  Hooks hooks = { 0 };
  gint64 start = g_get_monotonic_time ();

  hooks_init (&hooks, env, log_hook);
  hooks.cgroup = cgroup;
  /* The test's own watch keeps the cgroup watched while oomctl is away (as a persistent
   * watch in oomwatch.conf would). */
  g_free (ow_test_env_watch (env, NULL, cgroup));
  oomctl = start_watch (&hooks, cgroup, extra, NULL);
  wait_two_watchers (env, cgroup);
  /* oomctl is up once the hook ran for a first kill */
  ow_test_env_storm (env, name, 1, 64, 1);
  wait_kills_handled (&hooks, 1);
  ow_test_env_storm (env, name, kills / 4, 64, 4);

  /* The daemon dies with the hook far behind, and kills go on without it. Not between a
   * signal and the saving of its counters (a History() call saves them): that would have the
   * next daemon tell those kills again, which is the daemon's matter (continuity-restart). */
  g_assert_true (ow_test_env_wait_sum (env, cgroup, "oom-kill", 1 + kills / 4));
  flush_daemon (env);
  ow_test_continuity_kill_daemon (env);
  ow_test_env_storm (env, name, kills / 4, 64, 4);
  ow_test_continuity_start_daemon (env);
  g_free (ow_test_env_watch (env, NULL, cgroup));
  ow_test_env_storm (env, name, kills / 4, 64, 4);

  /* oomctl stops with hooks still queued, kills go on, and it starts again. */
  stop_watch (oomctl);
  g_clear_object (&oomctl);
  ow_test_env_storm (env, name, kills / 8, 64, 4);
  oomctl = start_watch (&hooks, cgroup, extra, NULL);
  wait_two_watchers (env, cgroup);
  ow_test_env_storm (env, name, kills / 8, 64, 4);

  /* On v1 a kill is counted when the daemon re-reads the counter after an OOM signal; one
   * the kernel counted after the last re-read (a daemon slowed down, as under ASan) is
   * reported with the next OOM: one more kill, alone, brings every one of them. */
  ow_test_env_storm (env, name, 1, 64, 1);
  wait_kills_handled (&hooks, 1 + kills + 1);
  ow_test_env_iterate (500); /* a repeat would come now */
  g_assert_cmpuint (kills_handled (&hooks), ==, 1 + kills + 1);
  check_runs (&hooks, cgroup);
  g_test_message ("storm with restarts: %.1f s",
                  (double)(g_get_monotonic_time () - start) / G_USEC_PER_SEC);
  stop_watch (oomctl);
  hooks_clear (&hooks);
  ow_test_env_free (env);
}

/* oomctl with the hook on a new cgroup NAME (32M), then one kill there; returns once the
 * hook wrote its log. */
static GSubprocess *
one_kill_hooked (Hooks *hooks, const char *name, char **cgroup, const char *const *extra,
                 const char *const *env_vars)
{
  g_autoptr (GSubprocess) hog = NULL;
  g_autofree char *log = NULL;
  GSubprocess *oomctl;
  gint64 until;

  *cgroup = ow_test_env_make_cgroup (hooks->env, name, "32M", FALSE);
  oomctl = start_watch (hooks, *cgroup, extra, env_vars);
  g_assert_true (ow_test_env_wait_watched (hooks->env, *cgroup, TRUE));
  hog = ow_test_env_hog (hooks->env, name, 256);
  ow_test_assert_hog_killed (hog);
  until = g_get_monotonic_time () + ow_test_timeout_ms (WAIT_MS) * G_TIME_SPAN_MILLISECOND;
  /* A whole line: the file exists before the hook wrote to it */
  while ((log == NULL || strchr (log, '\n') == NULL) && g_get_monotonic_time () < until)
    {
      g_clear_pointer (&log, g_free);
      if (!g_file_get_contents (hooks->log, &log, NULL, NULL) || strchr (log, '\n') == NULL)
        ow_test_env_iterate (50);
    }
  g_assert_nonnull (log);
  g_assert_nonnull (strchr (log, '\n'));
  g_test_message ("hook log: %s", log);
  return oomctl;
}

/* The first run hangs (and leaves a child behind): both are killed at the timeout, the
 * failure is logged, and the next event still runs. */
static void
test_timeout (void)
{
  static const char hanging_hook[]
      = "#!/bin/sh\n"
        "dir=$(dirname \"$1\")\n"
        "if [ ! -e \"$dir/hung\" ]; then\n"
        "  sleep 600 & echo $! > \"$dir/hung\"\n"
        "  sleep 600\n"
        "fi\n"
        "echo \"$OOMWATCH_SEQ $OOMWATCH_KIND\" >> \"$1\"\n";
  const char *const extra[] = { "--exec-timeout=1", NULL };
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *cgroup = NULL;
  g_autoptr (GSubprocess) oomctl = NULL;
  g_autofree char *hung_path = NULL, *hung = NULL, *err = NULL, *proc = NULL;
  Hooks hooks = { 0 };

  hooks_init (&hooks, env, hanging_hook);
  /* The hung run ends at 1 s; the runs after it then write the log. */
  oomctl = one_kill_hooked (&hooks, "hang", &cgroup, extra, NULL);
  g_assert_true (g_file_get_contents (hooks.stderr_path, &err, NULL, NULL));
  g_assert_nonnull (strstr (err, "still ran after 1 s: killed"));
  /* Its child went with it (a zombie until reaped at most). */
  hung_path = g_build_filename (hooks.dir, "hung", NULL);
  g_assert_true (g_file_get_contents (hung_path, &hung, NULL, NULL));
  proc = g_strdup_printf ("/proc/%s/stat", g_strstrip (hung));
  {
    g_autofree char *stat = NULL;

    if (g_file_get_contents (proc, &stat, NULL, NULL))
      g_assert_nonnull (strstr (stat, ") Z "));
  }
  stop_watch (oomctl);
  hooks_clear (&hooks);
  ow_test_env_free (env);
}

/* A cgroup named with shell syntax, and a huge environment: the hook gets them
 * as they are, nothing is run through a shell, and stale OOMWATCH_ variables are not passed. */
static void
test_hostile (void)
{
  /* One line per run, written at once: the next run may start as soon as this one ends */
  static const char env_hook[]
      = "#!/bin/sh\n"
        "printf '%s|%s|%s\\n' \"${#BIG}\" \"${OOMWATCH_PLANTED:-unset}\" \"$OOMWATCH_CGROUP\" "
        ">> \"$1\"\n";
  /* (cgroup names cannot hold a newline: the kernel refuses them) */
  const char *name = "x;$(touch pwned)`touch pwned2`'\"* |&<>{}";
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *cgroup = NULL;
  g_autofree char *big = g_strnfill (100 * 1024, 'b');
  const char *const env_vars[] = { "BIG", big, "OOMWATCH_PLANTED", "evil", NULL };
  g_autoptr (GSubprocess) oomctl = NULL;
  g_autofree char *log = NULL, *first = NULL;
  g_auto (GStrv) fields = NULL;
  Hooks hooks = { 0 };

  hooks_init (&hooks, env, env_hook);
  oomctl = one_kill_hooked (&hooks, name, &cgroup, NULL, env_vars);
  g_assert_true (g_file_get_contents (hooks.log, &log, NULL, NULL));
  fields = g_strsplit (log, "|", 3);
  g_assert_cmpuint (g_strv_length (fields), ==, 3);
  g_assert_cmpstr (fields[0], ==, "102400");
  g_assert_cmpstr (fields[1], ==, "unset");
  first = g_strndup (fields[2], strcspn (fields[2], "\n"));
  g_assert_cmpstr (first, ==, cgroup);
  g_assert_false (g_file_test ("pwned", G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test ("pwned2", G_FILE_TEST_EXISTS));
  stop_watch (oomctl);
  hooks_clear (&hooks);
  ow_test_env_free (env);
}

int
main (int argc, char **argv)
{
  const OwTestCase cases[] = {
    { "/hooks/storm-restarts", test_storm_restarts },
    { "/hooks/timeout", test_timeout },
    { "/hooks/hostile", test_hostile },
    { NULL },
  };

  return ow_test_env_main (argc, argv, cases);
}
