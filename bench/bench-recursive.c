/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Recursive scale: Watch(root, {recursive}) of a tree of about 10,000 cgroups, then how soon a
 * cgroup made in that tree is armed. "Armed" as a client sees it: an OOM in the new cgroup is
 * signalled. Right after mkdir the benchmark makes the cgroup OOM as fast as it can (a child
 * waiting on a pipe moves in and touches memory over a 2 MiB limit, with oom_kill_disable 1 so
 * that the OOM lasts: a registration made while the cgroup is under OOM is signalled at once).
 * The time from mkdir to the "oom" signal is then compared with the same OOM in a cgroup that
 * was armed long before: the difference is what arming costs a client.
 * ListWatches() is not the probe: with 10,000 entries one call takes longer than arming. */
#include "bench.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define TOUCH_MIB 64

/* A child that waits for a byte on a pipe, then touches memory until the OOM pauses it. */
static pid_t
spawn_toucher (int *go)
{
  int pipe_fds[2];
  pid_t pid;

  g_assert_cmpint (pipe2 (pipe_fds, O_CLOEXEC), ==, 0);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      char byte;
      char *memory;

      /* Only async-signal-safe calls here: the parent has threads. */
      close (pipe_fds[1]);
      if (read (pipe_fds[0], &byte, 1) != 1)
        _exit (1);
      memory = mmap (NULL, (size_t)TOUCH_MIB << 20, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (memory == MAP_FAILED)
        _exit (1);
      for (size_t i = 0; i < (size_t)TOUCH_MIB << 20; i += 4096)
        memory[i] = 1;
      _exit (0);
    }
  close (pipe_fds[0]);
  *go = pipe_fds[1];
  return pid;
}

static void
write_file (const char *dir, const char *file, const char *value)
{
  ow_test_env_write (dir, file, value);
}

/* Microseconds from START until the "oom" of CANONICAL arrives; the OOM is caused in DIR
 * (made first when MAKE). */
static double
oom_after (Bench *bench, const char *dir, const char *canonical, gboolean make)
{
  g_autofree char *pid_text = NULL;
  gint64 start, deadline, at = 0;
  int go, status;
  pid_t child = spawn_toucher (&go);

  pid_text = g_strdup_printf ("%d", (int)child);
  g_mutex_lock (&bench->lock);
  g_free (bench->probe);
  bench->probe = g_strdup (canonical);
  bench->probe_at = 0;
  g_mutex_unlock (&bench->lock);

  start = g_get_monotonic_time ();
  if (make)
    g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  write_file (dir, "memory.limit_in_bytes", "2M");
  write_file (dir, "memory.oom_control", "1");
  write_file (dir, "cgroup.procs", pid_text);
  g_assert_cmpint (write (go, "g", 1), ==, 1);
  close (go);

  for (deadline = start + 10 * G_USEC_PER_SEC; at == 0 && g_get_monotonic_time () < deadline;)
    {
      ow_test_env_iterate (1);
      g_mutex_lock (&bench->lock);
      at = bench->probe_at;
      g_mutex_unlock (&bench->lock);
    }
  /* Let the OOM killer end it, then leave the cgroup as it was. */
  write_file (dir, "memory.oom_control", "0");
  kill (child, SIGKILL);
  g_assert_cmpint (waitpid (child, &status, 0), ==, child);
  write_file (dir, "memory.limit_in_bytes", "-1");
  return at == 0 ? -1 : (double)(at - start);
}

void
bench_recursive (Bench *bench, guint tree, guint samples, GString *json)
{
  guint groups = 100, leaves = MAX (tree / groups, 1);
  g_autoptr (GArray) fresh = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) armed = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GError) error = NULL;
  g_autofree char *root = ow_test_env_make_cgroup (bench->env, "rtree", NULL, FALSE);
  g_autofree char *root_dir = ow_test_env_cgroup_path (bench->env, "rtree");
  g_autofree char *old = g_strdup_printf ("%s/g0/c1", root);
  g_autofree char *old_dir = g_strdup_printf ("%s/g0/c1", root_dir);
  g_autofree char *canonical = NULL;
  gint64 start, watch_us, list_us;
  guint missed = 0;
  BenchStats f, a;

  for (guint g = 0; g < groups; g++)
    for (guint c = 0; c <= leaves; c++)
      {
        g_autofree char *dir = c == 0 ? g_strdup_printf ("%s/g%u", root_dir, g)
                                      : g_strdup_printf ("%s/g%u/c%u", root_dir, g, c);

        g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
      }
  start = g_get_monotonic_time ();
  canonical = ow_test_env_watch_recursive (bench->env, root, &error);
  watch_us = g_get_monotonic_time () - start;
  g_assert_no_error (error);
  start = g_get_monotonic_time ();
  g_assert_true (ow_test_env_watched (bench->env, old));
  list_us = g_get_monotonic_time () - start;

  for (guint s = 0; s < samples; s++)
    {
      g_autofree char *name = g_strdup_printf ("%s/g%u/new%u", root, s % groups, s);
      g_autofree char *dir = g_strdup_printf ("%s/g%u/new%u", root_dir, s % groups, s);
      double took;

      took = oom_after (bench, dir, name, TRUE);
      missed += took < 0;
      if (took >= 0)
        g_array_append_val (fresh, took);
      g_assert_cmpint (g_rmdir (dir), ==, 0);
      took = oom_after (bench, old_dir, old, FALSE);
      missed += took < 0;
      if (took >= 0)
        g_array_append_val (armed, took);
    }
  ow_test_env_iterate (100);
  g_ptr_array_set_size (bench->env->signals, 0);
  f = bench_stats (fresh);
  a = bench_stats (armed);
  g_print ("\nrecursive: Watch() of a %u-cgroup tree: %.2f s (one ListWatches() of it: %.2f s)\n",
           groups * (leaves + 1) + 1, watch_us / 1e6, list_us / 1e6);
  g_print ("recursive: mkdir, OOM at once, \"oom\" signalled: p50 %.2f ms, p99 %.2f ms in a new "
           "cgroup; %.2f / %.2f ms in a cgroup armed long before (%u each, %u missed)\n",
           f.p50 / 1e3, f.p99 / 1e3, a.p50 / 1e3, a.p99 / 1e3, samples, missed);
  g_string_append_printf (json,
                          ",\"recursive\":{\"tree\":%u,\"watch_s\":%.3f,\"list_watches_s\":%.3f,"
                          "\"samples\":%u,\"missed\":%u,"
                          "\"new_cgroup_oom_signalled_ms\":{\"p50\":%.3f,\"p99\":%.3f},"
                          "\"armed_cgroup_oom_signalled_ms\":{\"p50\":%.3f,\"p99\":%.3f}}",
                          groups * (leaves + 1) + 1, watch_us / 1e6, list_us / 1e6, samples, missed,
                          f.p50 / 1e3, f.p99 / 1e3, a.p50 / 1e3, a.p99 / 1e3);
}
