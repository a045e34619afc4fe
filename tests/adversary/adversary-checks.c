/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the adversary cases check on the legitimate side (exact counts, no stray signals, who
 * sees a victim's identity) and the resources they measure; real OOMs; the kernel log. Checks
 * fail the test without stopping it, so one run shows every finding that is still open. */
#include "adversary-harness.h"
#include "oomwatch-names.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

guint64
adv_sum (GPtrArray *signals, const char *cgroup, const char *kind)
{
  guint64 sum = 0;

  for (guint i = 0; i < signals->len; i++)
    {
      OwTestSignal *signal = g_ptr_array_index (signals, i);

      if (g_strcmp0 (signal->cgroup, cgroup) == 0 && g_strcmp0 (signal->kind, kind) == 0)
        sum += signal->count;
    }
  return sum;
}

static gboolean
has_key (GVariant *details, const char *key)
{
  g_autoptr (GVariant) value = g_variant_lookup_value (details, key, NULL);

  return value != NULL;
}

gboolean
adv_has_identity (OwTestSignal *signal)
{
  static const char *const keys[] = { OOMWATCH_IDENTITY_KEYS, NULL };

  for (gsize i = 0; signal->details != NULL && keys[i] != NULL; i++)
    if (has_key (signal->details, keys[i]))
      return TRUE;
  return FALSE;
}

void
adv_check_exact (GPtrArray *signals, const char *who, const char *cgroup, const char *kind,
                 guint64 expected)
{
  guint64 sum = adv_sum (signals, cgroup, kind);

  g_test_message ("%s: %s on %s: %" G_GUINT64_FORMAT " (expected %" G_GUINT64_FORMAT ")", who, kind,
                  cgroup, sum, expected);
  if (sum != expected)
    adv_fail ("%s received %" G_GUINT64_FORMAT " %s on %s, expected %" G_GUINT64_FORMAT, who, sum,
              kind, cgroup, expected);
}

/* Every signal WHO received names one of CGROUPS (what it watches): nothing else reaches it. */
void
adv_check_only (GPtrArray *signals, const char *who, const char *const *cgroups)
{
  guint stray = 0;

  for (guint i = 0; i < signals->len; i++)
    {
      OwTestSignal *signal = g_ptr_array_index (signals, i);

      if (!g_strv_contains (cgroups, signal->cgroup))
        {
          if (stray++ < 3)
            g_test_message ("%s: stray %s on %s", who, signal->kind, signal->cgroup);
        }
    }
  if (stray > 0)
    adv_fail ("%s received %u signals about cgroups it does not watch", who, stray);
}

/* Every oom-kill WHO received on CGROUP carries the victim's identity (WANTED) or none. */
void
adv_check_identity (GPtrArray *signals, const char *who, const char *cgroup, gboolean wanted)
{
  for (guint i = 0; i < signals->len; i++)
    {
      OwTestSignal *signal = g_ptr_array_index (signals, i);
      g_autofree char *shown = NULL;

      if (g_strcmp0 (signal->cgroup, cgroup) != 0 || g_strcmp0 (signal->kind, "oom-kill") != 0)
        continue;
      shown = signal->details != NULL ? g_variant_print (signal->details, FALSE) : g_strdup ("");
      g_test_message ("%s: oom-kill on %s: %s", who, cgroup, shown);
      /* The kernel rate-limits the log line that names a victim: a kill it did not name has no
       * task-cgroup either (sent to every recipient when it is known), and no one can get
       * what was never named. Identity must never come where it is not wanted. */
      if (wanted && (signal->details == NULL
                     || !g_variant_lookup (signal->details, "task-cgroup", "&s", NULL)))
        {
          g_test_message ("%s: the kernel log did not name this victim", who);
          continue;
        }
      if (adv_has_identity (signal) != wanted)
        adv_fail ("%s %s the victim's pid/comm/uid on %s: %s", who,
                  wanted ? "did not receive" : "received", cgroup, shown);
    }
}

/* The end of a case: once stray signals had time to come, what the legitimate user saw, or
 * NULL when the daemon no longer answers (the test has failed then). */
GPtrArray *
adv_legit_signals (OwTestEnv *env, AdvProc *user)
{
  ow_test_env_iterate (ADV_SETTLE_MS);
  if (!adv_daemon_answers (env))
    return NULL;
  adv_sync (user);
  return adv_signals (user);
}

/* Both legitimate watchers, root (the test's own connection) and the user (SEEN), received
 * exactly EXPECTED of KIND on CGROUP. */
void
adv_check_both (OwTestEnv *env, GPtrArray *seen, const char *cgroup, const char *kind,
                guint64 expected)
{
  adv_check_exact (env->signals, "root", cgroup, kind, expected);
  adv_check_exact (seen, "user", cgroup, kind, expected);
}

static gboolean
sum_reached (gpointer data)
{
  gpointer *args = data;

  return ow_test_env_sum (args[0], args[1], args[2]) >= *(guint64 *)args[3];
}

/* The test's own (root) connection has received AT_LEAST of KIND on CGROUP. */
gboolean
adv_wait_sum (OwTestEnv *env, const char *cgroup, const char *kind, guint64 at_least,
              guint timeout_ms)
{
  gpointer args[] = { env, (gpointer)cgroup, (gpointer)kind, &at_least };

  adv_wait_until (sum_reached, args, timeout_ms);
  return sum_reached (args);
}

/* A hog of ADV_HOG_MIB in cgroup NAME, run as UID (who must be able to join it). */
GSubprocess *
adv_hog (OwTestEnv *env, const char *name, guint uid)
{
  g_autofree char *dir = ow_test_env_cgroup_path (env, name);
  g_autofree char *procs = g_build_filename (dir, "cgroup.procs", NULL);
  g_autofree char *reuid = g_strdup_printf ("--reuid=%u", uid);
  g_autofree char *regid = g_strdup_printf ("--regid=%u", uid);
  g_autofree char *mib = g_strdup_printf ("%u", ADV_HOG_MIB);
  const char *argv[] = {
    "setpriv", "--pdeathsig=KILL", "--clear-groups", reuid, regid, g_getenv ("OOM_HOG"), dir, mib,
    NULL
  };

  g_assert_cmpint (chown (procs, uid, uid), ==, 0);
  return ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_STDOUT_SILENCE, argv);
}

/* A real OOM in cgroup NAME (limited to ADV_LIMIT) by a process of UID; waits until the test's
 * own connection has been told of kill number KILLS_BEFORE + 1 there. */
void
adv_oom (OwTestEnv *env, const char *name, guint uid, guint64 kills_before)
{
  g_autofree char *cgroup = ow_test_env_canonical (env, name);
  g_autoptr (GSubprocess) hog = adv_hog (env, name, uid);
  gint64 start = g_get_monotonic_time ();

  ow_test_env_wait_process (hog);
  if (!adv_wait_sum (env, cgroup, "oom-kill", kills_before + 1, adv_ms (10000)))
    adv_fail ("no oom-kill on %s (kill %" G_GUINT64_FORMAT ") within %u ms", cgroup,
              kills_before + 1, adv_ms (10000));
  else
    g_test_message ("oom-kill on %s signalled %.0f ms after the hog started", cgroup,
                    (g_get_monotonic_time () - start) / 1000.0);
}

/* NAME with FANOUT children of FANOUT - 1 children each: 1 + FANOUT² cgroups. */
char *
adv_make_tree (OwTestEnv *env, const char *name, guint fanout)
{
  g_autofree char *top = ow_test_env_cgroup_path (env, name);

  g_assert_cmpint (g_mkdir (top, 0755), ==, 0);
  for (guint i = 0; i < fanout; i++)
    {
      g_autofree char *child = g_strdup_printf ("%s/c%02u", top, i);

      g_assert_cmpint (g_mkdir (child, 0755), ==, 0);
      for (guint j = 0; j + 1 < fanout; j++)
        {
          g_autofree char *grandchild = g_strdup_printf ("%s/g%02u", child, j);

          g_assert_cmpint (g_mkdir (grandchild, 0755), ==, 0);
        }
    }
  return ow_test_env_canonical (env, name);
}

/* The daemon's open fds, 0 once it is gone (the test then fails elsewhere, with a reason). */
guint
adv_daemon_fds (OwTestEnv *env)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/fd", env->daemon_pid);
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint count = 0;

  while (dir != NULL && g_dir_read_name (dir) != NULL)
    count++;
  return count;
}

/* A number from the daemon's /proc/PID/status ("VmRSS:", "CapEff:"), 0 once it is gone. */
guint64
adv_daemon_status (OwTestEnv *env, const char *field, guint base)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/status", env->daemon_pid);
  g_autofree char *status = NULL;
  const char *at;

  if (!g_file_get_contents (path, &status, NULL, NULL) || (at = strstr (status, field)) == NULL)
    return 0;
  return g_ascii_strtoull (at + strlen (field), NULL, base);
}

guint64
adv_daemon_rss_kib (OwTestEnv *env)
{
  return adv_daemon_status (env, "VmRSS:", 10);
}

struct _AdvSampler
{
  OwTestEnv *env;
  guint id;
  guint max_fds;
  guint64 max_rss_kib;
};

static gboolean
on_sample (gpointer user_data)
{
  AdvSampler *sampler = user_data;

  sampler->max_fds = MAX (sampler->max_fds, adv_daemon_fds (sampler->env));
  sampler->max_rss_kib = MAX (sampler->max_rss_kib, adv_daemon_rss_kib (sampler->env));
  return G_SOURCE_CONTINUE;
}

/* Samples the daemon's fds and RSS every 10 ms while the test waits. */
AdvSampler *
adv_sampler_start (OwTestEnv *env)
{
  AdvSampler *sampler = g_new0 (AdvSampler, 1);

  sampler->env = env;
  on_sample (sampler);
  sampler->id = g_timeout_add (10, on_sample, sampler);
  return sampler;
}

void
adv_sampler_stop (AdvSampler *sampler, guint *max_fds, guint64 *max_rss_kib)
{
  on_sample (sampler);
  g_source_remove (sampler->id);
  if (max_fds != NULL)
    *max_fds = sampler->max_fds;
  if (max_rss_kib != NULL)
    *max_rss_kib = sampler->max_rss_kib;
  g_free (sampler);
}

/* One record into the kernel log as a user would write it (the kernel makes it LOG_USER). */
void
adv_kmsg_write (const char *record)
{
  int fd = open ("/dev/kmsg", O_WRONLY | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, record, strlen (record)), ==, (gssize)strlen (record));
  close (fd);
}

#define DMESG_RESTRICT "/proc/sys/kernel/dmesg_restrict"
static char saved_restrict = '\0';

static void
restore_restrict (void)
{
  int fd;

  if (saved_restrict == '\0')
    return;
  fd = open (DMESG_RESTRICT, O_WRONLY | O_CLOEXEC);
  if (fd >= 0)
    {
      if (write (fd, &saved_restrict, 1) < 0)
        { /* nothing more to do while dying */
        }
      close (fd);
    }
  saved_restrict = '\0';
}

/* A failed assertion aborts: the host's setting is put back first. */
static void
on_abort (int signo)
{
  restore_restrict ();
  signal (signo, SIG_DFL);
  raise (signo);
}

/* Sets kernel.dmesg_restrict to 1 (ON) or back to what it was. */
void
adv_dmesg_restrict (gboolean on)
{
  g_autofree char *old = NULL;

  if (!on)
    {
      restore_restrict ();
      signal (SIGABRT, SIG_DFL);
      return;
    }
  g_assert_true (g_file_get_contents (DMESG_RESTRICT, &old, NULL, NULL));
  saved_restrict = old[0];
  signal (SIGABRT, on_abort);
  ow_test_env_write ("/proc/sys/kernel", "dmesg_restrict", "1");
}

/* The host's share of this machine's CPU time since *TICKS, in percent (from /proc/stat);
 * TICKS is updated. Steal is what stalls a VM's processes without any of them being busy. */
static double
steal_since (guint64 ticks[2])
{
  g_autofree char *stat = NULL;
  guint64 before_total = ticks[0], before_steal = ticks[1], total = 0, steal = 0;
  const char *p;
  char *end;

  if (!g_file_get_contents ("/proc/stat", &stat, NULL, NULL) || !g_str_has_prefix (stat, "cpu "))
    return 0;
  p = stat + 4;
  /* user nice system idle iowait irq softirq steal */
  for (guint i = 0; i < 8; i++, p = end)
    {
      guint64 value = g_ascii_strtoull (p, &end, 10);

      total += value;
      if (i == 7)
        steal = value;
    }
  ticks[0] = total;
  ticks[1] = steal;
  return total > before_total ? 100.0 * (steal - before_steal) / (total - before_total) : 0;
}

/* 100 Watch+Unwatch pairs on CGROUP by UID (20 ms apart; each uid's call budget is used up
 * by one such try), printed under LABEL with the host's steal meanwhile; an OOM in the
 * cgroup named OOM_IN, if given, is made meanwhile. Returns the p50 in ms. */
double
adv_latency (OwTestEnv *env, guint uid, const char *cgroup, const char *label, const char *oom_in)
{
  g_autofree char *deadline = g_strdup_printf ("%u", adv_ms (30000) / 1000);
  const char *argv[]
      = { g_getenv ("ADVERSARY_CLIENT"), "latency", cgroup, "100", "20", deadline, NULL };
  g_autoptr (AdvProc) latency = NULL;
  guint64 ticks[2] = { 0 };
  const char *result;
  guint n = 0, errors = 0;
  double p50 = 0, p90 = 0, max = 0, steal;

  steal_since (ticks);
  latency = adv_spawn (uid, "latency", argv);
  if (oom_in != NULL)
    adv_oom (env, oom_in, ADV_UID_USER, 0);
  result = adv_wait_line (latency, "latency ", adv_ms (60000));
  steal = steal_since (ticks);
  if (result == NULL
      || sscanf (result, "latency n=%u p50=%lf p90=%lf max=%lf errors=%u", &n, &p50, &p90, &max,
                 &errors)
             != 5)
    adv_fail ("the latency client did not finish: %s", result);
  printf ("# %s (uid %u): Watch+Unwatch p50 %.2f ms, p90 %.2f ms, max %.2f ms (%u pairs), "
          "steal %.1f %%\n",
          label, uid, p50, p90, max, n, steal);
  if (n != 100 || errors != 0)
    adv_fail ("%s: %u of 100 Watch+Unwatch pairs done, %u failed", label, n, errors);
  return p50;
}
