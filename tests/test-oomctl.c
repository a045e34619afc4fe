/* oomctl against the real daemon: what a user sees, in both formats. */
#include "ow-test-env.h"
#include "ow-test-cgroups.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct
{
  int status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *run)
{
  g_free (run->out);
  g_free (run->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

static GSubprocess *
oomctl_start (OwTestEnv *env, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (gpointer) g_getenv ("OOMCTL"));
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  return ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                            (const char *const *) argv->pdata);
}

static void
oomctl_finish (GSubprocess *process, Run *run)
{
  g_autoptr (GError) error = NULL;

  g_subprocess_communicate_utf8 (process, NULL, NULL, &run->out, &run->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  run->status = g_subprocess_get_exit_status (process);
  g_test_message ("exit %d\nstdout:\n%s\nstderr:\n%s", run->status, run->out, run->err);
}

static void
oomctl_run (OwTestEnv *env, const char *const *args, Run *run)
{
  g_autoptr (GSubprocess) process = oomctl_start (env, args);

  oomctl_finish (process, run);
}

static void
wait_watched (OwTestEnv *env, const char *cgroup)
{
  GVariant *watch = NULL;

  for (int i = 0; i < 1000 && (watch = ow_test_env_find_watch (env, cgroup)) == NULL; i++)
    ow_test_env_iterate (10);
  g_assert_nonnull (watch);
  g_variant_unref (watch);
}

/* oomctl watch prints the oom and the oom-kill of a real OOM, then exits on --count. */
static void
watch_one_kill (gboolean json)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "out", "32M", FALSE);
  g_autofree char *absolute = ow_test_env_cgroup_path (env, "out");
  const char *args[] = { "watch", absolute, "--count=2", "--timeout=30", json ? "--json" : NULL,
                         NULL };
  g_autoptr (GSubprocess) watcher = oomctl_start (env, args);
  g_autoptr (GSubprocess) hog = NULL;
  g_autoptr (GRegex) oom = NULL, kill = NULL;
  g_auto (Run) run = { 0 };
  g_auto (GStrv) lines = NULL;
  g_autofree char *quoted = g_regex_escape_string (cgroup, -1);
  gboolean v1 = ow_test_cgroups_version () == 1;
  const char *stamp = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}[+-]\\d\\d:\\d\\d";

  wait_watched (env, cgroup);
  hog = ow_test_env_hog (env, "out", 256);
  oomctl_finish (watcher, &run);
  g_assert_cmpint (run.status, ==, 0);
  lines = g_strsplit (g_strchomp (run.out), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 2);

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
      g_autofree char *p1 = g_strdup_printf ("^%s %s oom count=[1-9][0-9]*%s$", stamp, quoted,
                                             v1 ? " under-oom=no" : " total=[1-9][0-9]*");
      g_autofree char *p2 = g_strdup_printf ("^%s %s oom-kill count=1 total=1 pid=[0-9]+ comm=oom-hog uid=0 task-cgroup=.*$", stamp, quoted);
      oom = g_regex_new (p1, 0, 0, NULL);
      kill = g_regex_new (p2, 0, 0, NULL);
    }
  g_assert_true (g_regex_match (oom, lines[0], 0, NULL));
  /* The dying victim may re-enter OOM handling: more "oom" lines can precede the kill. */
  g_assert_true (g_regex_match (kill, lines[1], 0, NULL)
                 || g_regex_match (oom, lines[1], 0, NULL));
  ow_test_env_wait_process (hog);
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
                              "\"reason\":\"cgroup-removed\"}\n",
                              cgroup);
  g_assert_true (g_str_has_suffix (run.out, expected));
  g_assert_cmpstr (strchr (run.out, '\n'), ==, "\n"); /* that one line, nothing else */
  ow_test_env_free (env);
}

/* The done-when of recursive watches: `oomctl watch --recursive PARENT` names the process
 * killed in a grandchild created after the watch started. */
static void
test_watch_recursive (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *parent = ow_test_env_make_cgroup (env, "top", NULL, FALSE);
  const char *args[] = { "watch", "--recursive", "--json", "--timeout=5", parent, NULL };
  g_autoptr (GSubprocess) watcher = oomctl_start (env, args);
  g_autoptr (GSubprocess) hog = NULL;
  g_autofree char *child = NULL, *grandchild = NULL, *expected = NULL;
  g_auto (Run) run = { 0 };
  GVariant *watch = NULL;

  wait_watched (env, parent);
  child = ow_test_env_make_cgroup (env, "top/mid", NULL, FALSE);
  grandchild = ow_test_env_make_cgroup (env, "top/mid/leaf", "32M", FALSE);
  for (int i = 0; i < 1000 && (watch = ow_test_env_find_watch (env, grandchild)) == NULL; i++)
    ow_test_env_iterate (10);
  g_assert_nonnull (watch);
  g_variant_unref (watch);

  hog = ow_test_env_hog (env, "top/mid/leaf", 256);
  expected = g_strdup_printf ("\"cgroup\":\"%s\",\"kind\":\"oom-kill\",\"count\":1,", grandchild);
  {
    guint32 pid = ow_test_env_pid (hog);
    g_autofree char *pid_field = g_strdup_printf ("\"pid\":%u,", pid);
    g_auto (GStrv) lines = NULL;
    gboolean named = FALSE;

    oomctl_finish (watcher, &run);
    lines = g_strsplit (run.out, "\n", -1);
    for (gsize i = 0; lines[i] != NULL; i++)
      named |= strstr (lines[i], expected) != NULL && strstr (lines[i], pid_field) != NULL
               && strstr (lines[i], "\"comm\":\"oom-hog\"") != NULL;
    g_assert_true (named);
  }
  ow_test_env_wait_process (hog);
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
  const char *usage[][3] = { { "frobnicate", NULL }, { "watch", NULL }, { "list", "--bogus", NULL },
                             { NULL } };

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
    g_assert_nonnull (strstr (run.err, "not watched by this connection"));
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
