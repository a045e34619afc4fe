/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomwatch-bench OUTDIR: latency against the raw kernel wake-up (on dbus-daemon, and on
 * dbus-broker when BENCH_BROKER names bench-broker), the CPU each process spends per OOM, a
 * system-call breakdown of the daemon's path, scale, idle cost, an OOM storm, recursive arming
 * and start-up, measured on the real kernel with the built oomwatchd on a private bus. Prints
 * tables and writes OUTDIR/results.json plus the latency samples for plotting.
 * BENCH_ONLY=latency: the latency table alone (bench/run's loud-console table); BENCH_ONLY=cost:
 * the CPU per OOM alone (to profile the daemon, with OOMWATCH_TEST_WRAPPER).
 * BENCH_ROWS=startup,watch,rss,cost,floor,latency (any of them): those figures alone, one
 * "figure NAME VALUE" line each, for bench/compare. */
#include "bench.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  guint rounds, cost_rounds, idle_seconds, storm, tree, mkdirs;
  gboolean latency_only, cost_only, like_rows, alone_rows;
  const char *outdir;
  GString *latency, *cost, *scale, *rest;
} Run;

static guint
knob (const char *name, guint fallback)
{
  const char *value = g_getenv (name);

  return value != NULL ? (guint)g_ascii_strtoull (value, NULL, 10) : fallback;
}

static Bench *
bench_new (const char *bus_name)
{
  Bench *bench = g_new0 (Bench, 1);

  bench->bus_name = bus_name;
  bench->other_cgroups = g_ptr_array_new_with_free_func (g_free);
  bench->json = g_string_new (NULL);
  g_mutex_init (&bench->lock);
  g_auto (GStrv) args = g_strsplit (g_getenv ("BENCH_DAEMON_ARGS") ?: "", " ", -1);
  /* BENCH_DAEMON_ARGS: extra daemon options, e.g. --no-kernel-log to see what reading the
   * kernel log costs the latency. The daemon runs as the unit starts it: no debug output. */
  OwTestDaemonOptions options = {
    .args = args[0] != NULL && args[0][0] != '\0' ? (const char *const *)args : NULL,
    .quiet = TRUE,
  };

  bench->env = ow_test_env_new_full (&options);
  return bench;
}

static void
bench_free (Bench *bench)
{
  if (bench->relay != NULL)
    bench_latency_stop (bench);
  if (bench->filter_id != 0)
    g_dbus_connection_remove_filter (bench->env->connection, bench->filter_id);
  g_unlink (bench->env->daemon_log); /* the harness would print it all */
  if (strcmp (bench->bus_name, "dbus-broker") == 0)
    {
      g_autofree char *config
          = g_build_filename (bench->env->tmpdir, "system_bus_socket.broker.conf", NULL);

      g_unlink (config); /* bench-broker's copy of the bus configuration */
    }
  ow_test_env_free (bench->env);
  g_ptr_array_unref (bench->other_cgroups);
  g_string_free (bench->json, TRUE);
  g_mutex_clear (&bench->lock);
  g_free (bench->target);
  g_free (bench->target_dir);
  g_free (bench->alone_target);
  g_free (bench->alone_dir);
  g_free (bench);
}

static void
latency_json (Run *run, Bench *bench)
{
  g_string_append_printf (run->latency, "%s\"%s\":[%s]", run->latency->len == 0 ? "" : ",",
                          bench->bus_name, bench->json->str);
}

/* The same row with each OOM waking only one of the two (bench-latency.c). */
static void
alone_row (Bench *bench, Run *run)
{
  bench->alone = TRUE;
  bench_relay_start (bench, bench->relay_like_daemon); /* on the cgroup "alone" */
  bench_latency_row (bench, run->outdir, run->rounds);
  bench->alone = FALSE;
  bench_relay_start (bench, bench->relay_like_daemon);
}

/* The main run, on dbus-daemon. */
static void
on_dbus_daemon (Run *run)
{
  g_auto (GStrv) levels = g_strsplit (g_getenv ("BENCH_LEVELS") ?: "1,100,1000,10000", ",", -1);
  Bench *bench = bench_new ("dbus-daemon");
  double rate = 0;

  bench_scale_point (bench, 0, run->scale);
  g_free (ow_test_env_make_cgroup (bench->env, "other", NULL, FALSE));
  bench->alone = knob ("BENCH_ALL_ALONE", 0) != 0; /* bench/sched-trace --alone */
  bench_latency_start (bench);
  bench_grow_others (bench, 1);
  if (!run->latency_only)
    bench_cost (bench, run->cost_rounds, run->cost);
  if (run->cost_only)
    {
      bench_free (bench);
      return;
    }
  g_print ("\n== latency after the raw eventfd wake-up, us (%u OOMs per row; load average %.2f)\n",
           run->rounds, bench_load_average ());
  bench_latency_header ();
  for (gsize l = 0; levels[l] != NULL; l++)
    {
      guint level = (guint)g_ascii_strtoull (levels[l], NULL, 10);
      double level_rate = bench_grow_others (bench, level);

      if (!run->latency_only)
        bench_scale_point (bench, level + 1, run->scale);
      if (level == 10000)
        rate = level_rate;
      bench_latency_row (bench, run->outdir, run->rounds);
      if ((level == 1 || level == 10000) && run->alone_rows && !bench->alone)
        alone_row (bench, run);
      if ((level == 1 || level == 10000) && run->like_rows)
        {
          bench_relay_start (bench, TRUE);
          bench_latency_row (bench, run->outdir, run->rounds);
          if (run->alone_rows && !bench->alone)
            alone_row (bench, run);
          bench_relay_start (bench, FALSE);
        }
    }
  if (run->like_rows)
    g_print ("* the relay also re-opens and reads memory.oom_control, and sends oomwatchd's "
             "arguments (cgroup, kind, count, details)\n");
  if (run->alone_rows)
    g_print ("a each OOM wakes only one of the two, in turn (half the OOMs each; the relay on a "
             "cgroup of its own): neither waits for the other on the free core\n");
  latency_json (run, bench);
  if (!run->latency_only)
    {
      bench_cost (bench, run->cost_rounds, run->cost);
      bench_trace (bench, 5, run->outdir);
      g_print ("\nWatch() calls per second (pipelined, 1,000 -> 10,000 watches): %.0f\n", rate);
      g_string_append_printf (run->rest, ",\"watch_calls_per_second\":%.0f", rate);
      bench_idle (bench, run->idle_seconds, run->rest);
      bench_storm (bench, run->storm, run->rest);
      bench_startup (bench, run->rest);
    }
  bench_free (bench);
}

/* The same relay, daemon and client on dbus-broker (bench-broker starts it without systemd). */
static void
on_dbus_broker (Run *run, const char *launcher)
{
  Bench *bench;

  g_setenv ("OOMWATCH_TEST_BUS", launcher, TRUE);
  bench = bench_new ("dbus-broker");
  g_free (ow_test_env_make_cgroup (bench->env, "other", NULL, FALSE));
  bench_latency_start (bench);
  bench_grow_others (bench, 1);
  bench_latency_row (bench, run->outdir, run->rounds);
  if (!run->latency_only)
    bench_cost (bench, run->cost_rounds, run->cost);
  latency_json (run, bench);
  bench_free (bench);
  g_unsetenv ("OOMWATCH_TEST_BUS");
}

static void
figure (const char *name, double value)
{
  g_print ("figure %s %.4f\n", name, value);
}

static gboolean
has_row (const char *const *rows, const char *name)
{
  return g_strv_contains (rows, name);
}

/* BENCH_ROWS: the chosen figures of one daemon, for bench/compare. The watches grow 1 -> 100
 * -> 1,000 -> BENCH_WATCHES (10,000) others; the target makes one more. */
static void
on_rows (Run *run, const char *list)
{
  g_auto (GStrv) rows = g_strsplit (list, ",", -1);
  g_auto (GStrv) levels = g_strsplit (g_getenv ("BENCH_LEVELS") ?: "1,100,1000,10000", ",", -1);
  const char *const *want = (const char *const *)rows;
  gboolean latency = has_row (want, "latency");
  guint top = knob ("BENCH_WATCHES", 10000);
  guint64 steal0, ticks0 = bench_cpu_ticks (&steal0), steal1;
  Bench *bench = bench_new ("dbus-daemon");

  g_free (ow_test_env_make_cgroup (bench->env, "other", NULL, FALSE));
  bench_latency_start (bench);
  bench_grow_others (bench, 1);
  if (has_row (want, "cost"))
    {
      bench_cost (bench, run->cost_rounds, run->cost);
      figure ("cpu_per_oom_us", bench->cost_daemon_us);
      figure ("relay_cpu_per_oom_us", bench->cost_relay_us);
      figure ("cpu_per_oom_vs_relay", bench->cost_daemon_us / bench->cost_relay_us);
      figure ("runs_per_oom", bench->cost_daemon_runs);
      figure ("relay_runs_per_oom", bench->cost_relay_runs);
    }
  if (has_row (want, "floor"))
    {
      double bare_us = has_row (want, "cost") ? bench->cost_relay_us : 0;

      bench_relay_floor (bench, TRUE);
      bench_cost (bench, run->cost_rounds, run->cost);
      figure ("floor_cpu_per_oom_us", bench->cost_relay_us);
      figure ("cpu_per_oom_vs_floor", bench->cost_daemon_us / bench->cost_relay_us);
      if (bare_us > 0)
        figure ("floor_vs_relay", bench->cost_relay_us / bare_us);
      bench_relay_floor (bench, FALSE);
    }
  if (latency)
    bench_latency_header ();
  for (gsize l = 0; levels[l] != NULL; l++)
    {
      guint level = (guint)g_ascii_strtoull (levels[l], NULL, 10);
      double rate = bench_grow_others (bench, level);
      g_autofree char *p50 = g_strdup_printf ("latency_p50_vs_relay_%u", level);
      g_autofree char *p99 = g_strdup_printf ("latency_p99_vs_relay_%u", level);
      g_autofree char *steal = g_strdup_printf ("latency_steal_percent_%u", level);

      if (level == top && has_row (want, "watch"))
        {
          figure ("watch_calls_per_s", rate);
          figure ("watch_cpu_us_per_call", bench->watch_cpu_us);
        }
      if (level == top && has_row (want, "rss"))
        {
          figure ("rss_mib", ow_test_env_rss_kib (bench->env) / 1024.0);
          /* the heap (and stacks), and the pages of the binary and libraries it touched */
          figure ("rss_anon_mib", ow_test_env_status_kib (bench->env, "RssAnon:") / 1024.0);
          figure ("rss_file_mib", ow_test_env_status_kib (bench->env, "RssFile:") / 1024.0);
          figure ("fds", ow_test_env_count_fds (bench->env));
        }
      if (!latency)
        continue;
      bench_latency_row (bench, run->outdir, run->rounds);
      figure (p50, bench->last_daemon.p50 / bench->last_relay.p50);
      figure (p99, bench->last_daemon.p99 / bench->last_relay.p99);
      figure (steal, bench->last_steal);
    }
  if (has_row (want, "startup"))
    {
      figure ("startup_s", bench_startup (bench, run->rest));
      figure ("startup_cpu_s", bench->last_startup_cpu);
      figure ("startup_replaced_cpu_s", bench->last_startup_old_cpu);
    }
  ticks0 = bench_cpu_ticks (&steal1) - ticks0;
  figure ("steal_percent", ticks0 > 0 ? 100.0 * (steal1 - steal0) / ticks0 : 0);
  bench_free (bench);
}

/* In a daemon of its own: the tree alone is 10,101 watches. */
static void
on_recursive (Run *run)
{
  Bench *bench = bench_new ("dbus-daemon");

  bench_filter_start (bench);
  bench_recursive (bench, run->tree, run->mkdirs, run->rest);
  bench_free (bench);
}

int
main (int argc, char **argv)
{
  Run run = { .rounds = knob ("BENCH_ROUNDS", 200),
              .cost_rounds = knob ("BENCH_COST_ROUNDS", 200),
              .idle_seconds = knob ("BENCH_IDLE_SECONDS", 60),
              .storm = knob ("BENCH_STORM", 1000),
              .tree = knob ("BENCH_TREE", 10000),
              .mkdirs = knob ("BENCH_MKDIRS", 100) };
  const char *broker = g_getenv ("BENCH_BROKER");
  g_autofree char *json_path = NULL, *printk = NULL;
  g_autoptr (GString) json = g_string_new ("{");
  int skip = ow_test_env_check ();

  if (skip != 0 || argc != 2)
    return skip != 0 ? skip : 2;
  run.outdir = argv[1];
  run.latency_only = g_strcmp0 (g_getenv ("BENCH_ONLY"), "latency") == 0;
  run.cost_only = g_strcmp0 (g_getenv ("BENCH_ONLY"), "cost") == 0; /* for profiling */
  run.like_rows = knob ("BENCH_LIKE_ROWS", 1) != 0;
  run.alone_rows = knob ("BENCH_ALONE_ROWS", 1) != 0;
  g_mkdir_with_parents (run.outdir, 0755);
  run.latency = g_string_new (NULL);
  run.cost = g_string_new (NULL);
  run.scale = g_string_new (NULL);
  run.rest = g_string_new (NULL);
  g_file_get_contents ("/proc/sys/kernel/printk", &printk, NULL, NULL);
  g_string_append_printf (json, "\"console_loglevel\":%d,\"load_average_start\":%.2f,",
                          printk != NULL ? atoi (printk) : -1, bench_load_average ());

  if (g_getenv ("BENCH_ROWS") != NULL)
    {
      on_rows (&run, g_getenv ("BENCH_ROWS"));
      return 0;
    }
  on_dbus_daemon (&run);
  if (broker != NULL && !run.cost_only)
    on_dbus_broker (&run, broker);
  if (!run.latency_only && !run.cost_only)
    on_recursive (&run);

  g_string_append_printf (json, "\"latency\":{%s}", run.latency->str);
  if (!run.latency_only)
    g_string_append_printf (json, ",\"cpu_per_oom\":[%s],\"scale\":[%s]%s", run.cost->str,
                            run.scale->str, run.rest->str);
  g_string_append_printf (json, ",\"load_average_end\":%.2f}\n", bench_load_average ());
  json_path = g_build_filename (run.outdir, "results.json", NULL);
  g_assert_true (g_file_set_contents (json_path, json->str, -1, NULL));
  g_print ("\nresults: %s\n", json_path);
  g_string_free (run.latency, TRUE);
  g_string_free (run.cost, TRUE);
  g_string_free (run.scale, TRUE);
  g_string_free (run.rest, TRUE);
  return 0;
}
