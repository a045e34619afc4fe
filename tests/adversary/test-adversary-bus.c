/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Adversary cases about the bus connection itself: messages built to cost the most to parse,
 * and a flood of short-lived connections against the per-uid call budget. */
#include "adversary-harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The goals: RSS at most this much above idle under any one message, back near idle soon. */
#define PEAK_OVER_IDLE_KIB (64 * 1024)
#define SETTLED_OVER_IDLE_KIB (8 * 1024)
#define SETTLE_MS 5000
/* How long the churn builds up before the measures: a daemon that falls behind falls further
 * behind each second */
#define CHURN_BUILDUP_MS 10000
#define KILL_SIGNALLED_MS 1000
#define SIGTERM_MS 1000

/* Clears the daemon's VmHWM, so that it shows the peak of what comes next. */
static void
reset_peak (OwTestEnv *env)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/clear_refs", env->daemon_pid);
  FILE *file = fopen (path, "we");

  g_assert_nonnull (file);
  fputs ("5", file);
  fclose (file);
}

typedef struct
{
  OwTestEnv *env;
  guint64 limit_kib;
} RssLimit;

static gboolean
rss_below (gpointer data)
{
  RssLimit *limit = data;

  return adv_daemon_rss_kib (limit->env) <= limit->limit_kib;
}

/* One message of SHAPE (an adversary-flood kind) from nobody, then a Ping on the same
 * connection: its answer means the message was dealt with. Checks the daemon's peak RSS and
 * that it comes back. */
static void
send_shape (OwTestEnv *env, const char *shape, guint64 idle_kib)
{
  g_autofree char *kinds = g_strdup_printf ("--kinds=%s,ping", shape);
  const char *args[] = { "--connections=1", "--once", kinds, NULL };
  g_autoptr (AdvProc) attacker = NULL;
  RssLimit settled = { env, idle_kib + SETTLED_OVER_IDLE_KIB };
  gboolean call = g_str_has_prefix (shape, "call-");
  const char *done;
  guint64 peak_kib;
  gint64 start;

  reset_peak (env);
  attacker = adv_flood (ADV_UID_NOBODY, shape, args);
  done = adv_wait_line (attacker, "done", adv_ms (120000));
  if (done == NULL || strstr (done, call ? " replies=2" : " replies=1") == NULL
      || (call && strstr (done, " org.freedesktop.DBus.Error.InvalidArgs=1") == NULL))
    adv_fail ("%s: expected %s, got %s", shape, call ? "InvalidArgs and a Ping reply" : "a Ping reply",
              done);
  peak_kib = adv_daemon_status (env, "VmHWM:", 10);
  start = g_get_monotonic_time ();
  adv_wait_until (rss_below, &settled, SETTLE_MS);
  printf ("# %s: daemon RSS peak %+" G_GINT64_FORMAT " KiB over idle (%" G_GUINT64_FORMAT
          " KiB), %+" G_GINT64_FORMAT " KiB %.1f s later\n",
          shape, (gint64)peak_kib - (gint64)idle_kib, idle_kib,
          (gint64)adv_daemon_rss_kib (env) - (gint64)idle_kib,
          (g_get_monotonic_time () - start) / 1e6);
  /* Under a sanitizer or valgrind RSS measures the tool's own bookkeeping. */
  if (adv_under_tool ())
    return;
  if (peak_kib > idle_kib + PEAK_OVER_IDLE_KIB)
    adv_fail ("%s: RSS peaked %" G_GUINT64_FORMAT " KiB over idle, goal %u", shape,
              peak_kib - idle_kib, PEAK_OVER_IDLE_KIB);
  if (!rss_below (&settled))
    adv_fail ("%s: RSS still %" G_GUINT64_FORMAT " KiB over idle after %u ms", shape,
              adv_daemon_rss_kib (env) - idle_kib, SETTLE_MS);
}

/* 8: messages whose parse costs the most per wire byte, close to the bus's 32 MiB limit, as a
 * Watch call and as systemd-oomd's Killed signal sent to the daemon alone: each costs the
 * daemon at most PEAK_OVER_IDLE_KIB, given back within SETTLE_MS; a real kill still arrives. */
static void
test_message_shapes (void)
{
  static const char *const shapes[] = { "call-av", "call-aav",   "call-asv",
                                        "call-deep", "signal-av", "signal-asv" };
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *legit = ow_test_env_make_cgroup (env, "legit", ADV_LIMIT, FALSE);
  g_autoptr (AdvProc) user = adv_client (ADV_UID_USER, "user", "watch");
  g_autoptr (GPtrArray) seen = NULL;
  guint64 idle_kib;

  adv_watch_both (env, user, legit, FALSE);
  idle_kib = adv_daemon_rss_kib (env);
  for (gsize i = 0; i < G_N_ELEMENTS (shapes); i++)
    send_shape (env, shapes[i], idle_kib);
  adv_oom (env, "legit", ADV_UID_USER, 0);
  seen = adv_legit_signals (env, user);
  if (seen != NULL)
    adv_check_both (env, seen, legit, "oom-kill", 1);
  ow_test_env_free (env);
}

/* A real kill in NAME: ms from the hog's start (an upper bound of the time from its kill) to
 * the signal. */
static double
kill_signalled_ms (OwTestEnv *env, const char *name, guint64 kills_before)
{
  g_autofree char *cgroup = ow_test_env_canonical (env, name);
  gint64 start = g_get_monotonic_time ();
  g_autoptr (GSubprocess) hog = adv_hog (env, name, ADV_UID_USER);

  if (!adv_wait_sum (env, cgroup, "oom-kill", kills_before + 1, adv_ms (10000)))
    adv_fail ("no oom-kill on %s within %u ms", cgroup, adv_ms (10000));
  ow_test_env_wait_process (hog);
  return (g_get_monotonic_time () - start) / 1000.0;
}

/* SIGTERM to the daemon: ms until it has exited (a zombie, or reaped). */
static double
sigterm_ms (OwTestEnv *env)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/stat", env->daemon_pid);
  gint64 start = g_get_monotonic_time ();

  kill ((pid_t)atoi (env->daemon_pid), SIGTERM);
  while (g_get_monotonic_time () - start < 30 * G_USEC_PER_SEC)
    {
      g_autofree char *stat = NULL;
      const char *state;

      if (!g_file_get_contents (path, &stat, NULL, NULL) || (state = strrchr (stat, ')')) == NULL
          || state[2] == 'Z' || state[2] == 'X')
        break;
      g_usleep (2000);
    }
  return (g_get_monotonic_time () - start) / 1000.0;
}

static void
check_ms (const char *what, double ms, double goal)
{
  printf ("# %s: %.1f ms (goal < %.0f ms)\n", what, ms, goal);
  if (ms >= goal && !adv_under_tool ())
    adv_fail ("%s took %.1f ms, goal < %.0f ms", what, ms, goal);
}

/* 9: reconnecting churn. Nobody opens connection after connection (8 at a time), each sending
 * 100 refused recursive Watches of a 401-cgroup tree before it is dropped: a new connection
 * must not bring a new budget. During the flood (after CHURN_BUILDUP_MS) and after it, a
 * second user's Watch+Unwatch p50 stays < 20 ms and a real kill is signalled < 1 s; under a
 * second flood SIGTERM ends the daemon within 1 s. */
static void
test_churn (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *legit = ow_test_env_make_cgroup (env, "legit", ADV_LIMIT, FALSE);
  g_autofree char *lat = ow_test_env_make_cgroup (env, "latency", NULL, FALSE);
  g_autofree char *tree = adv_make_tree (env, "tree", 20);
  g_autofree char *target = g_strdup_printf ("--cgroup=%s", tree);
  const char *flood_args[] = { "--connections=8", "--window=100",     "--churn=100",
                               "--seconds=120",   "--kinds=recursive", target,
                               NULL };
  g_autoptr (AdvProc) user = adv_client (ADV_UID_USER, "user", "watch");
  g_autoptr (AdvProc) flood = NULL;
  g_autoptr (GPtrArray) seen = NULL;
  double p50;

  adv_watch_both (env, user, legit, FALSE);
  flood = adv_flood (ADV_UID_NOBODY, "churn", flood_args);
  ow_test_env_iterate (CHURN_BUILDUP_MS);
  p50 = adv_latency (env, ADV_UID_USER, lat, "during the churn", NULL);
  check_ms ("Watch+Unwatch (p50) during the churn", p50, 20);
  check_ms ("a kill signalled during the churn", kill_signalled_ms (env, "legit", 0),
            KILL_SIGNALLED_MS);
  g_test_message ("churn: %s", adv_stop (flood));
  g_clear_pointer (&flood, adv_proc_free);

  /* A uid of its own: the first one's budget is used up. */
  p50 = adv_latency (env, 9, lat, "after the churn", NULL);
  check_ms ("Watch+Unwatch (p50) after the churn", p50, 20);
  check_ms ("a kill signalled after the churn", kill_signalled_ms (env, "legit", 1),
            KILL_SIGNALLED_MS);
  seen = adv_legit_signals (env, user);
  if (seen != NULL)
    adv_check_both (env, seen, legit, "oom-kill", 2);

  flood = adv_flood (ADV_UID_NOBODY, "churn again", flood_args);
  ow_test_env_iterate (CHURN_BUILDUP_MS / 2);
  check_ms ("SIGTERM under the churn", sigterm_ms (env), SIGTERM_MS);
  g_test_message ("churn again: %s", adv_stop (flood));
  ow_test_env_free (env);
}

void
adv_add_bus_tests (void)
{
  g_test_add_func ("/adversary/message-shapes", test_message_shapes);
  g_test_add_func ("/adversary/churn", test_churn);
}
