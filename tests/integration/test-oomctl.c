/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomctl against the real daemon: what a user sees, in both formats. */
#include "ow-test-conditions.h"
#include "ow-test-cgroups.h"
#include "ow-test-oomctl.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

/* The shared runner (ow-test-oomctl.h), under the names this file uses. */
typedef OwOomctlRun Run;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, ow_oomctl_run_clear)

/* The keys a cgroup path gives, in oomctl's order, each optional. */
#define UNIT_KEYS "( unit=[^ ]+)?( slice=[^ ]+)?( user-unit=[^ ]+)?( app-id=[^ ]+)?"
/* A kill's memory: the victim's (when named) and its 32M cgroup's */
#define MEMORY_KEYS                                                                              \
  "( rss=[^ ]+)? limit=32M( peak=[^ ]+)? usage=[^ ]+( swap=[^ ]+)?( oom-score-adj=-?[0-9]+)?"

static GSubprocess *
oomctl_start (OwTestEnv *env, const char *const *args)
{
  return ow_oomctl_start (NULL, NULL, args);
}

static void
oomctl_finish (GSubprocess *process, Run *run)
{
  ow_oomctl_finish (process, run);
}

static void
oomctl_run (OwTestEnv *env, const char *const *args, Run *run)
{
  ow_oomctl_run (NULL, NULL, args, run);
}

static void
wait_watched (OwTestEnv *env, const char *cgroup)
{
  g_assert_true (ow_test_env_wait_watched (env, cgroup, TRUE));
}

static guint32
watchers_of (OwTestEnv *env, const char *cgroup)
{
  g_autoptr (GVariant) watch = ow_test_env_find_watch (env, cgroup);
  guint32 watchers = 0;

  if (watch != NULL)
    g_variant_lookup (watch, "watchers", "u", &watchers);
  return watchers;
}

typedef struct
{
  OwTestEnv *env;
  const char *cgroup;
  const char *path;
  guint n;
} LinesWait;

static gboolean
has_two_watchers (gpointer user_data)
{
  LinesWait *wait = user_data;

  return watchers_of (wait->env, wait->cgroup) == 2;
}

static gboolean
has_lines (gpointer user_data)
{
  LinesWait *wait = user_data;
  g_autofree char *text = NULL;
  guint n = 0;

  if (!g_file_get_contents (wait->path, &text, NULL, NULL))
    return FALSE;
  for (const char *p = text; (p = strchr (p, '\n')) != NULL; p++)
    n++;
  return n >= wait->n;
}

/* oomctl watch prints every signal of a real OOM: the "oom" (one or more: the dying victim may
 * re-enter OOM handling) and exactly one "oom-kill" naming the victim. The test's own
 * connection watches the same cgroup, so it knows how many lines oomctl must print. */
static void
watch_one_kill (gboolean json)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "out", "32M", FALSE);
  g_autofree char *absolute = ow_test_env_cgroup_path (env, "out");
  g_autofree char *out_path = g_build_filename (env->tmpdir, "oomctl.out", NULL);
  const char *argv[]
      = { g_getenv ("OOMCTL"), "watch", absolute, "--timeout=60", json ? "--json" : NULL, NULL };
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr (GSubprocess) watcher = NULL;
  g_autoptr (GSubprocess) hog = NULL;
  g_autoptr (GRegex) oom = NULL, kill = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_auto (GStrv) lines = NULL;
  g_autofree char *quoted = g_regex_escape_string (cgroup, -1);
  gboolean v1 = ow_test_cgroups_version () == 1;
  const char *stamp = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}[+-]\\d\\d:\\d\\d";
  LinesWait wait = { env, cgroup, out_path, 0 };
  guint kills = 0;
  guint32 hog_pid;
  gboolean named;

  g_subprocess_launcher_set_stdout_file_path (launcher, out_path);
  watcher = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_free (ow_test_env_watch (env, NULL, cgroup));
  g_assert_true (ow_test_wait_until (has_two_watchers, &wait, OW_TEST_WAIT_MS));
  hog = ow_test_env_hog (env, "out", 256);
  hog_pid = ow_test_env_pid (hog);
  ow_test_env_wait_process (hog);
  named = ow_test_kernel_logged_victim (hog_pid);
  g_assert_true (ow_test_env_wait_signal (env, cgroup, "oom-kill", OW_TEST_WAIT_MS));
  ow_test_env_settle (env, cgroup);
  /* oomctl got what we got; once it printed that many lines, stop it (Ctrl-C: exit 0). */
  wait.n = env->signals->len;
  g_assert_true (ow_test_wait_until (has_lines, &wait, OW_TEST_WAIT_MS));
  g_subprocess_send_signal (watcher, SIGINT);
  ow_test_env_wait_process (watcher);
  g_assert_true (g_subprocess_get_if_exited (watcher));
  g_assert_cmpint (g_subprocess_get_exit_status (watcher), ==, 0);
  g_assert_true (g_file_get_contents (out_path, &out, NULL, NULL));
  g_test_message ("oomctl printed:\n%s", out);
  g_unlink (out_path);
  lines = g_strsplit (g_strchomp (out), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, env->signals->len);

  /* under_oom exists on v1 only. */
  if (json)
    {
      g_autofree char *p1 = g_strdup_printf (
          "^\\{\"time\":\"%s\",\"signal\":\"OomEvent\",\"cgroup\":\"%s\",\"kind\":\"oom\","
          "\"count\":[1-9][0-9]*,\"details\":\\{.*%s.*\\}\\}$",
          stamp, quoted, v1 ? "\"under-oom\":false" : "\"hierarchy\":2");
      g_autofree char *p2 = g_strdup_printf (
          "^\\{\"time\":\"%s\",\"signal\":\"OomEvent\",\"cgroup\":\"%s\",\"kind\":\"oom-kill\","
          "\"count\":1,\"details\":\\{.*\"total\":1.*\\}\\}$",
          stamp, quoted);
      oom = g_regex_new (p1, 0, 0, NULL);
      kill = g_regex_new (p2, 0, 0, NULL);
    }
  else
    {
      /* Where the test's own cgroup lies in a unit (the systemd guest), what its path says
       * (unit=, slice=…) comes before seq=. */
      g_autofree char *p1
          = g_strdup_printf ("^%s %s oom count=[1-9][0-9]*%s%s seq=[0-9]+$", stamp, quoted,
                             v1 ? " under-oom=no" : " total=[1-9][0-9]*", UNIT_KEYS);
      /* Names only when the kernel's rate limit let the record naming the victim through. */
      g_autofree char *p2
          = named ? g_strdup_printf ("^%s %s oom-kill count=1 total=1 pid=%u comm=oom-hog uid=0 "
                                     "task-cgroup=%s oom-cgroup=%s" MEMORY_KEYS UNIT_KEYS
                                     " seq=[0-9]+$",
                                     stamp, quoted, hog_pid, quoted, quoted)
                  : g_strdup_printf ("^%s %s oom-kill count=1 total=1" MEMORY_KEYS UNIT_KEYS
                                     " seq=[0-9]+$",
                                     stamp, quoted);
      oom = g_regex_new (p1, 0, 0, NULL);
      kill = g_regex_new (p2, 0, 0, NULL);
    }
  g_assert_true (g_regex_match (oom, lines[0], 0, NULL));
  for (guint i = 1; lines[i] != NULL; i++)
    {
      if (g_regex_match (kill, lines[i], 0, NULL))
        kills++;
      else
        g_assert_true (g_regex_match (oom, lines[i], 0, NULL));
    }
  g_assert_cmpuint (kills, ==, 1);
  ow_test_env_free (env);
}

static void
test_watch_human (void)
{
  watch_one_kill (FALSE);
}

static void
test_watch_json (void)
{
  watch_one_kill (TRUE);
}

/* watch ends by itself once its cgroup is removed, printing the removal. */
static void
test_watch_removed (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "rm", NULL, FALSE);
  g_autofree char *dir = ow_test_env_cgroup_path (env, "rm");
  const char *args[] = { "watch", "--json", cgroup, "--timeout=30", NULL };
  g_autoptr (GSubprocess) watcher = oomctl_start (env, args);
  g_autofree char *expected = NULL;
  g_auto (Run) run = { 0 };

  wait_watched (env, cgroup);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  oomctl_finish (watcher, &run);
  g_assert_cmpint (run.status, ==, 0);
  expected = g_strdup_printf ("\"signal\":\"WatchRemoved\",\"cgroup\":\"%s\","
                              "\"reason\":\"cgroup-removed\",\"details\":{", /* continuity */
                              cgroup);
  g_assert_nonnull (strstr (run.out, expected));
  g_assert_true (g_str_has_suffix (run.out, "}}\n"));
  g_assert_cmpstr (strchr (run.out, '\n'), ==, "\n"); /* that one line, nothing else */
  ow_test_env_free (env);
}

typedef struct
{
  const char *path;
  const char *const *needles;
} LineWait;

/* Whether a line of the file has every needle. */
static gboolean
has_line_with (gpointer user_data)
{
  LineWait *wait = user_data;
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (wait->path, &text, NULL, NULL))
    return FALSE;
  lines = g_strsplit (text, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      gboolean all = TRUE;

      for (gsize k = 0; wait->needles[k] != NULL && all; k++)
        all = strstr (lines[i], wait->needles[k]) != NULL;
      if (all)
        return TRUE;
    }
  return FALSE;
}

/* The done-when of recursive watches: `oomctl watch --recursive PARENT` names the process
 * killed in a grandchild created after the watch started. */
static void
test_watch_recursive (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *parent = ow_test_env_make_cgroup (env, "top", NULL, FALSE);
  g_autofree char *out_path = g_build_filename (env->tmpdir, "oomctl.out", NULL);
  const char *argv[]
      = { g_getenv ("OOMCTL"), "watch", "--recursive", "--json", "--timeout=60", parent, NULL };
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr (GSubprocess) watcher = NULL;
  g_autoptr (GSubprocess) hog = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *child = NULL, *grandchild = NULL, *expected = NULL, *pid_field = NULL;
  guint32 hog_pid;

  g_subprocess_launcher_set_stdout_file_path (launcher, out_path);
  watcher = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  wait_watched (env, parent);
  child = ow_test_env_make_cgroup (env, "top/mid", NULL, FALSE);
  grandchild = ow_test_env_make_cgroup (env, "top/mid/leaf", "32M", FALSE);
  wait_watched (env, grandchild);

  hog = ow_test_env_hog (env, "top/mid/leaf", 256);
  expected = g_strdup_printf ("\"cgroup\":\"%s\",\"kind\":\"oom-kill\",\"count\":1,", grandchild);
  hog_pid = ow_test_env_pid (hog);
  pid_field = g_strdup_printf ("\"pid\":%u,", hog_pid);
  {
    const char *needles[] = { expected, pid_field, "\"comm\":\"oom-hog\"", NULL };
    LineWait wait = { out_path, needles };

    ow_test_env_wait_process (hog);
    /* Without the kernel's record naming the victim (rate-limited), the kill comes unnamed. */
    if (!ow_test_kernel_logged_victim (hog_pid))
      needles[1] = NULL;

    g_assert_true (ow_test_wait_until (has_line_with, &wait, OW_TEST_WAIT_MS));
  }
  g_subprocess_send_signal (watcher, SIGINT);
  ow_test_env_wait_process (watcher);
  g_assert_cmpint (g_subprocess_get_exit_status (watcher), ==, 0);
  g_unlink (out_path);
  ow_test_env_free (env);
}

/* list, status, monitor and the error paths. */
static void
test_list_status_errors (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "listed", NULL, FALSE);
  g_free (ow_test_env_watch (env, NULL, cgroup));
  g_autofree char *json_line = g_strdup_printf ("{\"cgroup\":\"%s\",\"watch\":{", cgroup);
  g_autofree char *dotdot = g_strdup_printf ("%s/..", cgroup);
  const char *list[] = { "list", NULL };
  const char *list_json[] = { "list", "--json", NULL };
  const char *status[] = { "status", NULL };
  const char *monitor[] = { "monitor", "--timeout=1", NULL };
  const char *bad_path[] = { "watch", dotdot, NULL };
  const char *missing[] = { "watch", "/no/such/cgroup", NULL };
  const char *not_watched[] = { "unwatch", cgroup, NULL };
  const char *usage[][3]
      = { { "frobnicate", NULL }, { "watch", NULL }, { "list", "--bogus", NULL }, { NULL } };

  {
    g_auto (Run) run = { 0 };

    oomctl_run (env, list, &run);
    g_assert_cmpint (run.status, ==, 0);
    g_assert_true (g_str_has_prefix (run.out, "CGROUP "));
    g_assert_nonnull (strstr (run.out, cgroup));
  }
  {
    g_auto (Run) run = { 0 };

    oomctl_run (env, list_json, &run);
    g_assert_cmpint (run.status, ==, 0);
    g_assert_true (g_str_has_prefix (run.out, json_line));
    g_assert_nonnull (strstr (run.out, "\"watchers\":1"));
    g_assert_true (strstr (run.out, "\"under-oom\":false") != NULL
                   || ow_test_cgroups_version () == 2);
  }
  {
    g_auto (Run) run = { 0 };
    g_autofree char *hierarchy = g_strdup_printf ("hierarchy: cgroup v%u",
                                                  ow_test_cgroups_version ());

    oomctl_run (env, status, &run);
    g_assert_cmpint (run.status, ==, 0);
    g_assert_nonnull (strstr (run.out, hierarchy));
    g_assert_nonnull (strstr (run.out, "watches:   1"));
  }
  {
    g_auto (Run) run = { 0 };

    oomctl_run (env, monitor, &run);
    g_assert_cmpint (run.status, ==, 0);
    g_assert_cmpstr (run.out, ==, "");
  }
  {
    g_auto (Run) run = { 0 };

    oomctl_run (env, bad_path, &run);
    g_assert_cmpint (run.status, ==, 1);
    g_assert_nonnull (strstr (run.err, "'..' is not allowed"));
    g_assert_null (strstr (run.err, "GDBus.Error"));
  }
  {
    g_auto (Run) run = { 0 };

    oomctl_run (env, missing, &run);
    g_assert_cmpint (run.status, ==, 1);
    g_assert_nonnull (strstr (run.err, "No such cgroup '/no/such/cgroup'"));
  }
  {
    g_auto (Run) run = { 0 };

    oomctl_run (env, not_watched, &run);
    g_assert_cmpint (run.status, ==, 1);
    g_assert_nonnull (strstr (run.err, "not a persistent watch"));
  }
  for (gsize i = 0; usage[i][0] != NULL; i++)
    {
      g_auto (Run) run = { 0 };

      oomctl_run (env, usage[i], &run);
      g_assert_cmpint (run.status, ==, 2);
    }
  ow_test_env_free (env);
}

int
main (int argc, char **argv)
{
  int skip = ow_test_env_init (&argc, &argv);

  if (skip != 0)
    return skip;
  g_test_add_func ("/oomctl/watch-human", test_watch_human);
  g_test_add_func ("/oomctl/watch-json", test_watch_json);
  g_test_add_func ("/oomctl/watch-removed", test_watch_removed);
  g_test_add_func ("/oomctl/watch-recursive", test_watch_recursive);
  g_test_add_func ("/oomctl/list-status-errors", test_list_status_errors);
  return g_test_run ();
}
