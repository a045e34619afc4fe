/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomwatch-notify against a real notification server implementation (python-dbusmock's
 * notification_daemon template) on a private session bus, with real OOMs. */
#include "ow-test-cgroups.h"
#include "ow-test-conditions.h"
#include "ow-test-oomd.h"
#include "ow-test-continuity.h"
#include "ow-test-notify.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

/* The notifier's last-seq in the case's own directory, not root's home: a notifier that does
 * not catch up never learns the daemon's epoch, and a last-seq left there by another daemon
 * would hide every signal of this one. */
static char *
private_state (OwTestEnv *env)
{
  char *state = g_build_filename (env->tmpdir, "state", NULL);

  g_setenv ("XDG_STATE_HOME", state, TRUE);
  return state;
}

static void
test_notify (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *state = private_state (env);
  g_autofree char *top = ow_test_env_make_cgroup (env, "desk", NULL, FALSE);
  g_autofree char *app = ow_test_env_make_cgroup (env, "desk/app", "32M", FALSE);
  OwNotifySession session = { 0 };
  g_autoptr (GSubprocess) notifier = NULL;
  g_autoptr (GArray) first = NULL;
  g_autoptr (GArray) all = NULL;
  OwNotification *n;
  guint32 hog_pid;
  gboolean all_named;

  ow_notify_session_start (&session);
  {
    /* The burst must fit in the window also where everything runs slower (ASan, valgrind). */
    g_autofree char *coalesce
        = g_strdup_printf ("--coalesce=%u", ow_test_timeout_ms (30000) / 1000);
    /* No catching up: root's notifier would show every root process killed in the last hour,
     * and a daemon shared with earlier cases (the system's) has theirs. */
    const char *argv[]
        = { g_getenv ("OOMWATCH_NOTIFY"), "--cgroup", top, coalesce, "--missed-window=0", NULL };

    notifier = ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_NONE, argv);
  }
  g_assert_true (ow_test_env_wait_watched (env, app, TRUE));

  /* One kill: one critical notification naming the process. */
  {
    g_autoptr (GSubprocess) hog = ow_test_env_hog (env, "desk/app", 256);

    hog_pid = ow_test_env_pid (hog);
    ow_test_env_wait_process (hog);
  }
  first = ow_notify_wait (&session, 1, 1);
  all_named = ow_test_kernel_logged_victim (hog_pid);
  /* An unnamed kill (rate-limited) is counted on each cgroup it is signalled on (see below). */
  if (all_named)
    g_assert_cmpuint (first->len, ==, 1);
  n = &g_array_index (first, OwNotification, 0);
  g_test_message ("notification: %s / %s", n->summary, n->body);
  g_assert_cmpuint (n->replaces_id, ==, 0);
  g_assert_cmpuint (n->urgency, ==, 2);
  /* The name only when the kernel's rate limit let the record naming the victim through. */
  if (all_named)
    g_assert_nonnull (strstr (n->body, "oom-hog"));
  /* The app (here the process) first; the cgroup's path is left to "Show details". */
  g_assert_null (strstr (n->body, app));
  /* A burst of three more: the same notification, updated in place. */
  for (int i = 0; i < 3; i++)
    {
      g_autoptr (GSubprocess) hog = ow_test_env_hog (env, "desk/app", 256);

      hog_pid = ow_test_env_pid (hog);
      ow_test_env_wait_process (hog);
      all_named = all_named && ow_test_kernel_logged_victim (hog_pid);
    }
  all = ow_notify_wait (&session, 4, 4);
  for (guint i = 0; i < all->len; i++)
    g_test_message ("notification %u: %s", i, g_array_index (all, OwNotification, i).summary);
  /* The notifier tells a kill signalled on several cgroups apart by its pid. A kill the
   * kernel's rate limit left unnamed (signalled on /desk/app and again on /desk) it counts
   * twice: a known fault of the notifier, not of what this test checks. */
  if (!all_named)
    {
      g_test_message ("the kernel log did not name every victim (rate-limited): counts not exact");
      g_assert_cmpuint (ow_notify_summary_count (&g_array_index (all, OwNotification, all->len - 1)), >=, 4);
    }
  else
    {
      /* Each kill is signalled on /desk and on /desk/app, yet counted once: one notification
       * per kill, updated in place, counting 1, 2, 3, 4. A kill counted twice shows. */
      g_assert_cmpuint (all->len, ==, 4);
      for (guint i = 1; i < all->len; i++)
        {
          g_autofree char *count = g_strdup_printf ("%u processes", i + 1);

          g_assert_cmpuint (g_array_index (all, OwNotification, i).replaces_id, !=, 0);
          g_assert_nonnull (strstr (g_array_index (all, OwNotification, i).summary, count));
        }
      n = &g_array_index (all, OwNotification, all->len - 1);
      g_test_message ("last update: %s / %s", n->summary, n->body);
      g_assert_nonnull (strstr (n->summary, "4 processes"));
    }

  g_subprocess_send_signal (notifier, SIGTERM);
  ow_test_env_wait_process (notifier);
  g_assert_cmpint (g_subprocess_get_exit_status (notifier), ==, 0);
  ow_notify_session_stop (&session);
  ow_test_remove_tree (state);
  ow_test_env_free (env);
}

/* --pressure: a warning before the kill, once for the cgroup however often the level comes.
 * The pressure: on v1 page cache churned through a 32 MiB limit; on v2 (where /tmp may be a
 * tmpfs, whose pages cannot be reclaimed without swap) an anonymous hog throttled at
 * memory.high, which the kernel counts as memory stall. */
static void
test_pressure (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *state = private_state (env);
  gboolean v2 = ow_test_cgroups_version () == 2;
  g_autofree char *top = ow_test_env_make_cgroup (env, "desk", NULL, FALSE);
  g_autofree char *app = ow_test_env_make_cgroup (env, "desk/app", v2 ? "64M" : "32M", FALSE);
  g_autofree char *dir = ow_test_env_cgroup_path (env, "desk/app");
  g_autofree char *file = g_build_filename (env->tmpdir, "churn", NULL);
  const char *churn_argv[] = { g_getenv ("PRESSURE_HOG"), dir, file, "256", "0", NULL };
  const char *throttled_argv[] = { g_getenv ("OOM_HOG"), dir, "256", NULL };
  const char *const *hog_argv = v2 ? throttled_argv : churn_argv;
  const char *argv[] = { g_getenv ("OOMWATCH_NOTIFY"), "--cgroup", top, "--pressure", "low",
                         "--missed-window=0",          NULL }; /* as in test_notify */
  g_autoptr (GSubprocess) notifier = NULL;
  g_autoptr (GSubprocess) hog = NULL;
  g_autoptr (GArray) got = NULL;
  OwNotifySession session = { 0 };
  OwNotification *n;

  if (g_getenv ("PRESSURE_HOG") == NULL)
    {
      g_test_skip ("PRESSURE_HOG is not set: the pressure hog is not installed here");
      ow_test_remove_tree (state);
      ow_test_env_free (env);
      return;
    }

  if (v2)
    ow_test_env_write (dir, "memory.high", "24M");
  ow_notify_session_start (&session);
  notifier = ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_NONE, argv);
  for (int i = 0; i < 1000 && !ow_test_env_watched (env, app); i++)
    ow_test_env_iterate (10);
  hog = ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_STDIN_PIPE, hog_argv);
  got = ow_notify_wait (&session, 1, 0);
  ow_test_env_iterate (2000); /* the kernel keeps signalling meanwhile */
  g_array_unref (g_steal_pointer (&got));
  got = ow_notify_received (&session);
  /* Signalled on /desk/app and on /desk: one warning, updated in place if /desk came first. */
  g_assert_cmpuint (got->len, >=, 1);
  g_assert_cmpuint (got->len, <=, 2);
  for (guint i = 1; i < got->len; i++)
    g_assert_cmpuint (g_array_index (got, OwNotification, i).replaces_id, !=, 0);
  n = &g_array_index (got, OwNotification, got->len - 1);
  g_test_message ("notification: %s / %s", n->summary, n->body);
  g_assert_cmpstr (n->summary, ==, "Memory is running low in app");
  g_assert_nonnull (strstr (n->body, app));
  /* Critical pressure (throttling in a slow guest gets there at once) is urgent. */
  g_assert_cmpuint (n->urgency, ==, g_str_has_prefix (n->body, "Pressure critical ") ? 2 : 1);

  g_subprocess_force_exit (hog);
  ow_test_env_wait_process (hog);
  g_subprocess_send_signal (notifier, SIGTERM);
  ow_test_env_wait_process (notifier);
  ow_notify_session_stop (&session);
  ow_test_remove_tree (state);
  ow_test_env_free (env);
}

static void
check_app_notification (GArray *all, guint count, const char *summary, const char *id)
{
  OwNotification *n;

  g_assert_cmpuint (all->len, ==, count);
  n = &g_array_index (all, OwNotification, count - 1);
  g_test_message ("notification: [%s] %s / %s (%s)", n->icon, n->summary, n->body,
                  n->desktop_entry);
  g_assert_cmpuint (n->replaces_id, ==, 0);
  /* When the kill names the victim, its memory against the cgroup's limit instead */
  if (g_str_has_suffix (summary, "ran out of memory") && strstr (n->summary, " used ") != NULL)
    {
      g_autofree char *start = g_strndup (summary, strlen (summary) - strlen ("ran out of memory"));

      g_assert_true (g_str_has_prefix (n->summary, start));
      g_assert_true (g_regex_match_simple ("^used .+ of its .+ limit$",
                                           n->summary + strlen (start), 0, 0));
    }
  else
    g_assert_cmpstr (n->summary, ==, summary);
  g_assert_cmpstr (n->icon, ==, id);
  g_assert_cmpstr (n->desktop_entry, ==, id);
}

/* A real OOM kill in the cgroup NAME: the COUNT-th notification, a new one, names the app. */
static void
kill_and_check (OwTestEnv *env, OwNotifySession *session, const char *name, guint count,
                const char *summary, const char *id)
{
  g_autoptr (GSubprocess) hog = ow_test_env_hog (env, name, 256);
  g_autoptr (GArray) all = NULL;

  ow_test_env_wait_process (hog);
  all = ow_notify_settled (session, count);
  check_app_notification (all, count, summary, id);
  /* The process is named when the kernel's rate-limited log line named it; never another. */
  {
    const char *body = g_array_index (all, OwNotification, count - 1).body;

    g_assert_true (strstr (body, "oom-hog") != NULL || strstr (body, "(pid") == NULL);
  }
}

/* Kills in cgroups named as GNOME Shell and Flatpak name them, and a systemd-oomd kill: each
 * notification names the app by its desktop entry (found through XDG_DATA_DIRS, as Flatpak's
 * exports are) and carries its icon and desktop-entry hint. */
static void
test_notify_apps (void)
{
  OwTestEnv *env = ow_test_env_new_own (OW_TEST_OOMD_OWN);
  g_autofree char *top = ow_test_env_make_cgroup (env, "desk", NULL, FALSE);
  g_autofree char *editor = ow_test_env_make_cgroup (
      env, "desk/app-gnome-org.gnome.TextEditor-123.scope", "32M", FALSE);
  g_autofree char *flatpak
      = ow_test_env_make_cgroup (env, "desk/app-flatpak-org.example.Hog-77.scope", "32M", FALSE);
  g_autofree char *share = g_build_filename (env->tmpdir, "share", NULL);
  g_autofree char *exports = g_build_filename (env->tmpdir, "exports", NULL);
  g_autofree char *home = g_build_filename (env->tmpdir, "home", NULL);
  g_autofree char *data_dirs = g_strdup_printf ("%s:%s", share, exports);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) notifier = NULL;
  g_autoptr (GDBusConnection) oomd = NULL;
  g_autoptr (GError) error = NULL;
  OwNotifySession session = { 0 };
  const char *argv[] = { g_getenv ("OOMWATCH_NOTIFY"), "--cgroup", top, "--coalesce=1", NULL };

  ow_notify_write_desktop_file (share, "org.gnome.TextEditor", "Text Editor");
  ow_notify_write_desktop_file (exports, "org.example.Hog", "Hog Example");
  ow_notify_session_start (&session);
  /* A launcher copies the environment when it is made: after the session bus is known. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_DIRS", data_dirs, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", home, TRUE);
  g_subprocess_launcher_setenv (launcher, "LANGUAGE", "C", TRUE);
  notifier = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 1000 && !ow_test_env_watched (env, flatpak); i++)
    ow_test_env_iterate (10);
  g_assert_true (ow_test_env_watched (env, flatpak));

  kill_and_check (env, &session, "desk/app-gnome-org.gnome.TextEditor-123.scope", 1,
                  "Text Editor was stopped — it ran out of memory", "org.gnome.TextEditor");
  kill_and_check (env, &session, "desk/app-flatpak-org.example.Hog-77.scope", 2,
                  "Hog Example was stopped — it ran out of memory", "org.example.Hog");
  /* systemd-oomd kills the editor's scope: signalled on it and on desk, told once. */
  oomd = ow_test_oomd_connect (env, TRUE);
  ow_test_oomd_wait_following (env, 1);
  ow_test_oomd_emit_killed (oomd, editor, "memory-pressure");
  {
    g_autoptr (GArray) all = ow_notify_settled (&session, 3);

    check_app_notification (all, 3, "Text Editor was stopped by systemd-oomd: memory pressure",
                            "org.gnome.TextEditor");
  }
  /* An app without a desktop entry: named by its unit, with the notifier's own icon and entry. */
  {
    g_autofree char *missing = g_strdup_printf ("%s/app-gnome-org.example.Missing-5.scope", top);
    g_autoptr (GArray) all = NULL;
    OwNotification *n;

    ow_test_oomd_emit_killed (oomd, missing, "memory-used");
    all = ow_notify_settled (&session, 4);
    g_assert_cmpuint (all->len, ==, 4);
    n = &g_array_index (all, OwNotification, 3);
    g_assert_cmpstr (n->summary, ==,
                     "app-gnome-org.example.Missing-5.scope was stopped by systemd-oomd: too much "
                     "memory and swap in use");
    g_assert_cmpstr (n->icon, ==, "dialog-warning");
    g_assert_cmpstr (n->desktop_entry, ==, "oomwatch-notify");
  }

  g_subprocess_send_signal (notifier, SIGTERM);
  ow_test_env_wait_process (notifier);
  g_assert_cmpint (g_subprocess_get_exit_status (notifier), ==, 0);
  ow_notify_session_stop (&session);
  ow_notify_remove_desktop_file (share, "org.gnome.TextEditor");
  ow_notify_remove_desktop_file (exports, "org.example.Hog");
  g_clear_object (&oomd);
  ow_test_env_free (env);
}

static void
kill_one (OwTestEnv *env, const char *name)
{
  g_autoptr (GSubprocess) hog = ow_test_env_hog (env, name, 256);

  ow_test_env_wait_process (hog);
  g_assert_true (g_subprocess_get_if_signaled (hog));
}

static guint
settled_count (OwNotifySession *session, guint at_least)
{
  G_GNUC_UNUSED g_autoptr (GArray) got = ow_notify_wait (session, at_least, 0);

  ow_test_env_iterate (1500); /* anything more, or twice, would come now */
  g_array_unref (g_steal_pointer (&got));
  got = ow_notify_received (session);
  return got->len;
}

static char *
last_summary (OwNotifySession *session)
{
  g_autoptr (GArray) got = ow_notify_received (session);

  g_assert_cmpuint (got->len, >, 0);
  return g_strdup (g_array_index (got, OwNotification, got->len - 1).summary);
}

/* Continuity: kills the notifier missed are shown when it starts, and those of a daemon restart
 * when the daemon is back; never twice, not even by a notifier started again. */
static void
test_missed (void)
{
  OwTestEnv *env = ow_test_env_new_own ("it keeps the daemon down while cgroups OOM");
  g_autofree char *top = ow_test_env_make_cgroup (env, "away", NULL, FALSE);
  g_autofree char *app = ow_test_env_make_cgroup (env, "away/app", "32M", FALSE);
  g_autofree char *state = g_build_filename (env->tmpdir, "state", NULL);
  const char *argv[] = { g_getenv ("OOMWATCH_NOTIFY"), "--cgroup", top, "--coalesce=1", NULL };
  g_autofree char *summary = NULL;
  g_autoptr (GSubprocess) notifier = NULL;
  OwNotifySession session = { 0 };
  guint shown;

  g_setenv ("XDG_STATE_HOME", state, TRUE);
  ow_notify_session_start (&session);
  /* Two kills while no notifier runs (this connection's watch makes the daemon see them). */
  g_free (ow_test_env_watch (env, NULL, app));
  kill_one (env, "away/app");
  kill_one (env, "away/app");
  for (int i = 0; i < 1000 && ow_test_env_sum (env, app, "oom-kill") < 2; i++)
    ow_test_env_iterate (10);
  g_assert_cmpuint (ow_test_env_sum (env, app, "oom-kill"), ==, 2);

  notifier = ow_test_spawn_tied (argv, G_SUBPROCESS_FLAGS_NONE);
  shown = settled_count (&session, 1);
  summary = last_summary (&session);
  g_assert_nonnull (strstr (summary, "2 processes"));
  g_clear_pointer (&summary, g_free);

  /* Started again: nothing it has shown comes again. */
  g_subprocess_send_signal (notifier, SIGTERM);
  ow_test_env_wait_process (notifier);
  g_clear_object (&notifier);
  notifier = ow_test_spawn_tied (argv, G_SUBPROCESS_FLAGS_NONE);
  for (int i = 0; i < 1000 && !ow_test_env_watched (env, top); i++)
    ow_test_env_iterate (10);
  g_assert_true (ow_test_env_watched (env, top));
  g_assert_cmpuint (settled_count (&session, shown), ==, shown);

  /* A kill while oomwatchd is down: shown once it is back (the notifier watches again). */
  ow_test_continuity_kill_daemon (env);
  kill_one (env, "away/app");
  ow_test_continuity_start_daemon (env);
  g_assert_cmpuint (settled_count (&session, shown + 1), ==, shown + 1);
  summary = last_summary (&session);
  /* "A process …", or named by its unit where the test's own cgroup lies in one (the guest). */
  g_assert_true (strstr (summary, "A process") != NULL || strstr (summary, " was stopped") != NULL);

  g_subprocess_send_signal (notifier, SIGTERM);
  ow_test_env_wait_process (notifier);
  g_assert_cmpint (g_subprocess_get_exit_status (notifier), ==, 0);
  ow_notify_session_stop (&session);
  ow_test_remove_tree (state);
  ow_test_env_free (env);
}

int
main (int argc, char **argv)
{
  int skip = ow_notify_check ();

  if (skip != 0)
    return skip;
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/notify/burst", test_notify);
  g_test_add_func ("/notify/apps", test_notify_apps);
  g_test_add_func ("/notify/missed", test_missed);
  g_test_add_func ("/notify/pressure", test_pressure);
  return g_test_run ();
}
