/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Adversary cases about what the daemon tells whom and what it believes: victim identity
 * across uids, listeners, recreated cgroups, delegated children, forged kernel-log records. */
#include "adversary-harness.h"
#include "oomwatch-names.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define FORGED_COMM "oomwatch-forged"
#define CAP_DAC_OVERRIDE_BIT 1

/* 3: privacy. With dmesg_restrict=1: nobody listening receives nothing; nobody watching gets
 * the events without pid/comm/uid; the victim's own uid (sys) and root get them; Monitor() is
 * root's only. */
static void
test_privacy (void)
{
  OwTestEnv *env;
  g_autofree char *theirs = NULL, *roots = NULL;
  g_autoptr (AdvProc) listener = NULL, spy = NULL, owner = NULL, monitor = NULL;
  g_autoptr (GPtrArray) heard = NULL, spied = NULL, owned = NULL, monitored = NULL;
  const char *dmesg_argv[]
      = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "dmesg", NULL };
  g_autoptr (GSubprocess) dmesg = NULL;
  const char *answer;

  adv_dmesg_restrict (TRUE);
  env = ow_test_env_new (NULL);
  dmesg = ow_test_env_spawn (
      env, G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, dmesg_argv);
  ow_test_env_wait_process (dmesg);
  g_assert_cmpint (g_subprocess_get_exit_status (dmesg), !=, 0); /* nobody cannot read the log */

  theirs = ow_test_env_make_cgroup (env, "victim", ADV_LIMIT, FALSE);
  roots = ow_test_env_make_cgroup (env, "rootkill", ADV_LIMIT, FALSE);
  listener = adv_client (ADV_UID_NOBODY, "nobody listening", "listen");
  spy = adv_client (ADV_UID_NOBODY, "nobody watching", "watch");
  owner = adv_client (ADV_UID_VICTIM, "victim uid", "watch");
  monitor = adv_client (0, "root monitor", "watch");
  adv_watch_both (env, spy, theirs, FALSE);
  adv_watch_both (env, spy, roots, FALSE);
  adv_watch_both (env, owner, theirs, FALSE);
  adv_call_ok (monitor, "monitor", ADV_CALL_MS);
  answer = adv_call (spy, "monitor", NULL);
  if (strstr (answer, "error monitor ") != answer
      || strstr (answer, "org.freedesktop.DBus.Error.AccessDenied") == NULL)
    adv_fail ("Monitor() by nobody: %s", answer);

  adv_oom (env, "victim", ADV_UID_VICTIM, 0);
  adv_oom (env, "rootkill", 0, 0);
  ow_test_env_iterate (ADV_SETTLE_MS);
  if (adv_daemon_answers (env))
    {
      const char *const both[] = { theirs, roots, NULL };
      const char *const own[] = { theirs, NULL };

      adv_sync (listener);
      adv_sync (spy);
      adv_sync (owner);
      adv_sync (monitor);
      heard = adv_signals (listener);
      spied = adv_signals (spy);
      owned = adv_signals (owner);
      monitored = adv_signals (monitor);
      if (heard->len > 0)
        adv_fail ("nobody, only listening, received %u signals", heard->len);
      for (guint i = 0; i < 2; i++)
        {
          const char *cgroup = both[i];

          adv_check_exact (spied, "nobody", cgroup, "oom-kill", 1);
          adv_check_identity (spied, "nobody", cgroup, FALSE);
          adv_check_identity (env->signals, "root", cgroup, TRUE);
          adv_check_exact (monitored, "root monitor", cgroup, "oom-kill", 1);
          adv_check_identity (monitored, "root monitor", cgroup, TRUE);
        }
      adv_check_exact (owned, "victim uid", theirs, "oom-kill", 1);
      adv_check_identity (owned, "victim uid", theirs, TRUE);
      adv_check_only (owned, "victim uid", own);
      adv_check_only (spied, "nobody", both);
    }
  ow_test_env_free (env);
  adv_dmesg_restrict (FALSE);
}

/* Listening without watching: nothing arrives, neither events nor removals. */
static void
test_listener (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *legit = ow_test_env_make_cgroup (env, "legit", ADV_LIMIT, FALSE);
  g_autofree char *bye = ow_test_env_make_cgroup (env, "bye", NULL, FALSE);
  g_autofree char *bye_dir = ow_test_env_cgroup_path (env, "bye");
  const char *const watched[] = { legit, bye, NULL };
  g_autoptr (AdvProc) listener = adv_client (ADV_UID_NOBODY, "nobody listening", "listen");
  g_autoptr (AdvProc) user = adv_client (ADV_UID_USER, "user", "watch");
  g_autoptr (GPtrArray) heard = NULL, seen = NULL;

  adv_watch_both (env, user, legit, FALSE);
  adv_watch_both (env, user, bye, FALSE);
  adv_oom (env, "legit", ADV_UID_USER, 0);
  g_assert_cmpint (g_rmdir (bye_dir), ==, 0);
  if (!ow_test_env_wait_signal (env, bye, "removed", adv_ms (10000)))
    adv_fail ("no WatchRemoved for %s", bye);
  seen = adv_legit_signals (env, user);
  adv_sync (listener);
  heard = adv_signals (listener);
  if (heard->len > 0)
    adv_fail ("nobody, only listening, received %u signals", heard->len);
  if (seen != NULL)
    {
      adv_check_both (env, seen, legit, "oom-kill", 1);
      adv_check_both (env, seen, bye, "removed", 1);
      adv_check_only (seen, "user", watched);
    }
  ow_test_env_free (env);
}

/* The ListWatches entry of CGROUP began at or after SINCE (µs since the epoch). */
static gboolean
watched_since (OwTestEnv *env, const char *cgroup, guint64 since)
{
  g_autoptr (GVariant) entry = ow_test_env_find_watch (env, cgroup);
  guint64 began = 0;

  return entry != NULL && g_variant_lookup (entry, OOMWATCH_KEY_SINCE, "t", &began)
         && began >= since;
}

/* 6: rmdir x; mkdir x under a recursive watch, 100 times: x is watched afresh every time. */
static void
test_recreate (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *parent = ow_test_env_make_cgroup (env, "parent", NULL, FALSE);
  g_autofree char *x = ow_test_env_make_cgroup (env, "parent/x", NULL, FALSE);
  g_autofree char *x_dir = ow_test_env_cgroup_path (env, "parent/x");
  const char *const watched[] = { parent, x, NULL };
  g_autoptr (AdvProc) user = adv_client (ADV_UID_USER, "user", "watch");
  g_autoptr (GPtrArray) seen = NULL;
  guint lost = 0, late_lost = 0, cycles = 0;
  gboolean previous_ok = FALSE;
  guint64 since = 0, false_events;

  adv_watch_both (env, user, parent, TRUE);
  while (cycles < 100 && lost < 10) /* each loss costs the whole timeout: ten tell enough */
    {
      gint64 until;

      /* The previous cycle's fresh watch must not have been dropped by a late removal. */
      if (previous_ok && !watched_since (env, x, since))
        late_lost++;
      since = (guint64)g_get_real_time ();
      g_assert_cmpint (g_rmdir (x_dir), ==, 0);
      g_assert_cmpint (g_mkdir (x_dir, 0755), ==, 0);
      cycles++;
      until = g_get_monotonic_time () + adv_ms (1000) * G_TIME_SPAN_MILLISECOND;
      while (!watched_since (env, x, since) && g_get_monotonic_time () < until)
        ow_test_env_iterate (1);
      previous_ok = watched_since (env, x, since);
      if (!previous_ok)
        {
          g_autoptr (GVariant) entry = ow_test_env_find_watch (env, x);

          lost++;
          g_test_message ("cycle %u: %s is %s", cycles, x,
                          entry != NULL ? "still watched from before" : "not watched");
        }
    }
  ow_test_env_iterate (ADV_SETTLE_MS);
  if (previous_ok && !watched_since (env, x, since))
    late_lost++;
  g_test_message ("%u rmdir/mkdir cycles: %u not watched afresh, %u dropped later", cycles, lost,
                  late_lost);
  if (lost + late_lost > 0)
    adv_fail ("%u of %u recreated cgroups lost their watch (%u of them later)", lost + late_lost,
              cycles, late_lost);
  false_events = adv_sum (env->signals, x, "oom") + adv_sum (env->signals, x, "oom-kill");
  if (false_events > 0)
    adv_fail ("%" G_GUINT64_FORMAT " false oom events on %s", false_events, x);
  if (ow_test_env_count_eventfds (env) != 2)
    adv_fail ("%u kernel registrations for 2 watched cgroups", ow_test_env_count_eventfds (env));

  ow_test_env_write (x_dir, "memory.limit_in_bytes", ADV_LIMIT);
  adv_oom (env, "parent/x", ADV_UID_USER, 0);
  seen = adv_legit_signals (env, user);
  if (seen != NULL)
    {
      adv_check_both (env, seen, x, "oom-kill", 1);
      adv_check_only (seen, "user", watched);
    }
  ow_test_env_free (env);
}

/* 8: a delegated child (cgroup.event_control owned by nobody) under a daemon without
 * CAP_DAC_OVERRIDE, as the unit runs it: the recursive watch of its parent succeeds and lists
 * the child as skipped. */
static void
test_delegated (void)
{
  const char *const wrapper[]
      = { "setpriv", "--inh-caps=-dac_override", "--bounding-set=-dac_override", NULL };
  OwTestDaemonOptions options = { .wrapper = wrapper };
  OwTestEnv *env = ow_test_env_new_full (&options);
  g_autofree char *deleg = ow_test_env_make_cgroup (env, "deleg", NULL, FALSE);
  g_autofree char *a = ow_test_env_make_cgroup (env, "deleg/a", ADV_LIMIT, FALSE);
  g_autofree char *owned = ow_test_env_make_cgroup (env, "deleg/user", NULL, FALSE);
  g_autofree char *owned_dir = ow_test_env_cgroup_path (env, "deleg/user");
  g_autofree char *control = g_build_filename (owned_dir, "cgroup.event_control", NULL);
  g_autoptr (AdvProc) user = adv_client (ADV_UID_USER, "user", "watch");
  g_autoptr (GVariant) entry = NULL, owned_entry = NULL;
  g_autoptr (GPtrArray) seen = NULL;
  g_autofree const char **skipped = NULL;
  const char *const watched[] = { deleg, a, NULL };

  g_assert_cmpuint (adv_daemon_status (env, "CapEff:", 16) & (1u << CAP_DAC_OVERRIDE_BIT), ==, 0);
  g_assert_cmpint (chown (control, ADV_UID_NOBODY, ADV_UID_NOBODY), ==, 0);
  g_assert_cmpint (g_chmod (control, 0200), ==, 0);

  adv_watch_both (env, user, deleg, TRUE);
  entry = ow_test_env_find_watch (env, deleg);
  owned_entry = ow_test_env_find_watch (env, owned);
  if (entry == NULL || !g_variant_lookup (entry, "skipped", "^a&s", &skipped)
      || !g_strv_contains (skipped, owned))
    adv_fail ("%s is not listed as skipped in the ListWatches entry of %s", owned, deleg);
  if (owned_entry != NULL)
    adv_fail ("the delegated %s is listed as watched", owned);
  if (!ow_test_env_watched (env, a))
    adv_fail ("%s, a sibling of the delegated child, is not watched", a);

  adv_oom (env, "deleg/a", ADV_UID_USER, 0);
  seen = adv_legit_signals (env, user);
  if (seen != NULL)
    {
      adv_check_both (env, seen, a, "oom-kill", 1);
      adv_check_only (seen, "user", watched);
    }
  ow_test_env_free (env);
}

static void
forge_kill (const char *prefix, const char *cgroup, guint32 pid)
{
  g_autofree char *line = g_strdup_printf (
      "%soom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
      "oom_memcg=%s,task_memcg=%s,task=" FORGED_COMM ",pid=%u,uid=4242\n",
      prefix, cgroup, cgroup, pid);
  g_autofree char *killed = g_strdup_printf (
      "%sMemory cgroup out of memory: Killed process %u (" FORGED_COMM ") total-vm:1000kB, "
      "anon-rss:1000kB, file-rss:0kB, shmem-rss:0kB, UID:4242 pgtables:40kB oom_score_adj:0\n",
      prefix, pid);

  adv_kmsg_write (line);
  adv_kmsg_write (killed);
}

/* No signal anyone received names the forged victim. */
static void
check_not_forged (GPtrArray *signals, const char *who)
{
  for (guint i = 0; i < signals->len; i++)
    {
      OwTestSignal *signal = g_ptr_array_index (signals, i);
      const char *comm = NULL;

      if (signal->details != NULL
          && g_variant_lookup (signal->details, OOMWATCH_KEY_COMM, "&s", &comm)
          && strcmp (comm, FORGED_COMM) == 0)
        adv_fail ("%s received a forged victim on %s", who, signal->cgroup);
    }
}

/* 9: kernel-log trust. Records a user writes to /dev/kmsg (LOG_USER) name no victim and make
 * no event; a cgroup whose name holds ",task_memcg=…" does not steer a kill elsewhere. */
static void
test_kmsg_trust (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *trust = ow_test_env_make_cgroup (env, "trust", ADV_LIMIT, FALSE);
  g_autofree char *anc = ow_test_env_make_cgroup (env, "anc", NULL, FALSE);
  g_autofree char *kid = ow_test_env_make_cgroup (env, "anc/kid", NULL, FALSE);
  g_autofree char *decoy = ow_test_env_make_cgroup (env, "decoy", NULL, FALSE);
  g_autofree char *barrier = ow_test_env_make_cgroup (env, "barrier", ADV_LIMIT, FALSE);
  /* Its path, as the kernel prints it, reads ",task_memcg=<decoy>/z". */
  g_autofree char *steer_name = g_strdup_printf ("s,task_memcg=%s/decoy/z", env->cgroup_base);
  g_autofree char *steer_dir = ow_test_env_cgroup_path (env, steer_name);
  g_autofree char *steer = ow_test_env_canonical (env, steer_name);
  const char *const watched[] = { trust, anc, decoy, steer, NULL };
  g_autoptr (AdvProc) user = adv_client (ADV_UID_USER, "user", "watch");
  g_autoptr (GPtrArray) seen = NULL;

  g_assert_cmpint (g_mkdir_with_parents (steer_dir, 0755), ==, 0);
  ow_test_env_write (steer_dir, "memory.limit_in_bytes", ADV_LIMIT);
  for (guint i = 0; watched[i] != NULL; i++)
    adv_watch_both (env, user, watched[i], FALSE);
  g_free (ow_test_env_watch (env, NULL, barrier));

  adv_kmsg_write ("<14>oomwatch adversary test: the next 4 records are forged\n");
  forge_kill ("<14>", kid, 4000001);
  forge_kill ("<6>", trust, 4000002); /* claims the kernel's facility; the kernel keeps LOG_USER */
  adv_oom (env, "trust", 0, 0);
  adv_oom (env, steer_name, 0, 0);
  adv_oom (env, "barrier", 0, 0); /* every record before it was read by now */
  seen = adv_legit_signals (env, user);
  if (seen != NULL)
    {
      adv_check_both (env, seen, trust, "oom-kill", 1);
      adv_check_both (env, seen, steer, "oom-kill", 1);
      adv_check_both (env, seen, anc, "oom-kill", 0);
      adv_check_both (env, seen, decoy, "oom-kill", 0);
      adv_check_both (env, seen, decoy, "oom", 0);
      check_not_forged (env->signals, "root");
      check_not_forged (seen, "user");
      adv_check_only (seen, "user", watched);
    }
  ow_test_env_free (env);
}

void
adv_add_trust_tests (void)
{
  g_test_add_func ("/adversary/privacy", test_privacy);
  g_test_add_func ("/adversary/listener", test_listener);
  g_test_add_func ("/adversary/recreate", test_recreate);
  g_test_add_func ("/adversary/delegated", test_delegated);
  g_test_add_func ("/adversary/kmsg-trust", test_kmsg_trust);
}
