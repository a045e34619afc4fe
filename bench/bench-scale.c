/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Scale and load: Watch() calls per second, the daemon's RSS and fds by watches, its context
 * switches while idle, 1,000 cgroups OOMing at once, start-up with persistent watches. */
#include "bench.h"
#include "ow-test-continuity.h"

#include <string.h>

/* Watch() calls pipelined as a busy client would, within the bus's limit of pending replies
 * per connection (128 on a system bus). */
#define WINDOW 100

typedef struct
{
  OomwatchManager *manager;
  GPtrArray *cgroups;
  guint next, end, pending, failed;
} Pipeline;

static void pipeline_fill (Pipeline *pipeline);

static void
on_watched (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Pipeline *pipeline = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *canonical = NULL;

  if (!oomwatch_manager_call_watch_finish (OOMWATCH_MANAGER (object), &canonical, result, &error))
    {
      g_printerr ("Watch: %s\n", error->message);
      pipeline->failed++;
    }
  pipeline->pending--;
  pipeline_fill (pipeline);
}

static void
pipeline_fill (Pipeline *pipeline)
{
  while (pipeline->pending < WINDOW && pipeline->next < pipeline->end)
    {
      pipeline->pending++;
      oomwatch_manager_call_watch (
          pipeline->manager, g_ptr_array_index (pipeline->cgroups, pipeline->next++),
          g_variant_new ("a{sv}", NULL), G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_watched, pipeline);
    }
}

/* Watches CGROUPS[FROM..TO); returns the calls per second. */
double
bench_watch_all (Bench *bench, GPtrArray *cgroups, guint from, guint to)
{
  Pipeline pipeline = { bench->env->manager, cgroups, from, to, 0, 0 };
  gint64 start = g_get_monotonic_time ();
  guint64 cpu0 = bench_cpu_ns (bench->env->daemon_pid);
  double rate;

  pipeline_fill (&pipeline);
  while (pipeline.pending > 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (pipeline.failed, ==, 0);
  rate = (to - from) / ((g_get_monotonic_time () - start) / (double)G_USEC_PER_SEC);
  bench->watch_cpu_us = (bench_cpu_ns (bench->env->daemon_pid) - cpu0) / 1e3 / (to - from);
  return rate;
}

/* Makes and watches cgroups until COUNT others are watched; returns Watch() calls per second. */
double
bench_grow_others (Bench *bench, guint count)
{
  guint first = bench->others;
  double rate;

  if (count <= first)
    return 0;
  for (guint i = bench->other_cgroups->len; i < count; i++)
    {
      g_autofree char *name = g_strdup_printf ("other/%u", i);

      g_ptr_array_add (bench->other_cgroups,
                       ow_test_env_make_cgroup (bench->env, name, NULL, FALSE));
    }
  rate = bench_watch_all (bench, bench->other_cgroups, first, count);
  bench->others = count;
  return rate;
}

/* Of one thread's status. */
static guint64
status_switches (const char *status)
{
  g_auto (GStrv) lines = g_strsplit (status, "\n", -1);
  guint64 total = 0;

  for (gsize i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "voluntary_ctxt_switches:")
        || g_str_has_prefix (lines[i], "nonvoluntary_ctxt_switches:"))
      total += g_ascii_strtoull (strchr (lines[i], ':') + 1, NULL, 10);
  return total;
}

static guint64
context_switches (OwTestEnv *env)
{
  return bench_sum_tasks (env->daemon_pid, "status", status_switches);
}

void
bench_scale_point (Bench *bench, guint watches, GString *json)
{
  guint64 rss = ow_test_env_rss_kib (bench->env);
  guint fds = ow_test_env_count_fds (bench->env);

  g_string_append_printf (json, "%s{\"watches\":%u,\"rss_mib\":%.2f,\"fds\":%u}",
                          json->len == 0 ? "" : ",", watches, rss / 1024.0, fds);
  g_print ("scale: %u watches: RSS %.1f MiB, %u fds\n", watches, rss / 1024.0, fds);
}

/* Nothing happens for SECONDS: the daemon must not wake. */
void
bench_idle (Bench *bench, guint seconds, GString *json)
{
  guint64 before, after;

  ow_test_env_iterate (2000);
  before = context_switches (bench->env);
  g_usleep ((gulong)seconds * G_USEC_PER_SEC);
  after = context_switches (bench->env);
  g_print ("idle: %" G_GUINT64_FORMAT " context switches in %u s with %u watches\n", after - before,
           seconds, bench->others + 1);
  g_string_append_printf (
      json, ",\"idle\":{\"seconds\":%u,\"watches\":%u,\"context_switches\":%" G_GUINT64_FORMAT "}",
      seconds, bench->others + 1, after - before);
}

static guint64
storm_sum (OwTestEnv *env, const char *kind)
{
  guint64 sum = 0;

  for (guint i = 0; i < env->signals->len; i++)
    {
      OwTestSignal *signal = g_ptr_array_index (env->signals, i);

      if (strcmp (signal->kind, kind) == 0 && strstr (signal->cgroup, "/storm/") != NULL)
        sum += signal->count;
    }
  return sum;
}

/* CGROUPS cgroups OOMing at once: every kill arrives, and the counts sum exactly. */
void
bench_storm (Bench *bench, guint cgroups, GString *json)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) canonical = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) hogs = g_ptr_array_new_with_free_func (g_object_unref);
  guint64 signalled = 0, kernel = 0, ooms = 0;
  gint64 start, start_real, last = 0;

  g_free (ow_test_env_make_cgroup (bench->env, "storm", NULL, FALSE));
  for (guint i = 0; i < cgroups; i++)
    {
      char *name = g_strdup_printf ("storm/%u", i);

      g_ptr_array_add (canonical, ow_test_env_make_cgroup (bench->env, name, "4M", FALSE));
      g_ptr_array_add (names, name);
    }
  bench_watch_all (bench, canonical, 0, cgroups);
  g_ptr_array_set_size (bench->env->signals, 0);

  start = g_get_monotonic_time ();
  start_real = g_get_real_time ();
  for (guint i = 0; i < cgroups; i++)
    g_ptr_array_add (hogs, ow_test_env_hog (bench->env, g_ptr_array_index (names, i), 32));
  for (guint i = 0; i < cgroups; i++)
    ow_test_env_wait_process (g_ptr_array_index (hogs, i));
  /* Wait until the kills signalled equal the kernel's counters, or 30 s. */
  for (guint i = 0; i < cgroups; i++)
    kernel += ow_test_env_oom_control (bench->env, g_ptr_array_index (names, i), "oom_kill");
  for (gint64 deadline = start + 30 * G_USEC_PER_SEC; g_get_monotonic_time () < deadline;)
    {
      signalled = storm_sum (bench->env, "oom-kill");
      if (signalled == kernel)
        break;
      ow_test_env_iterate (20);
    }
  ooms = storm_sum (bench->env, "oom");
  for (guint i = 0; i < bench->env->signals->len; i++)
    {
      OwTestSignal *signal = g_ptr_array_index (bench->env->signals, i);
      guint64 at = 0;

      if (strstr (signal->cgroup, "/storm/") != NULL && signal->details != NULL)
        g_variant_lookup (signal->details, "timestamp", "t", &at);
      last = MAX (last, (gint64)at);
    }
  g_print ("storm: %u cgroups, %" G_GUINT64_FORMAT " kills by the kernel, %" G_GUINT64_FORMAT
           " signalled (%s), %" G_GUINT64_FORMAT " oom notifications, last signal %.2f s after "
           "the first hog started\n",
           cgroups, kernel, signalled, signalled == kernel ? "exact" : "MISMATCH", ooms,
           (last - start_real) / 1e6);
  g_string_append_printf (json,
                          ",\"storm\":{\"cgroups\":%u,\"kernel_kills\":%" G_GUINT64_FORMAT
                          ",\"signalled_kills\":%" G_GUINT64_FORMAT ",\"exact\":%s,"
                          "\"oom_notifications\":%" G_GUINT64_FORMAT ",\"last_signal_s\":%.3f}",
                          cgroups, kernel, signalled, signalled == kernel ? "true" : "false", ooms,
                          (last - start_real) / 1e6);
}

/* Start-up with N persistent watches: a replacement daemon reads them from its config and
 * registers all of them before it owns the name. */
double
bench_startup (Bench *bench, GString *json)
{
  g_autoptr (GString) config = g_string_new ("[Watches]\nWatch=");
  g_autofree char *config_arg = NULL, *old_owner = NULL;
  g_autoptr (GSubprocess) replacement = NULL;
  gint64 start, took;
  guint64 old_cpu;

  for (guint i = 0; i < bench->other_cgroups->len; i++)
    g_string_append_printf (config, "%s;", (char *)g_ptr_array_index (bench->other_cgroups, i));
  g_string_append_c (config, '\n');
  g_assert_true (g_file_set_contents (bench->env->config_path, config->str, -1, NULL));
  config_arg = g_strdup_printf ("--config=%s", bench->env->config_path);
  old_owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (bench->env->manager));
  old_cpu = bench_cpu_ns (bench->env->daemon_pid);
  {
    /* BENCH_STARTUP_WRAPPER: a command the replacement runs under (a profiler) */
    g_auto (GStrv) wrapper = g_strsplit (g_getenv ("BENCH_STARTUP_WRAPPER") ?: "", " ", -1);
    g_autoptr (GPtrArray) argv = g_ptr_array_new ();
    g_autoptr (GSubprocessLauncher) launcher
        = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE);
    g_autoptr (GError) error = NULL;

    /* the runtime directory of the daemon it replaces (a tmpfs under bench/run) */
    for (guint i = 0; wrapper[i] != NULL; i++)
      if (wrapper[i][0] != '\0')
        g_ptr_array_add (argv, wrapper[i]);
    g_ptr_array_add (argv, (gpointer)g_getenv ("OOMWATCHD"));
    g_ptr_array_add (argv, "--replace");
    g_ptr_array_add (argv, config_arg);
    g_ptr_array_add (argv, NULL);
    ow_test_continuity_setup_launcher (bench->env, launcher);
    start = g_get_monotonic_time ();
    replacement = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, &error);
    g_assert_no_error (error);
  }
  for (;;)
    {
      g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (bench->env->manager));

      if (owner != NULL && g_strcmp0 (owner, old_owner) != 0)
        break;
      ow_test_env_iterate (2);
    }
  took = g_get_monotonic_time () - start;
  bench->last_startup_cpu = bench_cpu_ns (g_subprocess_get_identifier (replacement)) / 1e9;
  bench->last_startup_old_cpu = (bench_cpu_ns (bench->env->daemon_pid) - old_cpu) / 1e9;
  ow_test_env_wait_process (bench->env->daemon);
  g_object_unref (bench->env->daemon);
  bench->env->daemon = g_object_ref (replacement);
  g_free (bench->env->daemon_pid);
  bench->env->daemon_pid = g_strdup (g_subprocess_get_identifier (replacement));
  g_print ("start-up with %u persistent watches: %.2f s\n", bench->other_cgroups->len, took / 1e6);
  g_string_append_printf (json, ",\"startup\":{\"persistent_watches\":%u,\"seconds\":%.3f}",
                          bench->other_cgroups->len, took / 1e6);
  return took / 1e6;
}
