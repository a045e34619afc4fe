/* oomwatch-bench OUTDIR: latency against the raw kernel wake-up, scale, idle cost and an OOM
 * storm, measured on the real kernel with the built oomwatchd on a private bus. Prints a table
 * and writes OUTDIR/results.json plus the latency samples for plotting. */
#include "ow-test-env.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct
{
  OwTestEnv *env;
  char *target;     /* canonical cgroup the latency OOMs happen in */
  char *target_dir;
  guint others;     /* other cgroups watched so far */
  GPtrArray *other_cgroups;
  /* one latency round: monotonic µs of the first wake-up of each path; 0 = not yet */
  gint64 raw_at, relay_at, daemon_at;
  GMutex raw_lock; /* raw_at is written by the reader thread */
  int raw_efd;
  GThread *raw_thread;
  gboolean stopping;
  GString *json;
  GString *scale_json;
  GSubprocess *relay;
} Bench;

/* (a) the floor: a thread blocked on its own eventfd registration */
static gpointer
raw_reader (gpointer data)
{
  Bench *bench = data;
  guint64 count;

  while (read (bench->raw_efd, &count, sizeof count) == sizeof count)
    {
      gint64 now = g_get_monotonic_time ();

      if (g_atomic_int_get (&bench->stopping))
        break;
      g_mutex_lock (&bench->raw_lock);
      if (bench->raw_at == 0)
        bench->raw_at = now;
      g_mutex_unlock (&bench->raw_lock);
    }
  return NULL;
}

static void
register_raw (Bench *bench)
{
  g_autofree char *control = g_build_filename (bench->target_dir, "memory.oom_control", NULL);
  g_autofree char *event = g_build_filename (bench->target_dir, "cgroup.event_control", NULL);
  g_autofree char *line = NULL;
  int cfd = open (control, O_RDONLY | O_CLOEXEC);
  int ecfd = open (event, O_WRONLY | O_CLOEXEC);

  bench->raw_efd = eventfd (0, EFD_CLOEXEC);
  line = g_strdup_printf ("%d %d", bench->raw_efd, cfd);
  g_assert_cmpint (write (ecfd, line, strlen (line)), ==, (gssize) strlen (line));
  close (ecfd);
  close (cfd);
  bench->raw_thread = g_thread_new ("raw-reader", raw_reader, bench);
}

/* (b) and (c), received by this process's main loop */
static void
on_relay (GDBusConnection *connection, const char *sender, const char *path, const char *iface,
          const char *signal, GVariant *parameters, gpointer user_data)
{
  Bench *bench = user_data;

  if (bench->relay_at == 0)
    bench->relay_at = g_get_monotonic_time ();
}

static void
on_oom_event (OomwatchManager *manager, const char *cgroup, const char *kind, guint64 count,
              GVariant *details, gpointer user_data)
{
  Bench *bench = user_data;

  if (bench->daemon_at == 0 && strcmp (kind, "oom") == 0 && strcmp (cgroup, bench->target) == 0)
    bench->daemon_at = g_get_monotonic_time ();
}

static gint64
raw_at (Bench *bench)
{
  gint64 at;

  g_mutex_lock (&bench->raw_lock);
  at = bench->raw_at;
  g_mutex_unlock (&bench->raw_lock);
  return at;
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
percentile (GArray *sorted, double p)
{
  gsize i = (gsize) ceil (p / 100.0 * sorted->len) - 1;

  return g_array_index (sorted, double, MIN (i, sorted->len - 1));
}

typedef struct
{
  double p50, p90, p99, max;
} Stats;

static Stats
stats_of (GArray *samples)
{
  g_autoptr (GArray) sorted = g_array_copy (samples);
  Stats stats;

  g_array_sort (sorted, compare_doubles);
  stats.p50 = percentile (sorted, 50);
  stats.p90 = percentile (sorted, 90);
  stats.p99 = percentile (sorted, 99);
  stats.max = g_array_index (sorted, double, sorted->len - 1);
  return stats;
}

/* The empirical CDF: "microseconds fraction" per sample, sorted. */
static void
save_samples (const char *outdir, const char *name, GArray *samples)
{
  g_autofree char *path = g_build_filename (outdir, name, NULL);
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GArray) sorted = g_array_copy (samples);

  g_array_sort (sorted, compare_doubles);
  for (guint i = 0; i < sorted->len; i++)
    g_string_append_printf (text, "%.1f %.4f\n", g_array_index (sorted, double, i),
                            (i + 1) / (double) sorted->len);
  g_assert_true (g_file_set_contents (path, text->str, -1, NULL));
}

/* 200 OOMs in the target cgroup; per OOM the first wake-up of each path. */
static void
measure_latency (Bench *bench, const char *outdir, guint rounds)
{
  g_autoptr (GArray) relay = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) daemon = g_array_new (FALSE, FALSE, sizeof (double));
  guint missed = 0;
  Stats r, d;

  for (guint i = 0; i < rounds; i++)
    {
      g_autoptr (GSubprocess) hog = NULL;
      gint64 deadline;

      g_mutex_lock (&bench->raw_lock);
      bench->raw_at = 0;
      g_mutex_unlock (&bench->raw_lock);
      bench->relay_at = bench->daemon_at = 0;
      hog = ow_test_env_hog (bench->env, "target", 64);
      ow_test_env_wait_process (hog);
      deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
      while ((bench->relay_at == 0 || bench->daemon_at == 0
              || raw_at (bench) == 0)
             && g_get_monotonic_time () < deadline)
        if (!g_main_context_iteration (NULL, FALSE))
          g_usleep (100);
      ow_test_env_iterate (30); /* let the incident's later notifications pass */
      if (bench->relay_at == 0 || bench->daemon_at == 0 || raw_at (bench) == 0)
        {
          missed++;
          continue;
        }
      {
        double a = (double) raw_at (bench);
        double b = (double) bench->relay_at - a, c = (double) bench->daemon_at - a;

        g_array_append_val (relay, b);
        g_array_append_val (daemon, c);
      }
    }
  g_assert_cmpuint (relay->len, >, 0);
  r = stats_of (relay);
  d = stats_of (daemon);
  {
    g_autofree char *relay_name = g_strdup_printf ("latency-relay-%u.dat", bench->others);
    g_autofree char *daemon_name = g_strdup_printf ("latency-oomwatchd-%u.dat", bench->others);

    save_samples (outdir, relay_name, relay);
    save_samples (outdir, daemon_name, daemon);
  }
  g_print ("%-7u %5u %8.0f %8.0f %8.0f %8.0f   %8.0f %8.0f %8.0f %8.0f   %6.2f %6.2f\n",
           bench->others, relay->len, r.p50, r.p90, r.p99, r.max, d.p50, d.p90, d.p99, d.max,
           d.p50 / r.p50, d.p99 / r.p99);
  g_string_append_printf (bench->json,
                          "%s{\"others\":%u,\"ooms\":%u,\"missed\":%u,"
                          "\"relay_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f},"
                          "\"oomwatchd_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f},"
                          "\"ratio_p50\":%.3f}",
                          bench->others == 1 ? "" : ",", bench->others, relay->len, missed, r.p50,
                          r.p90, r.p99, r.max, d.p50, d.p90, d.p99, d.max, d.p50 / r.p50);
}

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
      oomwatch_manager_call_watch (pipeline->manager,
                                   g_ptr_array_index (pipeline->cgroups, pipeline->next++),
                                   g_variant_new ("a{sv}", NULL), G_DBUS_CALL_FLAGS_NONE, -1,
                                   NULL, on_watched, pipeline);
    }
}

/* Watches CGROUPS[FROM..TO); returns the calls per second. */
static double
watch_range (Bench *bench, GPtrArray *cgroups, guint from, guint to)
{
  Pipeline pipeline = { bench->env->manager, cgroups, from, to, 0, 0 };
  gint64 start = g_get_monotonic_time ();

  pipeline_fill (&pipeline);
  while (pipeline.pending > 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (pipeline.failed, ==, 0);
  return (to - from) / ((g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);
}

/* Makes and watches cgroups until COUNT others are watched; returns Watch() calls per second. */
static double
grow_others (Bench *bench, guint count)
{
  guint first = bench->others;
  double rate;

  for (guint i = bench->other_cgroups->len; i < count; i++)
    {
      g_autofree char *name = g_strdup_printf ("other/%u", i);

      g_ptr_array_add (bench->other_cgroups, ow_test_env_make_cgroup (bench->env, name, NULL, FALSE));
    }
  rate = watch_range (bench, bench->other_cgroups, first, count);
  bench->others = count;
  return rate;
}

static guint64
context_switches (OwTestEnv *env)
{
  g_autofree char *task_dir = g_strdup_printf ("/proc/%s/task", env->daemon_pid);
  g_autoptr (GDir) dir = g_dir_open (task_dir, 0, NULL);
  const char *task;
  guint64 total = 0;

  while (dir != NULL && (task = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (task_dir, task, "status", NULL);
      g_autofree char *status = NULL;
      g_auto (GStrv) lines = NULL;

      if (!g_file_get_contents (path, &status, NULL, NULL))
        continue;
      lines = g_strsplit (status, "\n", -1);
      for (gsize i = 0; lines[i] != NULL; i++)
        if (g_str_has_prefix (lines[i], "voluntary_ctxt_switches:")
            || g_str_has_prefix (lines[i], "nonvoluntary_ctxt_switches:"))
          total += g_ascii_strtoull (strchr (lines[i], ':') + 1, NULL, 10);
    }
  return total;
}

static void
scale_point (Bench *bench, guint watches)
{
  guint64 rss = ow_test_env_rss_kib (bench->env);
  guint fds = ow_test_env_count_fds (bench->env);

  g_string_append_printf (bench->scale_json, "%s{\"watches\":%u,\"rss_mib\":%.2f,\"fds\":%u}",
                          bench->scale_json->len == 0 ? "" : ",", watches, rss / 1024.0, fds);
  g_print ("scale: %u watches: RSS %.1f MiB, %u fds\n", watches, rss / 1024.0, fds);
}

/* 1,000 cgroups OOMing at once: every kill arrives, and the counts sum exactly. */
static void
storm (Bench *bench, guint cgroups)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) canonical = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) hogs = g_ptr_array_new_with_free_func (g_object_unref);
  guint64 signalled = 0, kernel = 0, ooms = 0;
  gint64 start, start_real, last = 0;

  for (guint i = 0; i < cgroups; i++)
    {
      char *name = g_strdup_printf ("storm/%u", i);

      g_ptr_array_add (canonical, ow_test_env_make_cgroup (bench->env, name, "4M", FALSE));
      g_ptr_array_add (names, name);
    }
  watch_range (bench, canonical, 0, cgroups);
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
      signalled = 0;
      for (guint i = 0; i < bench->env->signals->len; i++)
        {
          OwTestSignal *signal = g_ptr_array_index (bench->env->signals, i);

          if (strcmp (signal->kind, "oom-kill") == 0 && strstr (signal->cgroup, "/storm/") != NULL)
            signalled += signal->count;
        }
      if (signalled == kernel)
        break;
      ow_test_env_iterate (20);
    }
  for (guint i = 0; i < bench->env->signals->len; i++)
    {
      OwTestSignal *signal = g_ptr_array_index (bench->env->signals, i);
      guint64 at = 0;

      if (strstr (signal->cgroup, "/storm/") == NULL)
        continue;
      if (strcmp (signal->kind, "oom") == 0)
        ooms += signal->count;
      g_variant_lookup (signal->details, "timestamp", "t", &at);
      last = MAX (last, (gint64) at);
    }
  g_print ("storm: %u cgroups, %" G_GUINT64_FORMAT " kills by the kernel, %" G_GUINT64_FORMAT
           " signalled (%s), %" G_GUINT64_FORMAT " oom notifications, last signal %.2f s after "
           "the first hog started\n",
           cgroups, kernel, signalled, signalled == kernel ? "exact" : "MISMATCH", ooms,
           (last - start_real) / 1e6);
  g_string_append_printf (bench->json,
                          ",\"storm\":{\"cgroups\":%u,\"kernel_kills\":%" G_GUINT64_FORMAT
                          ",\"signalled_kills\":%" G_GUINT64_FORMAT ",\"exact\":%s,"
                          "\"oom_notifications\":%" G_GUINT64_FORMAT ",\"last_signal_s\":%.3f}",
                          cgroups, kernel, signalled, signalled == kernel ? "true" : "false", ooms,
                          (last - start_real) / 1e6);
}

/* Start-up with N persistent watches: a replacement daemon reads them from its config and
 * registers all of them before it owns the name. */
static void
startup_time (Bench *bench)
{
  g_autoptr (GString) config = g_string_new ("[Watches]\nWatch=");
  g_autofree char *config_arg = NULL, *old_owner = NULL;
  g_autoptr (GSubprocess) replacement = NULL;
  gint64 start, took;

  for (guint i = 0; i < bench->other_cgroups->len; i++)
    g_string_append_printf (config, "%s;", (char *) g_ptr_array_index (bench->other_cgroups, i));
  g_string_append_c (config, '\n');
  g_assert_true (g_file_set_contents (bench->env->config_path, config->str, -1, NULL));
  config_arg = g_strdup_printf ("--config=%s", bench->env->config_path);
  old_owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (bench->env->manager));
  {
    const char *argv[] = { g_getenv ("OOMWATCHD"), "--replace", config_arg, NULL };

    start = g_get_monotonic_time ();
    replacement = ow_test_env_spawn (bench->env, G_SUBPROCESS_FLAGS_STDERR_SILENCE, argv);
  }
  for (;;)
    {
      g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (bench->env->manager));

      if (owner != NULL && g_strcmp0 (owner, old_owner) != 0)
        break;
      ow_test_env_iterate (2);
    }
  took = g_get_monotonic_time () - start;
  ow_test_env_wait_process (bench->env->daemon);
  g_object_unref (bench->env->daemon);
  bench->env->daemon = g_object_ref (replacement);
  g_free (bench->env->daemon_pid);
  bench->env->daemon_pid = g_strdup (g_subprocess_get_identifier (replacement));
  g_print ("start-up with %u persistent watches: %.2f s\n", bench->other_cgroups->len,
           took / 1e6);
  g_string_append_printf (bench->json, ",\"startup\":{\"persistent_watches\":%u,\"seconds\":%.3f}",
                          bench->other_cgroups->len, took / 1e6);
}

int
main (int argc, char **argv)
{
  const guint levels[] = { 1, 100, 1000, 10000 };
  guint rounds = (guint) g_ascii_strtoull (g_getenv ("BENCH_ROUNDS") ?: "200", NULL, 10);
  guint idle_seconds = (guint) g_ascii_strtoull (g_getenv ("BENCH_IDLE_SECONDS") ?: "60", NULL, 10);
  guint storm_size = (guint) g_ascii_strtoull (g_getenv ("BENCH_STORM") ?: "1000", NULL, 10);
  g_autofree char *json_path = NULL;
  Bench bench = { 0 };
  double rate = 0;
  guint64 before, after;
  int skip = ow_test_env_check ();

  if (skip != 0 || argc != 2)
    return skip != 0 ? skip : 2;
  g_mkdir_with_parents (argv[1], 0755);
  bench.json = g_string_new ("{");
  bench.other_cgroups = g_ptr_array_new_with_free_func (g_free);
  bench.env = ow_test_env_new (NULL);

  bench.scale_json = g_string_new (NULL);
  scale_point (&bench, 0);

  bench.target = ow_test_env_make_cgroup (bench.env, "target", "8M", FALSE);
  bench.target_dir = ow_test_env_cgroup_path (bench.env, "target");
  g_free (ow_test_env_make_cgroup (bench.env, "other", NULL, FALSE));
  g_free (ow_test_env_watch (bench.env, NULL, bench.target));
  register_raw (&bench);
  g_signal_connect (bench.env->manager, "oom-event", G_CALLBACK (on_oom_event), &bench);
  g_dbus_connection_signal_subscribe (bench.env->connection, NULL, "org.oomwatch.Bench", "Oom",
                                      NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_relay, &bench,
                                      NULL);
  {
    const char *relay_argv[] = { g_getenv ("BENCH_RELAY"), bench.target_dir, NULL };
    g_autoptr (GDataInputStream) out = NULL;
    g_autofree char *ready = NULL;

    bench.relay = ow_test_env_spawn (bench.env, G_SUBPROCESS_FLAGS_STDOUT_PIPE, relay_argv);
    out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (bench.relay));
    ready = g_data_input_stream_read_line (out, NULL, NULL, NULL);
    g_assert_cmpstr (ready, ==, "ready");
  }

  g_print ("\n== latency after the raw eventfd wake-up, µs (%u OOMs per row)\n", rounds);
  g_print ("%-7s %5s %8s %8s %8s %8s   %8s %8s %8s %8s   %6s %6s\n", "others", "ooms",
           "relay50", "relay90", "relay99", "relaymax", "oomw50", "oomw90", "oomw99", "oomwmax",
           "c/b p50", "c/b p99");
  g_string_append (bench.json, "\"latency\":[");
  for (gsize l = 0; l < G_N_ELEMENTS (levels); l++)
    {
      double level_rate = grow_others (&bench, levels[l]);

      scale_point (&bench, levels[l] + 1);
      if (levels[l] == 10000)
        rate = level_rate;
      measure_latency (&bench, argv[1], rounds);
    }
  g_string_append (bench.json, "],");
  g_print ("Watch() calls per second (pipelined, 1,000 → 10,000 watches): %.0f\n", rate);
  g_string_append_printf (bench.json, "\"scale\":[%s],\"watch_calls_per_second\":%.0f",
                          bench.scale_json->str, rate);
  /* Idle: nothing happens for a minute; the daemon must not wake. */
  ow_test_env_iterate (2000);
  before = context_switches (bench.env);
  g_usleep ((gulong) idle_seconds * G_USEC_PER_SEC);
  after = context_switches (bench.env);
  g_print ("idle: %" G_GUINT64_FORMAT " context switches in %u s with %u watches\n",
           after - before, idle_seconds, bench.others + 1);
  g_string_append_printf (bench.json,
                          ",\"idle\":{\"seconds\":%u,\"watches\":%u,\"context_switches\":%" G_GUINT64_FORMAT "}",
                          idle_seconds, bench.others + 1, after - before);

  g_free (ow_test_env_make_cgroup (bench.env, "storm", NULL, FALSE));
  storm (&bench, storm_size);
  startup_time (&bench);
  g_string_append (bench.json, "}\n");

  json_path = g_build_filename (argv[1], "results.json", NULL);
  g_assert_true (g_file_set_contents (json_path, bench.json->str, -1, NULL));
  g_print ("\nresults: %s\n", json_path);

  g_subprocess_force_exit (bench.relay);
  ow_test_env_wait_process (bench.relay);
  g_clear_object (&bench.relay);
  g_atomic_int_set (&bench.stopping, TRUE);
  {
    guint64 one = 1;

    g_assert_cmpint (write (bench.raw_efd, &one, sizeof one), ==, sizeof one);
  }
  g_thread_join (bench.raw_thread);
  close (bench.raw_efd);
  g_unlink (bench.env->daemon_log); /* the harness would print it all */
  ow_test_env_free (bench.env);
  g_string_free (bench.json, TRUE);
  g_string_free (bench.scale_json, TRUE);
  g_ptr_array_unref (bench.other_cgroups);
  g_free (bench.target);
  g_free (bench.target_dir);
  return 0;
}
