/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomctl against the real daemon, by systemd's conventions: --json modes and legends, cgroup
 * paths relative to the working directory, history's filters, one timestamp per event, the
 * "Watching …" line on a terminal, colour. */
#include "ow-test-conditions.h"
#include "ow-test-oomctl.h"
#include "ow-test-oomd.h"
#include "oomwatch-names.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WAIT_MS 30000
#define ISO "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}[+-]\\d\\d:\\d\\d"

static void
run (const char *const *args, OwOomctlRun *result)
{
  ow_oomctl_run (NULL, NULL, args, result);
}

static void
assert_match (const char *pattern, const char *text)
{
  if (!g_regex_match_simple (pattern, text, G_REGEX_DOTALL, 0))
    g_error ("'%s' does not match '%s'", text, pattern);
}

/* status and list in each --json mode, keys sorted, times ISO 8601; the legend and -q; the
 * daemon's word on a missing configuration file. */
static void
test_json_legend (void)
{
  OwTestEnv *env = ow_test_env_new_own ("it reads the daemon's own log");
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "listed", NULL, FALSE);
  const char *status_short[] = { "status", "--json", NULL };
  const char *status_pretty[] = { "status", "--json=pretty", NULL };
  const char *status_off[] = { "status", "--json=off", NULL };
  const char *list_json[] = { "list", "-j", NULL };
  const char *list_table[] = { "list", NULL };
  const char *list_bare[] = { "list", "--no-legend", "-q", NULL };
  g_autofree char *listed = NULL;

  g_free (ow_test_env_watch (env, NULL, cgroup));
  /* No oomwatch.conf here: the daemon does not claim to have read one. */
  ow_test_oomd_log_wait (env, "Built-in configuration (no ", 1);
  g_assert_cmpuint (ow_test_oomd_log_count (env, "Configuration from"), ==, 0);
  {
    g_auto (OwOomctlRun) r = { 0 };

    run (status_short, &r);
    g_assert_cmpint (r.status, ==, 0);
    assert_match ("^\\{\"hierarchy\":[12],\"kernel-log\":(true|false),\"mount\":\"/[^\"]+\","
                  "\"pressure-fds\":0,\"pressure-watches\":0,\"version\":\"[^\"]+\","
                  "\"watches\":1\\}\n$",
                  r.out);
  }
  {
    g_auto (OwOomctlRun) r = { 0 };

    run (status_pretty, &r);
    g_assert_cmpint (r.status, ==, 0);
    assert_match ("^\\{\n  \"hierarchy\": [12],\n  \"kernel-log\": .*\n  \"watches\": 1\n\\}\n$",
                  r.out);
  }
  {
    g_auto (OwOomctlRun) r = { 0 };

    run (status_off, &r);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_true (g_str_has_prefix (r.out, "version:"));
  }
  {
    g_auto (OwOomctlRun) r = { 0 };
    g_autofree char *quoted = g_regex_escape_string (cgroup, -1);
    g_autofree char *pattern = g_strdup_printf (
        "^\\{\"cgroup\":\"%s\",\"watch\":\\{\"hierarchy\":[12],.*\"since\":\"" ISO "\","
        ".*\"watchers\":1\\}\\}\n$",
        quoted);

    run (list_json, &r);
    g_assert_cmpint (r.status, ==, 0);
    assert_match (pattern, r.out);
  }
  {
    g_auto (OwOomctlRun) r = { 0 };

    run (list_table, &r);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_true (g_str_has_prefix (r.out, "CGROUP "));
    g_assert_true (g_str_has_suffix (r.out, "\n\n1 watched cgroups listed.\n"));
    g_assert_null (strchr (r.out, '\033')); /* no colour into a pipe */
    listed = g_strdup (strchr (r.out, '\n') + 1);
  }
  {
    g_auto (OwOomctlRun) r = { 0 };

    g_autofree char *row = g_strndup (listed, (gsize) (strchr (listed, '\n') - listed) + 1);

    run (list_bare, &r);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_cmpstr (r.out, ==, row); /* the row alone: no header, no footer */
  }
  ow_test_env_free (env);
}

static gboolean
is_watched (OwTestEnv *env, const char *cgroup)
{
  return ow_test_env_wait_watched (env, cgroup, TRUE);
}

/* `watch .` in the cgroup's directory watches that cgroup; `watch kid` its child; outside the
 * hierarchy, a clear error. */
static void
test_relative_paths (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "here", NULL, FALSE);
  g_autofree char *kid = ow_test_env_make_cgroup (env, "here/kid", NULL, FALSE);
  g_autofree char *dir = ow_test_env_cgroup_path (env, "here");
  const char *dot[] = { "watch", ".", NULL };
  const char *child[] = { "watch", "kid", NULL };
  const char *outside[] = { "watch", "kid", NULL };
  const char *history_dot[] = { "history", ".", NULL };
  g_autoptr (GSubprocess) watch_dot = ow_oomctl_start (dir, NULL, dot);
  g_autoptr (GSubprocess) watch_kid = ow_oomctl_start (dir, NULL, child);
  g_auto (OwOomctlRun) r1 = { 0 };
  g_auto (OwOomctlRun) r2 = { 0 };
  g_auto (OwOomctlRun) r3 = { 0 };
  g_auto (OwOomctlRun) r4 = { 0 };

  g_assert_true (is_watched (env, cgroup));
  g_assert_true (is_watched (env, kid));
  g_assert_false (ow_test_env_watched (env, "/"));
  g_subprocess_send_signal (watch_dot, SIGINT);
  g_subprocess_send_signal (watch_kid, SIGINT);
  ow_oomctl_finish (watch_dot, &r1);
  ow_oomctl_finish (watch_kid, &r2);
  g_assert_cmpint (r1.status, ==, 0);
  g_assert_cmpint (r2.status, ==, 0);
  g_assert_null (strstr (r1.err, "Watching")); /* stderr is no terminal */

  ow_oomctl_run (env->tmpdir, NULL, outside, &r3);
  g_assert_cmpint (r3.status, ==, 2);
  g_assert_nonnull (strstr (r3.err, "is not inside the cgroup hierarchy"));
  g_assert_nonnull (strstr (r3.err, "Usage: oomctl watch"));
  ow_oomctl_run (dir, NULL, history_dot, &r4);
  g_assert_cmpint (r4.status, ==, 0);
  ow_test_env_free (env);
}

static char **
lines_of (const char *text)
{
  g_autofree char *copy = g_strchomp (g_strdup (text));

  return copy[0] == '\0' ? g_new0 (char *, 1) : g_strsplit (copy, "\n", -1);
}

static guint
count_lines (const char *const *args)
{
  g_auto (OwOomctlRun) r = { 0 };
  g_auto (GStrv) lines = NULL;

  run (args, &r);
  g_assert_cmpint (r.status, ==, 0);
  lines = lines_of (r.out);
  return g_strv_length (lines);
}

/* Two removals in the history (WatchRemoved is kept like an OomEvent), filtered by cgroup,
 * kind, count and time words. */
static void
test_history_filters (void)
{
  OwTestEnv *env = ow_test_env_new_own ("it counts every entry of the daemon's History()");
  g_autofree char *a = ow_test_env_make_cgroup (env, "ha", NULL, FALSE);
  g_autofree char *b = ow_test_env_make_cgroup (env, "hb", NULL, FALSE);
  g_autofree char *a_dir = ow_test_env_cgroup_path (env, "ha");
  g_autofree char *b_dir = ow_test_env_cgroup_path (env, "hb");
  const char *all[] = { "history", NULL };
  const char *only_a[] = { "history", a, NULL };
  const char *both[] = { "history", b, a, NULL };
  const char *removed[] = { "history", "--kind", "cgroup-removed", NULL };
  const char *ooms[] = { "history", "--kind", "oom", "--kind", "oom-kill", NULL };
  const char *last[] = { "history", "-n", "1", "--json", NULL };
  const char *none[] = { "history", "-n", "0", NULL };
  const char *today[] = { "history", "--since", "today", "--until", "now", NULL };
  const char *yesterday[] = { "history", "--since", "yesterday", "--until", "+1h", NULL };
  const char *before[] = { "history", "--until", "-1h", NULL };
  const char *after[] = { "history", "--since", "+1min", NULL };
  const char *tomorrow[] = { "history", "--since", "tomorrow", NULL };
  g_autofree char *b_json = g_strdup_printf ("\"cgroup\":\"%s\"", b);
  g_auto (OwOomctlRun) r = { 0 };

  g_free (ow_test_env_watch (env, NULL, a));
  g_free (ow_test_env_watch (env, NULL, b));
  g_assert_cmpint (g_rmdir (a_dir), ==, 0);
  g_assert_true (ow_test_env_wait_signal (env, a, "removed", WAIT_MS));
  g_assert_cmpint (g_rmdir (b_dir), ==, 0);
  g_assert_true (ow_test_env_wait_signal (env, b, "removed", WAIT_MS));

  g_assert_cmpuint (count_lines (all), ==, 2);
  g_assert_cmpuint (count_lines (only_a), ==, 1);
  g_assert_cmpuint (count_lines (both), ==, 2);
  g_assert_cmpuint (count_lines (removed), ==, 2);
  g_assert_cmpuint (count_lines (ooms), ==, 0);
  g_assert_cmpuint (count_lines (none), ==, 0);
  g_assert_cmpuint (count_lines (today), ==, 2);
  g_assert_cmpuint (count_lines (yesterday), ==, 2);
  g_assert_cmpuint (count_lines (before), ==, 0);
  g_assert_cmpuint (count_lines (after), ==, 0);
  g_assert_cmpuint (count_lines (tomorrow), ==, 0);
  run (last, &r);
  g_assert_nonnull (strstr (r.out, b_json)); /* the newest */
  g_assert_cmpuint (count_lines (only_a), ==, 1);
  ow_test_env_free (env);
}

static char *
json_field (const char *line, const char *key)
{
  g_autofree char *pattern = g_strdup_printf ("\"%s\":(\"[^\"]*\"|[0-9]+)", key);
  g_autoptr (GRegex) regex = g_regex_new (pattern, 0, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;

  if (!g_regex_match (regex, line, 0, &match))
    return NULL;
  return g_match_info_fetch (match, 1);
}

/* The time a watcher printed live is the time History() gives for the same seq: one stamp,
 * set once when the event is made (a kill by systemd-oomd: no real OOM needed). And colour:
 * kills in red when asked (SYSTEMD_COLORS), never with NO_COLOR or into a pipe. */
static void
test_one_timestamp (void)
{
  OwTestEnv *env = ow_test_env_new_own ("its systemd-oomd stand-in must own org.freedesktop.oom1");
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "stamped", NULL, FALSE);
  const char *live[] = { "watch", "--json", "-n", "1", "-t", "60", cgroup, NULL };
  const char *history[] = { "history", "--json", "--kind", "oomd-kill", NULL };
  const char *human[] = { "history", NULL };
  const char *forced[] = { "SYSTEMD_COLORS=1", NULL };
  const char *no_color[] = { "NO_COLOR=1", "SYSTEMD_COLORS", NULL };
  g_autoptr (GSubprocess) watcher = ow_oomctl_start (NULL, NULL, live);
  g_autoptr (GDBusConnection) oomd = ow_test_oomd_connect (env, TRUE);
  g_auto (OwOomctlRun) w = { 0 };
  g_auto (OwOomctlRun) h = { 0 };
  g_auto (OwOomctlRun) red = { 0 };
  g_auto (OwOomctlRun) plain = { 0 };
  g_autofree char *live_time = NULL, *live_seq = NULL, *live_stamp = NULL;
  g_autofree char *kept_time = NULL, *kept_seq = NULL, *kept_stamp = NULL;

  g_assert_true (ow_test_env_wait_watched (env, cgroup, TRUE));
  ow_test_oomd_wait_following (env, 1);
  ow_test_oomd_emit_killed (oomd, cgroup, "memory-pressure");
  ow_oomctl_finish (watcher, &w);
  g_assert_cmpint (w.status, ==, 0);
  run (history, &h);
  g_assert_cmpint (h.status, ==, 0);
  live_time = json_field (w.out, "time");
  live_seq = json_field (w.out, "seq");
  live_stamp = json_field (w.out, "timestamp");
  kept_time = json_field (h.out, "time");
  kept_seq = json_field (h.out, "seq");
  kept_stamp = json_field (h.out, "timestamp");
  g_assert_nonnull (live_time);
  g_assert_cmpstr (live_seq, ==, kept_seq);
  g_assert_cmpstr (live_time, ==, kept_time);
  g_assert_cmpstr (live_stamp, ==, kept_stamp);
  g_assert_cmpstr (live_stamp, ==, live_time); /* ISO 8601 in details too */

  ow_oomctl_run (NULL, forced, human, &red);
  g_assert_true (g_str_has_prefix (red.out, "\033[0;1;31m"));
  g_assert_true (g_str_has_suffix (red.out, "\033[0m\n"));
  ow_oomctl_run (NULL, no_color, human, &plain);
  g_assert_null (strchr (plain.out, '\033'));
  g_assert_nonnull (strstr (plain.out, " oomd-kill count=1"));
  ow_test_env_free (env);
}

static int
open_pty (int *slave)
{
  int master = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);

  g_assert_cmpint (master, >=, 0);
  g_assert_cmpint (grantpt (master), ==, 0);
  g_assert_cmpint (unlockpt (master), ==, 0);
  *slave = open (ptsname (master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  g_assert_cmpint (*slave, >=, 0);
  return master;
}

/* What appears on the terminal MASTER until NEEDLE does, or (NEEDLE NULL) until every writer
 * closed it. */
static char *
read_terminal (int master, const char *needle)
{
  g_autoptr (GString) seen = g_string_new (NULL);
  gint64 until = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;

  while ((needle == NULL || strstr (seen->str, needle) == NULL)
         && g_get_monotonic_time () < until)
    {
      struct pollfd pfd = { master, POLLIN, 0 };
      char buffer[256];
      ssize_t n;

      if (poll (&pfd, 1, 100) <= 0)
        continue;
      n = read (master, buffer, sizeof buffer);
      if (n > 0)
        g_string_append_len (seen, buffer, n);
      else if (needle == NULL)
        break; /* EIO: the last writer is gone */
    }
  g_test_message ("on the terminal: %s", seen->str);
  return g_string_free (g_steal_pointer (&seen), FALSE);
}

/* ARGS with stdout and stderr on a new terminal, and what it showed there. */
static char *
run_on_terminal (const char *const *setenv, const char *const *args)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) error = NULL;
  int slave, master = open_pty (&slave);
  char *text;

  /* Only what SETENV says decides the pager and the colour. */
  g_subprocess_launcher_unsetenv (launcher, "SYSTEMD_PAGER");
  g_subprocess_launcher_unsetenv (launcher, "SYSTEMD_COLORS");
  g_subprocess_launcher_unsetenv (launcher, "NO_COLOR");
  for (gsize i = 0; setenv[i] != NULL; i++)
    {
      g_auto (GStrv) pair = g_strsplit (setenv[i], "=", 2);

      g_subprocess_launcher_setenv (launcher, pair[0], pair[1], TRUE);
    }
  g_subprocess_launcher_take_stderr_fd (launcher, dup (slave));
  g_subprocess_launcher_take_stdout_fd (launcher, slave);
  g_ptr_array_add (argv, (gpointer) g_getenv ("OOMCTL"));
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_clear_object (&launcher); /* closes our copies of the terminal's side */
  text = read_terminal (master, NULL);
  ow_test_env_wait_process (process);
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  close (master);
  return text;
}

/* On a terminal: watch says what it watches and how to stop, on stderr; list goes through the
 * pager (unless --no-pager) with its header underlined (unless NO_COLOR). */
static void
test_terminal (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "tty", NULL, FALSE);
  const char *argv[] = { g_getenv ("OOMCTL"), "watch", cgroup, NULL };
  const char *paged[] = { "PAGER=sed s/^/PAGED:/", "TERM=xterm", NULL };
  const char *no_color[] = { "PAGER=sed s/^/PAGED:/", "TERM=xterm", "NO_COLOR=1", NULL };
  const char *list[] = { "list", NULL };
  const char *list_no_pager[] = { "list", "--no-pager", NULL };
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr (GSubprocess) watcher = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *expected = g_strdup_printf ("Watching %s (Ctrl-C to stop)", cgroup);
  g_autofree char *seen = NULL, *through_pager = NULL, *direct = NULL, *plain = NULL;
  int slave, master = open_pty (&slave);

  g_subprocess_launcher_take_stderr_fd (launcher, slave);
  watcher = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  seen = read_terminal (master, "(Ctrl-C to stop)");
  g_assert_nonnull (strstr (seen, expected));

  through_pager = run_on_terminal (paged, list);
  g_assert_true (g_str_has_prefix (through_pager, "PAGED:\033[0;4mCGROUP "));
  direct = run_on_terminal (paged, list_no_pager);
  g_assert_true (g_str_has_prefix (direct, "\033[0;4mCGROUP "));
  plain = run_on_terminal (no_color, list);
  g_assert_true (g_str_has_prefix (plain, "PAGED:CGROUP "));

  g_subprocess_send_signal (watcher, SIGINT);
  ow_test_env_wait_process (watcher);
  g_assert_cmpint (g_subprocess_get_exit_status (watcher), ==, 0);
  close (master);
  ow_test_env_free (env);
}

int
main (int argc, char **argv)
{
  int skip = ow_test_env_init (&argc, &argv);

  if (skip != 0)
    return skip;
  g_test_add_func ("/oomctl/json-legend", test_json_legend);
  g_test_add_func ("/oomctl/relative-paths", test_relative_paths);
  g_test_add_func ("/oomctl/history-filters", test_history_filters);
  g_test_add_func ("/oomctl/one-timestamp", test_one_timestamp);
  g_test_add_func ("/oomctl/terminal", test_terminal);
  return g_test_run ();
}
