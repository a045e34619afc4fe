/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Integration tests on cgroup v1: the built oomwatchd on a private bus, real OOMs; events,
 * removals and clients. */
#include "ow-test-conditions.h"
#include "ow-test-cgroups.h"
#include "oomwatch-error.h"

#include <string.h>
#include <unistd.h>

#define EVENT_TIMEOUT_MS 10000

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
  ow_test_assert_hog_killed (hog);
  g_assert_true (ow_test_env_wait_signal (env, cgroup, "oom-kill", EVENT_TIMEOUT_MS));
  ow_test_env_settle (env, cgroup);

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

      ow_test_assert_hog_killed (hog);
      g_assert_true (ow_test_env_wait_sum (env, cgroup, "oom-kill", i + 1));
      ow_test_env_settle (env, cgroup);
    }
  g_assert_cmpuint (ow_test_env_sum (env, cgroup, "oom-kill"), ==, 2);
  g_assert_cmpuint (ow_test_env_oom_control (env, "twice", "oom_kill"), ==, 2);
  g_assert_cmpuint (watch_counter (env, cgroup, "oom-kill"), ==, 2);
  g_assert_cmpuint (watch_counter (env, cgroup, "oom"), ==, ow_test_env_sum (env, cgroup, "oom"));
  ow_test_env_free (env);
}

/* v1 re-reads memory.oom_control after a signal to see the kill that follows it; once the
 * kill is counted (one per signal at most) it stops: quiet again well before the one-second
 * window that an OOM without a kill keeps (the old daemon always kept it). The fastest of three
 * OOMs is timed: now and then the kernel signals one OOM twice, and that one keeps the window. */
static void
test_quiet_after_kill (void)
{
  if (ow_test_cgroups_skip_unless (1, "v2 is woken by memory.events and re-reads nothing"))
    return;
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "quiet", "32M", FALSE);
  gint64 fastest = G_MAXINT64;

  g_free (ow_test_env_watch (env, NULL, cgroup));
  for (int i = 0; i < 3; i++)
    {
      g_autoptr (GSubprocess) hog = ow_test_env_hog (env, "quiet", 256);
      gint64 killed;

      ow_test_assert_hog_killed (hog);
      g_assert_true (ow_test_env_wait_sum (env, cgroup, "oom-kill", i + 1));
      killed = g_get_monotonic_time ();
      ow_test_env_settle (env, cgroup);
      fastest = MIN (fastest, g_get_monotonic_time () - killed);
    }
  g_test_message ("quiet %" G_GINT64_FORMAT " ms after the kill was signalled (fastest of 3)",
                  fastest / 1000);
  g_assert_cmpint (fastest / 1000, <, 700);
  g_assert_cmpuint (ow_test_env_sum (env, cgroup, "oom-kill"), ==, 3);
  g_assert_cmpuint (watch_counter (env, cgroup, "oom-kill"), ==, 3);
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
  ow_test_env_settle (env, cgroup);

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
  /* The registration is closed: nothing more can come of it, and all sent has arrived. */
  g_assert_true (ow_test_env_wait_eventfds (env, 0));
  ow_test_env_sync (env);
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

typedef struct
{
  guint *counter;
  guint at_least;
} Heard;

static gboolean
heard_enough (gpointer user_data)
{
  Heard *heard = user_data;

  return *heard->counter >= heard->at_least;
}

static gboolean
wait_heard (guint *counter, guint at_least)
{
  Heard heard = { counter, at_least };

  return ow_test_wait_until (heard_enough, &heard, EVENT_TIMEOUT_MS);
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

    ow_test_assert_hog_killed (hog);
    g_assert_true (ow_test_env_wait_signal (env, cgroup, "oom-kill", EVENT_TIMEOUT_MS));
    ow_test_env_settle (env, cgroup);
  }
  g_assert_true (wait_heard (&other_heard, env->signals->len));
  g_assert_cmpuint (other_heard, ==, env->signals->len);

  oomwatch_manager_call_unwatch_sync (env->manager, cgroup, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                      &error);
  g_assert_no_error (error);
  g_assert_cmpuint (watch_watchers (env, cgroup), ==, 1);
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 1);

  other_heard = 0;
  {
    g_autoptr (GSubprocess) hog = ow_test_env_hog (env, "shared", 256);

    ow_test_assert_hog_killed (hog);
    /* An "oom" and the "oom-kill" at least; only the other connection watches now. */
    g_assert_true (wait_heard (&other_heard, 2));
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

  g_assert_true (ow_test_env_wait_watched (env, cgroup, TRUE));
  g_assert_cmpuint (watch_watchers (env, cgroup), ==, 1);
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 1);

  g_subprocess_force_exit (client);
  ow_test_env_wait_process (client);
  g_assert_true (ow_test_env_wait_watched (env, cgroup, FALSE));
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 0);
  ow_test_env_free (env);
}

int
main (int argc, char **argv)
{
  const OwTestCase cases[] = {
    { "/v1/kill", test_kill },
    { "/v1/two-kills", test_two_kills },
    { "/v1/quiet-after-kill", test_quiet_after_kill },
    { "/v1/paused", test_paused },
    { "/v1/rmdir", test_rmdir },
    { "/v1/two-clients", test_two_clients },
    { "/v1/client-killed", test_client_killed },
    { NULL },
  };

  return ow_test_env_main (argc, argv, cases);
}
