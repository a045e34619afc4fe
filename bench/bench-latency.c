/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Latency against the raw kernel wake-up. (a) a thread blocked on its own eventfd (the floor),
 * (b) the bare relay, (c) oomwatchd. Arrivals are stamped in this process's bus worker thread
 * as each message is read, not when a main loop gets round to it.
 *
 * The kernel wakes the registrations of a cgroup newest first, and on 2 cores the one woken
 * first gets the free core first. So before each OOM the raw reader registers again (it is
 * woken first: it is the reference), and the daemon and the relay take turns at being second:
 * even rounds the daemon registers anew (Unwatch + Watch), odd rounds the relay (SIGUSR1).
 * In the rows "alone" (bench->alone) each OOM wakes only one of the two, in turn: the relay
 * then registers for a cgroup of its own ("alone", which the daemon does not watch), and the
 * OOMs go to the daemon's cgroup and to the relay's in turn. Then neither waits for the other's
 * work on the free core, as on a user's machine, and neither re-registers between rounds. */
#include "bench.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static gboolean raw_stopping;

static gpointer
raw_reader (gpointer data)
{
  Bench *bench = data;
  int efd = bench->raw_efd;
  guint64 count;

  while (read (efd, &count, sizeof count) == sizeof count)
    {
      gint64 now = g_get_monotonic_time ();

      if (g_atomic_int_get (&raw_stopping))
        break;
      g_mutex_lock (&bench->lock);
      if (bench->raw_at == 0)
        bench->raw_at = now;
      g_mutex_unlock (&bench->lock);
    }
  return NULL;
}

static void
raw_stop (Bench *bench)
{
  guint64 one = 1;

  if (bench->raw_thread == NULL)
    return;
  g_atomic_int_set (&raw_stopping, TRUE);
  g_assert_cmpint (write (bench->raw_efd, &one, sizeof one), ==, sizeof one);
  g_thread_join (bench->raw_thread);
  bench->raw_thread = NULL;
  close (bench->raw_efd); /* the kernel drops the registration */
  g_atomic_int_set (&raw_stopping, FALSE);
}

/* A new registration: the kernel wakes it before every earlier one. */
static void
raw_register (Bench *bench, const char *cgroup_dir)
{
  g_autofree char *control = g_build_filename (cgroup_dir, "memory.oom_control", NULL);
  g_autofree char *event = g_build_filename (cgroup_dir, "cgroup.event_control", NULL);
  g_autofree char *line = NULL;
  int cfd = open (control, O_RDONLY | O_CLOEXEC);
  int ecfd = open (event, O_WRONLY | O_CLOEXEC);

  raw_stop (bench);
  bench->raw_efd = eventfd (0, EFD_CLOEXEC);
  line = g_strdup_printf ("%d %d", bench->raw_efd, cfd);
  g_assert_cmpint (write (ecfd, line, strlen (line)), ==, (gssize)strlen (line));
  close (ecfd);
  close (cfd);
  bench->raw_thread = g_thread_new ("raw-reader", raw_reader, bench);
}

static void
stamp (Bench *bench, gint64 *at, gint64 now)
{
  g_mutex_lock (&bench->lock);
  if (*at == 0)
    *at = now;
  g_mutex_unlock (&bench->lock);
}

/* In the bus worker thread: every message this connection receives. */
static GDBusMessage *
on_message (GDBusConnection *connection, GDBusMessage *message, gboolean incoming,
            gpointer user_data)
{
  Bench *bench = user_data;
  gint64 now = g_get_monotonic_time ();
  const char *member = g_dbus_message_get_member (message);
  GVariant *body = g_dbus_message_get_body (message);

  if (!incoming || g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_SIGNAL)
    return message;
  if (g_strcmp0 (member, "Oom") == 0)
    stamp (bench, &bench->relay_at, now);
  else if (g_strcmp0 (member, "OomEvent") == 0 && body != NULL
           && g_variant_is_of_type (body, G_VARIANT_TYPE ("(ssta{sv})")))
    {
      const char *cgroup, *kind;

      g_variant_get_child (body, 0, "&s", &cgroup);
      g_variant_get_child (body, 1, "&s", &kind);
      if (strcmp (kind, "oom") != 0)
        return message;
      if (bench->target != NULL && strcmp (cgroup, bench->target) == 0)
        stamp (bench, &bench->daemon_at, now);
      g_mutex_lock (&bench->lock);
      if (bench->probe != NULL && strcmp (cgroup, bench->probe) == 0 && bench->probe_at == 0)
        bench->probe_at = now;
      g_mutex_unlock (&bench->lock);
    }
  return message;
}

static void
on_relay_signal (GDBusConnection *connection, const char *sender, const char *path,
                 const char *iface, const char *signal, GVariant *parameters, gpointer user_data)
{
  /* Stamped by the filter; the subscription is what makes the bus route it here. */
}

static void
relay_wait_ready (Bench *bench)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line (bench->relay_out, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (line, ==, "ready");
}

/* LIKE_DAEMON: the relay that also does what oomwatchd's signal needs (bench-relay.c). On the
 * daemon's cgroup, or on a cgroup of its own in the rows "alone". */
void
bench_relay_start (Bench *bench, gboolean like_daemon)
{
  const char *relay_argv[]
      = { g_getenv ("BENCH_RELAY"), bench->alone ? bench->alone_dir : bench->target_dir,
          like_daemon ? (bench->alone ? bench->alone_target : bench->target) : NULL, NULL };

  if (bench->relay != NULL)
    {
      g_subprocess_send_signal (bench->relay, SIGTERM);
      ow_test_env_wait_process (bench->relay);
      g_clear_object (&bench->relay_out);
      g_clear_object (&bench->relay);
    }
  bench->relay_like_daemon = like_daemon;
  bench->relay = ow_test_env_spawn (bench->env, G_SUBPROCESS_FLAGS_STDOUT_PIPE, relay_argv);
  bench->relay_out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (bench->relay));
  relay_wait_ready (bench);
  raw_register (bench, bench->target_dir);
}

/* FLOOR: the relay that also reads the kernel log and signals each kill (bench-relay.c). */
void
bench_relay_floor (Bench *bench, gboolean floor)
{
  g_setenv ("BENCH_RELAY_FLOOR", floor ? "1" : "0", TRUE);
  bench->relay_floor = floor;
  bench_relay_start (bench, FALSE);
}

/* Stamps arrivals (of the target's and the probe's "oom") in the bus worker thread. */
void
bench_filter_start (Bench *bench)
{
  bench->filter_id = g_dbus_connection_add_filter (bench->env->connection, on_message, bench, NULL);
}

void
bench_latency_start (Bench *bench)
{
  bench->target = ow_test_env_make_cgroup (bench->env, "target", "8M", FALSE);
  bench->target_dir = ow_test_env_cgroup_path (bench->env, "target");
  bench->alone_target = ow_test_env_make_cgroup (bench->env, "alone", "8M", FALSE);
  bench->alone_dir = ow_test_env_cgroup_path (bench->env, "alone");
  /* Signals are sent to the connections that watch (DESIGN.md): this one does. */
  g_free (ow_test_env_watch (bench->env, NULL, bench->target));
  bench_filter_start (bench);
  g_dbus_connection_signal_subscribe (bench->env->connection, NULL, "org.oomwatch.Bench", "Oom",
                                      NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_relay_signal, NULL,
                                      NULL);
  bench_relay_start (bench, FALSE);
  if (g_getenv ("BENCH_PIDS_FILE") != NULL) /* for bench/sched-trace */
    {
      g_autofree char *pids = g_strdup_printf ("daemon %s\nrelay %s\n", bench->env->daemon_pid,
                                               g_subprocess_get_identifier (bench->relay));

      g_assert_true (g_file_set_contents (g_getenv ("BENCH_PIDS_FILE"), pids, -1, NULL));
    }
}

void
bench_latency_stop (Bench *bench)
{
  g_subprocess_send_signal (bench->relay, SIGTERM);
  ow_test_env_wait_process (bench->relay);
  g_clear_object (&bench->relay_out);
  g_clear_object (&bench->relay);
  raw_stop (bench);
}

/* Makes the daemon's registration (or the relay's) the newest but the raw reader's. */
static void
wake_order (Bench *bench, gboolean daemon_first)
{
  if (daemon_first)
    {
      g_autoptr (GError) error = NULL;

      oomwatch_manager_call_unwatch_sync (bench->env->manager, bench->target,
                                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
      g_assert_no_error (error);
      g_free (ow_test_env_watch (bench->env, NULL, bench->target));
    }
  else
    {
      g_subprocess_send_signal (bench->relay, SIGUSR1);
      relay_wait_ready (bench);
    }
  raw_register (bench, bench->target_dir);
}

/* One OOM in cgroup NAME; FALSE if a path did not report it within 5 s. With WAKE_RELAY or
 * WAKE_DAEMON FALSE that path is not waited for (rows "alone"; its figure is then not set). */
static gboolean
one_oom (Bench *bench, const char *name, gboolean wake_relay, gboolean wake_daemon,
         double *relay_us, double *daemon_us)
{
  gint64 deadline;
  gint64 raw, relay, daemon;

  g_mutex_lock (&bench->lock);
  bench->raw_at = bench->relay_at = bench->daemon_at = 0;
  g_mutex_unlock (&bench->lock);
  bench_wait_hog (bench, name, 64);
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  for (;;)
    {
      g_mutex_lock (&bench->lock);
      raw = bench->raw_at, relay = bench->relay_at, daemon = bench->daemon_at;
      g_mutex_unlock (&bench->lock);
      if ((raw != 0 && (relay != 0 || !wake_relay) && (daemon != 0 || !wake_daemon))
          || g_get_monotonic_time () > deadline)
        break;
      ow_test_env_iterate (1);
    }
  ow_test_env_iterate (30); /* let the incident's later notifications pass */
  *relay_us = (double)(relay - raw);
  *daemon_us = (double)(daemon - raw);
  return raw != 0 && (relay != 0 || !wake_relay) && (daemon != 0 || !wake_daemon);
}

gboolean
bench_one_oom (Bench *bench, double *relay_us, double *daemon_us)
{
  return one_oom (bench, "target", TRUE, TRUE, relay_us, daemon_us);
}

void
bench_latency_header (void)
{
  g_print ("%-11s %6s %4s    %-23s   %-23s   %5s %5s %5s\n", "bus", "others", "ooms",
           "bare relay p50/90/99/max", "oomwatchd p50/90/99/max", "c/b50", "c/b99", "steal%");
}

void
bench_latency_row (Bench *bench, const char *outdir, guint rounds)
{
  g_autoptr (GArray) relay = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) daemon = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) gap_relay_first = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) gap_daemon_first = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *relay_name = NULL, *daemon_name = NULL;
  gboolean broker = strcmp (bench->bus_name, "dbus-broker") == 0;
  guint missed = 0;
  BenchStats r, d, g0, g1;

  guint64 steal_start, steal_end, ticks = bench_cpu_ticks (&steal_start);
  double steal;

  for (guint i = 0; i < rounds; i++)
    {
      gboolean daemon_first = i % 2 == 0;
      double b, c, diff;

      if (bench->alone) /* the raw reader on the cgroup of this round's path */
        raw_register (bench, daemon_first ? bench->target_dir : bench->alone_dir);
      else
        wake_order (bench, daemon_first);
      if (!one_oom (bench, bench->alone && !daemon_first ? "alone" : "target",
                    !bench->alone || !daemon_first, !bench->alone || daemon_first, &b, &c))
        {
          missed++;
          continue;
        }
      if (!bench->alone || !daemon_first)
        g_array_append_val (relay, b);
      if (!bench->alone || daemon_first)
        g_array_append_val (daemon, c);
      diff = c - b;
      if (!bench->alone)
        g_array_append_val (daemon_first ? gap_daemon_first : gap_relay_first, diff);
    }
  ticks = bench_cpu_ticks (&steal_end) - ticks;
  steal = ticks > 0 ? 100.0 * (steal_end - steal_start) / ticks : 0;
  g_assert_cmpuint (relay->len, >, 0);
  g_assert_cmpuint (daemon->len, >, 0);
  r = bench_stats (relay);
  d = bench_stats (daemon);
  bench->last_relay = r;
  bench->last_daemon = d;
  bench->last_steal = steal;
  g0 = bench_stats (gap_relay_first);
  g1 = bench_stats (gap_daemon_first);
  relay_name = g_strdup_printf ("latency%s-relay%s%s-%u.dat", broker ? "-broker" : "",
                                bench->relay_like_daemon ? "-like-oomwatchd" : "",
                                bench->alone ? "-alone" : "", bench->others);
  daemon_name = g_strdup_printf ("latency%s-oomwatchd%s%s-%u.dat", broker ? "-broker" : "",
                                 bench->relay_like_daemon ? "-beside-like" : "",
                                 bench->alone ? "-alone" : "", bench->others);
  bench_save_samples (outdir, relay_name, relay);
  bench_save_samples (outdir, daemon_name, daemon);
  g_print (
      "%-11s %6u %4u %s %5.0f %5.0f %5.0f %5.0f   %5.0f %5.0f %5.0f %5.0f   %5.2f %5.2f  %4.1f\n",
      bench->bus_name, bench->others, bench->alone ? relay->len + daemon->len : relay->len,
      bench->relay_like_daemon ? (bench->alone ? "*a" : "* ") : (bench->alone ? "a " : "  "), r.p50,
      r.p90, r.p99, r.max, d.p50, d.p90, d.p99, d.max, d.p50 / r.p50, d.p99 / r.p99, steal);
  if (!bench->alone)
    g_print ("%-11s %6s %4s   median oomwatchd - relay: %+.0f us when the daemon is woken "
             "first, %+.0f us when the relay is\n",
             "", "", "", g1.p50, g0.p50);
  g_string_append_printf (
      bench->json,
      "%s{\"others\":%u,\"relay\":\"%s\",\"alone\":%s,\"ooms\":%u,\"missed\":%u,"
      "\"relay_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f},"
      "\"oomwatchd_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f},"
      "\"ratio_p50\":%.3f,\"ratio_p99\":%.3f,\"steal_percent\":%.1f,"
      "\"median_gap_us\":{\"daemon_woken_first\":%.1f,"
      "\"relay_woken_first\":%.1f}}",
      bench->json->len == 0 ? "" : ",", bench->others,
      bench->relay_like_daemon ? "like-oomwatchd" : "bare", bench->alone ? "true" : "false",
      bench->alone ? relay->len + daemon->len : relay->len, missed, r.p50, r.p90, r.p99, r.max,
      d.p50, d.p90, d.p99, d.max, d.p50 / r.p50, d.p99 / r.p99, steal, g1.p50, g0.p50);
}

/* The bus's CPU: dbus-broker-launch forks the broker itself. */
static guint64
bus_cpu_ns (Bench *bench)
{
  const char *pid = g_subprocess_get_identifier (bench->env->bus);
  g_autofree char *path = g_strdup_printf ("/proc/%s/task/%s/children", pid, pid);
  g_autofree char *children = NULL;
  g_auto (GStrv) list = NULL;
  guint64 total = bench_cpu_ns (pid);

  if (g_file_get_contents (path, &children, NULL, NULL))
    {
      list = g_strsplit (g_strstrip (children), " ", -1);
      for (gsize i = 0; list[i] != NULL; i++)
        if (list[i][0] != '\0')
          total += bench_cpu_ns (list[i]);
    }
  return total;
}

/* CPU time per OOM incident of each process, the daemon's re-reads of the incident included:
 * ROUNDS OOMs one after another, in the order of registration as it is. */
void
bench_cost (Bench *bench, guint rounds, GString *json)
{
  const char *relay_pid = g_subprocess_get_identifier (bench->relay);
  guint64 daemon0 = bench_cpu_ns (bench->env->daemon_pid), relay0 = bench_cpu_ns (relay_pid);
  guint64 bus0 = bus_cpu_ns (bench), daemon1, relay1, bus1;
  guint64 daemon_runs = bench_runs (bench->env->daemon_pid), relay_runs = bench_runs (relay_pid);
  guint done = 0;

  for (guint i = 0; i < rounds; i++)
    {
      double b, c;

      done += bench_one_oom (bench, &b, &c);
    }
  ow_test_env_iterate (1500); /* the daemon re-reads the counters for 1.2 s after each */
  daemon1 = bench_cpu_ns (bench->env->daemon_pid);
  relay1 = bench_cpu_ns (relay_pid);
  bus1 = bus_cpu_ns (bench);
  bench->cost_daemon_runs = (double)(bench_runs (bench->env->daemon_pid) - daemon_runs) / rounds;
  bench->cost_relay_runs = (double)(bench_runs (relay_pid) - relay_runs) / rounds;
  g_ptr_array_set_size (bench->env->signals, 0);
  bench->cost_daemon_us = (daemon1 - daemon0) / 1e3 / rounds;
  bench->cost_relay_us = (relay1 - relay0) / 1e3 / rounds;
  g_print ("CPU per OOM (%s, %u other watches, %u OOMs): oomwatchd %.1f us, %s relay %.1f us, "
           "%s %.1f us\n",
           bench->bus_name, bench->others, done, (daemon1 - daemon0) / 1e3 / rounds,
           bench->relay_floor ? "floor" : "bare", (relay1 - relay0) / 1e3 / rounds, bench->bus_name,
           (bus1 - bus0) / 1e3 / rounds);
  g_string_append_printf (json,
                          "%s{\"bus\":\"%s\",\"others\":%u,\"ooms\":%u,\"oomwatchd_us\":%.1f,"
                          "\"relay\":\"%s\",\"relay_us\":%.1f,\"bus_us\":%.1f}",
                          json->len == 0 ? "" : ",", bench->bus_name, bench->others, done,
                          (daemon1 - daemon0) / 1e3 / rounds, bench->relay_floor ? "floor" : "bare",
                          (relay1 - relay0) / 1e3 / rounds, (bus1 - bus0) / 1e3 / rounds);
}
