/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Statistics, samples, CPU time and load of the machine: small helpers of the benchmark. */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

static double
percentile (GArray *sorted, double p)
{
  gsize i = (gsize)ceil (p / 100.0 * sorted->len) - 1;

  return g_array_index (sorted, double, MIN (i, sorted->len - 1));
}

BenchStats
bench_stats (GArray *samples)
{
  g_autoptr (GArray) sorted = g_array_copy (samples);
  BenchStats stats = { 0 };

  if (sorted->len == 0)
    return stats;
  g_array_sort (sorted, compare_doubles);
  stats.p50 = percentile (sorted, 50);
  stats.p90 = percentile (sorted, 90);
  stats.p99 = percentile (sorted, 99);
  stats.max = g_array_index (sorted, double, sorted->len - 1);
  return stats;
}

/* The empirical CDF: "microseconds fraction" per sample, sorted. */
void
bench_save_samples (const char *outdir, const char *name, GArray *samples)
{
  g_autofree char *path = g_build_filename (outdir, name, NULL);
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GArray) sorted = g_array_copy (samples);

  g_array_sort (sorted, compare_doubles);
  for (guint i = 0; i < sorted->len; i++)
    g_string_append_printf (text, "%.1f %.4f\n", g_array_index (sorted, double, i),
                            (i + 1) / (double)sorted->len);
  g_assert_true (g_file_set_contents (path, text->str, -1, NULL));
}

/* The sum over every thread of PID of VALUE (FILE of /proc/PID/task/TID). Threads that
 * already exited are not counted; the processes measured here keep theirs. */
guint64
bench_sum_tasks (const char *pid, const char *file, guint64 (*value) (const char *text))
{
  g_autofree char *task_dir = g_strdup_printf ("/proc/%s/task", pid);
  g_autoptr (GDir) dir = g_dir_open (task_dir, 0, NULL);
  const char *task;
  guint64 total = 0;

  while (dir != NULL && (task = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (task_dir, task, file, NULL);
      g_autofree char *text = NULL;

      if (g_file_get_contents (path, &text, NULL, NULL))
        total += value (text);
    }
  return total;
}

static guint64
first_number (const char *text)
{
  return g_ascii_strtoull (text, NULL, 10);
}

/* Nanoseconds on a CPU of every thread of PID so far: the scheduler's own account, not
 * sampled ticks (schedstat, first field). */
guint64
bench_cpu_ns (const char *pid)
{
  return bench_sum_tasks (pid, "schedstat", first_number);
}

static guint64
third_number (const char *text)
{
  g_auto (GStrv) fields = g_strsplit (text, " ", 4);

  return g_strv_length (fields) >= 3 ? g_ascii_strtoull (fields[2], NULL, 10) : 0;
}

/* How many times the threads of PID were put on a CPU so far (schedstat, third field): each
 * wake-up is one, and so is each return after preemption. */
guint64
bench_runs (const char *pid)
{
  return bench_sum_tasks (pid, "schedstat", third_number);
}

double
bench_load_average (void)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents ("/proc/loadavg", &text, NULL, NULL))
    return -1;
  return g_ascii_strtod (text, NULL);
}

/* The machine's CPU time so far, in ticks (/proc/stat), and (STEAL) how much of it the
 * hypervisor gave to other guests: on a shared host, what disturbs a row most. */
guint64
bench_cpu_ticks (guint64 *steal)
{
  g_autofree char *text = NULL;
  guint64 fields[8] = { 0 }, total = 0;
  char *p;

  *steal = 0;
  if (!g_file_get_contents ("/proc/stat", &text, NULL, NULL) || !g_str_has_prefix (text, "cpu "))
    return 0;
  p = text + 4;
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    total += fields[i] = g_ascii_strtoull (p, &p, 10);
  *steal = fields[7]; /* user nice system idle iowait irq softirq steal */
  return total;
}

/* Runs a hog of MIB MiB in cgroup NAME to its end (the OOM killer's, with a small limit). */
void
bench_wait_hog (Bench *bench, const char *name, guint mib)
{
  g_autoptr (GSubprocess) hog = ow_test_env_hog (bench->env, name, mib);

  ow_test_env_wait_process (hog);
}
