/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomwatch-bench: what the parts share. One Bench per bus (dbus-daemon, then dbus-broker). */
#pragma once

#include "ow-test-env.h"

G_BEGIN_DECLS

typedef struct
{
  double p50, p90, p99, max;
} BenchStats;

typedef struct
{
  OwTestEnv *env;
  const char *bus_name; /* "dbus-daemon" or "dbus-broker" */
  char *target;         /* canonical cgroup the latency OOMs happen in */
  char *target_dir;
  guint others; /* other cgroups watched so far */
  GPtrArray *other_cgroups;
  GSubprocess *relay;
  gboolean relay_like_daemon; /* the relay reads the state and sends oomwatchd's arguments */
  gboolean alone; /* each OOM wakes one of the two, in turn (not both): the relay on its own */
  char *alone_target, *alone_dir; /* cgroup, which the daemon does not watch */
  GDataInputStream *relay_out;
  guint filter_id;
  /* One latency round: monotonic µs of the first arrival of each path; 0 = not yet. The raw
   * reader thread and the bus worker thread write them. */
  GMutex lock;
  gint64 raw_at, relay_at, daemon_at;
  char *probe; /* and the first "oom" of this cgroup (bench-recursive.c) */
  gint64 probe_at;
  int raw_efd;
  GThread *raw_thread;
  GString *json;                      /* this bus's rows */
  BenchStats last_relay, last_daemon; /* of the last latency row */
  double last_steal;                  /* percent, of the last latency row */
  /* CPU seconds of the start-up row: the replacement's until it owned the name, and the
   * replaced daemon's meanwhile (work left over from earlier rows competes with it) */
  double last_startup_cpu, last_startup_old_cpu;
  double cost_daemon_us, cost_relay_us;     /* of the last bench_cost */
  gboolean relay_floor;                     /* the relay reads the kernel log and signals kills */
  double cost_daemon_runs, cost_relay_runs; /* times on a CPU per OOM, of the last bench_cost */
  /* the daemon's CPU per call of the last bench_watch_all: steadier than the rate, which
   * depends on how the daemon's threads, the bus and the client share the CPUs */
  double watch_cpu_us;
} Bench;

/* bench-util.c */
BenchStats bench_stats (GArray *samples);
void bench_save_samples (const char *outdir, const char *name, GArray *samples);
guint64 bench_sum_tasks (const char *pid, const char *file, guint64 (*value) (const char *text));
guint64 bench_cpu_ns (const char *pid);
guint64 bench_runs (const char *pid);
double bench_load_average (void);
guint64 bench_cpu_ticks (guint64 *steal);
void bench_wait_hog (Bench *bench, const char *name, guint mib);

/* bench-latency.c */
void bench_filter_start (Bench *bench);
void bench_latency_start (Bench *bench);
void bench_relay_start (Bench *bench, gboolean like_daemon);
void bench_relay_floor (Bench *bench, gboolean floor);
void bench_latency_stop (Bench *bench);
void bench_latency_header (void);
gboolean bench_one_oom (Bench *bench, double *relay_us, double *daemon_us);
void bench_latency_row (Bench *bench, const char *outdir, guint rounds);
void bench_cost (Bench *bench, guint rounds, GString *json);

/* bench-trace.c */
void bench_trace (Bench *bench, guint rounds, const char *outdir);

/* bench-scale.c */
double bench_grow_others (Bench *bench, guint count);
double bench_watch_all (Bench *bench, GPtrArray *cgroups, guint from, guint to);
void bench_scale_point (Bench *bench, guint watches, GString *json);
void bench_idle (Bench *bench, guint seconds, GString *json);
void bench_storm (Bench *bench, guint cgroups, GString *json);
double bench_startup (Bench *bench, GString *json);

/* bench-recursive.c */
void bench_recursive (Bench *bench, guint tree, guint samples, GString *json);

G_END_DECLS
