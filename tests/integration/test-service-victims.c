/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Integration tests on cgroup v1: victims named from the kernel log, recursive watches, kills
 * reported on watched ancestors. */
#include "ow-test-conditions.h"
#include "ow-test-cgroups.h"
#include "oomwatch-error.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define EVENT_TIMEOUT_MS 10000

static OwTestSignal *
signal_at (OwTestEnv *env, guint i)
{
  return g_ptr_array_index (env->signals, i);
}

/* The oom-kill signal names the victim: the hog's pid, name and uid, and its cgroups; unless
 * the kernel's rate limit kept the record that names it out of the log: then it names no one
 * (names are never invented), and the count is still there. */
static void
assert_names_victim (OwTestSignal *kill, guint32 hog_pid, const char *task_cgroup,
                     const char *oom_cgroup)
{
  guint32 pid = 0, uid = 1;
  const char *comm = NULL, *task = NULL, *oom = NULL;

  g_assert_nonnull (kill);
  g_assert_cmpuint (kill->count, ==, 1);
  if (!ow_test_kernel_logged_victim (hog_pid))
    {
      g_test_message ("the kernel log does not name pid %u (rate-limited)", hog_pid);
      g_assert_false (g_variant_lookup (kill->details, "pid", "u", NULL));
      return;
    }
  g_assert_true (g_variant_lookup (kill->details, "pid", "u", &pid));
  g_assert_cmpuint (pid, ==, hog_pid);
  g_assert_true (g_variant_lookup (kill->details, "comm", "&s", &comm));
  g_assert_cmpstr (comm, ==, "oom-hog");
  g_assert_true (g_variant_lookup (kill->details, "uid", "u", &uid));
  g_assert_cmpuint (uid, ==, 0);
  g_assert_true (g_variant_lookup (kill->details, "task-cgroup", "&s", &task));
  g_assert_cmpstr (task, ==, task_cgroup);
  g_assert_true (g_variant_lookup (kill->details, "oom-cgroup", "&s", &oom));
  g_assert_cmpstr (oom, ==, oom_cgroup);
}

static void
test_victim (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "victim", "32M", FALSE);
  g_free (ow_test_env_watch (env, NULL, cgroup));
  g_autoptr (GSubprocess) hog = ow_test_env_hog (env, "victim", 256);
  guint32 hog_pid = ow_test_env_pid (hog);

  ow_test_assert_hog_killed (hog);
  g_assert_true (ow_test_env_wait_signal (env, cgroup, "oom-kill", EVENT_TIMEOUT_MS));
  ow_test_env_settle (env, cgroup);
  g_assert_cmpuint (ow_test_env_sum (env, cgroup, "oom-kill"), ==, 1);
  assert_names_victim (ow_test_env_find_signal (env, cgroup, "oom-kill"), hog_pid, cgroup, cgroup);
  ow_test_env_free (env);
}

/* A recursive watch follows a child and a grandchild created after it began, reports the
 * grandchild's OOM there with the victim's name, and the kill on every watched ancestor. */
static void
test_recursive (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *parent = ow_test_env_make_cgroup (env, "rec", NULL, FALSE);
  g_autofree char *child = NULL, *grandchild = NULL;
  g_autoptr (GSubprocess) hog = NULL;
  g_autoptr (GVariant) watch = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *canonical = NULL;
  gboolean recursive = FALSE;
  guint32 hog_pid;

  canonical = ow_test_env_watch_recursive (env, parent, &error);
  g_assert_no_error (error);

  child = ow_test_env_make_cgroup (env, "rec/child", NULL, FALSE);
  g_assert_true (ow_test_env_wait_watched (env, child, TRUE));
  grandchild = ow_test_env_make_cgroup (env, "rec/child/grand", "32M", FALSE);
  g_assert_true (ow_test_env_wait_watched (env, grandchild, TRUE));
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 3);
  watch = ow_test_env_find_watch (env, parent);
  g_assert_true (g_variant_lookup (watch, "recursive", "b", &recursive));
  g_assert_true (recursive);
  g_clear_pointer (&watch, g_variant_unref);
  watch = ow_test_env_find_watch (env, grandchild);
  g_assert_true (g_variant_lookup (watch, "recursive", "b", &recursive));
  g_assert_false (recursive);

  hog = ow_test_env_hog (env, "rec/child/grand", 256);
  hog_pid = ow_test_env_pid (hog);
  ow_test_assert_hog_killed (hog);
  g_assert_true (ow_test_env_wait_signal (env, grandchild, "oom-kill", EVENT_TIMEOUT_MS));
  ow_test_env_settle (env, grandchild);
  ow_test_env_settle (env, child);
  ow_test_env_settle (env, parent);
  assert_names_victim (ow_test_env_find_signal (env, grandchild, "oom-kill"), hog_pid, grandchild,
                       grandchild);
  assert_names_victim (ow_test_env_find_signal (env, child, "oom-kill"), hog_pid, grandchild,
                       grandchild);
  assert_names_victim (ow_test_env_find_signal (env, parent, "oom-kill"), hog_pid, grandchild,
                       grandchild);
  g_assert_cmpuint (ow_test_env_sum (env, grandchild, "oom-kill"), ==, 1);
  g_assert_cmpuint (ow_test_env_sum (env, child, "oom-kill"), ==, 1);
  g_assert_cmpuint (ow_test_env_sum (env, parent, "oom-kill"), ==, 1);
  /* The limit was the grandchild's: on v1 its ancestors were not told; v2 counts the
   * grandchild's "oom" on every ancestor too. */
  if (ow_test_cgroups_version () == 1)
    g_assert_cmpuint (ow_test_env_n_signals (env, parent, "oom"), ==, 0);
  else
    g_assert_cmpuint (ow_test_env_sum (env, parent, "oom"), ==,
                      ow_test_env_oom_control (env, "rec", "oom"));

  oomwatch_manager_call_unwatch_sync (env->manager, parent, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                      &error);
  g_assert_no_error (error);
  g_assert_null (ow_test_env_find_watch (env, child));
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 0);
  ow_test_env_free (env);
}

/* The parent of a plain watch is told of removals only: its other children come and go
 * without waking the daemon. A recursive watch of that parent adds creations to the same
 * inotify watch, and a child made then is followed. */
static void
test_sibling_events (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *parent = ow_test_env_make_cgroup (env, "sib", NULL, FALSE);
  g_autofree char *first = ow_test_env_make_cgroup (env, "sib/first", NULL, FALSE);
  g_autofree char *parent_dir = ow_test_env_cgroup_path (env, "sib");
  g_autofree char *second = NULL, *canonical = NULL;
  g_autoptr (GError) error = NULL;
  guint32 mask;

  g_free (ow_test_env_watch (env, NULL, first));
  mask = ow_test_env_inotify_mask (env, parent_dir);
  g_assert_cmphex (mask & IN_DELETE, ==, IN_DELETE);
  g_assert_cmphex (mask & IN_CREATE, ==, 0);

  canonical = ow_test_env_watch_recursive (env, parent, &error);
  g_assert_no_error (error);
  mask = ow_test_env_inotify_mask (env, parent_dir);
  g_assert_cmphex (mask & (IN_DELETE | IN_CREATE), ==, IN_DELETE | IN_CREATE);
  second = ow_test_env_make_cgroup (env, "sib/second", NULL, FALSE);
  g_assert_true (ow_test_env_wait_watched (env, second, TRUE));
  ow_test_env_free (env);
}

/* The watched parent's limit is hit by a task in its child: "oom" on the parent, and an
 * "oom-kill" there naming the victim in the child. */
static void
test_parent_limit (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *parent = ow_test_env_make_cgroup (env, "lim", "32M", FALSE);
  g_autofree char *child = ow_test_env_make_cgroup (env, "lim/kid", NULL, FALSE);
  g_free (ow_test_env_watch (env, NULL, parent));
  g_autoptr (GSubprocess) hog = ow_test_env_hog (env, "lim/kid", 256);
  guint32 hog_pid = ow_test_env_pid (hog);

  ow_test_assert_hog_killed (hog);
  /* The kill counts in the unwatched child: only the kernel log tells the parent of it. */
  if (!ow_test_kernel_logged_victim (hog_pid))
    {
      g_test_message ("the kernel log does not name pid %u (rate-limited)", hog_pid);
      g_assert_true (ow_test_env_wait_signal (env, parent, "oom", EVENT_TIMEOUT_MS));
      ow_test_env_settle (env, parent);
      g_assert_cmpuint (ow_test_env_n_signals (env, parent, "oom-kill"), ==, 0);
      ow_test_env_free (env);
      return;
    }
  g_assert_true (ow_test_env_wait_signal (env, parent, "oom-kill", EVENT_TIMEOUT_MS));
  ow_test_env_settle (env, parent);
  g_assert_cmpstr (signal_at (env, 0)->kind, ==, "oom");
  g_assert_cmpuint (ow_test_env_sum (env, parent, "oom-kill"), ==, 1);
  assert_names_victim (ow_test_env_find_signal (env, parent, "oom-kill"), hog_pid, child, parent);
  ow_test_env_free (env);
}

/* Without the kernel log, kills are still counted, without names. */
static void
test_no_kernel_log (void)
{
  const char *const args[] = { "--no-kernel-log", NULL };
  OwTestEnv *env = ow_test_env_new (args);
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "nolog", "32M", FALSE);
  g_free (ow_test_env_watch (env, NULL, cgroup));
  g_autoptr (GSubprocess) hog = ow_test_env_hog (env, "nolog", 256);
  OwTestSignal *kill;
  guint64 total = 0;

  g_assert_false (oomwatch_manager_get_kernel_log (env->manager));
  ow_test_assert_hog_killed (hog);
  g_assert_true (ow_test_env_wait_signal (env, cgroup, "oom-kill", EVENT_TIMEOUT_MS));
  ow_test_env_settle (env, cgroup);
  g_assert_cmpuint (ow_test_env_n_signals (env, cgroup, "oom-kill"), ==, 1);
  kill = ow_test_env_find_signal (env, cgroup, "oom-kill");
  g_assert_cmpuint (kill->count, ==, 1);
  g_assert_true (g_variant_lookup (kill->details, "total", "t", &total));
  g_assert_cmpuint (total, ==, 1);
  g_assert_false (g_variant_lookup (kill->details, "pid", "u", NULL));
  ow_test_env_free (env);
}

/* On v1 a watched ancestor gets a watched descendant's kills from its exact counter, kernel log
 * or not: exactly one oom-kill on every level, without names. */
static void
test_recursive_no_kernel_log (void)
{
  const char *const args[] = { "--no-kernel-log", NULL };
  OwTestEnv *env = ow_test_env_new (args);
  g_autofree char *top = ow_test_env_make_cgroup (env, "quiet", NULL, FALSE);
  g_autofree char *mid = ow_test_env_make_cgroup (env, "quiet/mid", NULL, FALSE);
  g_autofree char *leaf = ow_test_env_make_cgroup (env, "quiet/mid/leaf", "32M", FALSE);
  g_autoptr (GSubprocess) hog = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *canonical = NULL;
  const char *levels[] = { leaf, mid, top };

  canonical = ow_test_env_watch_recursive (env, top, &error);
  g_assert_no_error (error);
  hog = ow_test_env_hog (env, "quiet/mid/leaf", 256);
  ow_test_assert_hog_killed (hog);
  g_assert_true (ow_test_env_wait_signal (env, top, "oom-kill", EVENT_TIMEOUT_MS));
  for (gsize i = 0; i < G_N_ELEMENTS (levels); i++)
    ow_test_env_settle (env, levels[i]);
  for (gsize i = 0; i < G_N_ELEMENTS (levels); i++)
    {
      OwTestSignal *kill = ow_test_env_find_signal (env, levels[i], "oom-kill");

      g_autoptr (GVariant) listed = ow_test_env_find_watch (env, levels[i]);
      guint64 counted = 0;

      g_assert_cmpuint (ow_test_env_sum (env, levels[i], "oom-kill"), ==, 1);
      /* ListWatches counts what each level was sent (on v1 the ancestors' from the leaf's). */
      g_assert_true (g_variant_lookup (listed, "oom-kill", "t", &counted));
      g_assert_cmpuint (counted, ==, 1);
      g_assert_false (g_variant_lookup (kill->details, "pid", "u", NULL));
      /* A total only where the kernel keeps that counter: on v1 the victim's own cgroup,
       * on v2 every level (memory.events is hierarchical). */
      g_assert_true (g_variant_lookup (kill->details, "total", "t", NULL)
                     == (i == 0 || ow_test_cgroups_version () == 2));
    }
  ow_test_env_free (env);
}

/* The keys of the victim's memory (identity) and of its cgroup's (for every watcher). */
static const char *const victim_memory_keys[]
    = { "total-vm", "anon-rss", "file-rss", "shmem-rss", "pgtables", "oom-score-adj", NULL };

/* oomctl watch CGROUP --json as nobody; returns once it watches. */
static GSubprocess *
watch_as_nobody (OwTestEnv *env, const char *cgroup)
{
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  const char *argv[] = { g_getenv ("OOMCTL"), "watch", cgroup, "--json", "--timeout=60", NULL };
  g_autoptr (GError) error = NULL;
  GSubprocess *client;

  g_subprocess_launcher_set_child_setup (launcher, ow_test_env_drop_to_nobody, NULL, NULL);
  client = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_assert_true (ow_test_env_wait_watched (env, cgroup, TRUE));
  return client;
}

/* CGROUP ("mem") removed and made anew with another limit: its next kill carries the new
 * cgroup's limit, not the files of the removed one that the daemon kept open. */
static void
assert_memory_of_new_cgroup (OwTestEnv *env, const char *cgroup)
{
  g_autofree char *dir = ow_test_env_cgroup_path (env, "mem");
  g_autoptr (GSubprocess) hog = NULL;
  OwTestSignal *kill;
  guint64 limit = 0;

  /* rmdir fails (EBUSY) until the killed task has left the cgroup. */
  for (gint64 until = g_get_monotonic_time () + ow_test_timeout_ms (5000) * G_TIME_SPAN_MILLISECOND;
       g_rmdir (dir) < 0 && g_get_monotonic_time () < until;)
    g_usleep (200);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  g_assert_true (ow_test_env_wait_signal (env, cgroup, "removed", EVENT_TIMEOUT_MS));
  g_ptr_array_set_size (env->signals, 0);
  g_free (ow_test_env_make_cgroup (env, "mem", "16M", FALSE));
  g_free (ow_test_env_watch (env, NULL, cgroup));
  hog = ow_test_env_hog (env, "mem", 256);
  ow_test_assert_hog_killed (hog);
  g_assert_true (ow_test_env_wait_signal (env, cgroup, "oom-kill", EVENT_TIMEOUT_MS));
  kill = ow_test_env_find_signal (env, cgroup, "oom-kill");
  g_assert_true (g_variant_lookup (kill->details, "limit", "t", &limit));
  g_assert_cmpuint (limit, ==, 16 * 1024 * 1024);
}

/* A named kill carries the victim's memory from the kernel log (its anon-rss is what the hog
 * touched before the limit stopped it) and every oom-kill its cgroup's limit, exactly;
 * a watcher that is neither root nor the victim's uid gets the cgroup's memory but none of
 * the victim's. */
static void
test_memory_context (void)
{
  const guint64 limit_bytes = 32 * 1024 * 1024;
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "mem", "32M", FALSE);
  g_autoptr (GSubprocess) nobody = watch_as_nobody (env, cgroup);
  g_autoptr (GSubprocess) hog = NULL;
  g_autoptr (GDataInputStream) stream = NULL;
  g_autoptr (GError) error = NULL;
  char *line;
  OwTestSignal *kill;
  guint64 anon = 0, limit = 0;
  guint32 hog_pid;

  g_free (ow_test_env_watch (env, NULL, cgroup));
  hog = ow_test_env_hog (env, "mem", 256);
  hog_pid = ow_test_env_pid (hog);
  ow_test_assert_hog_killed (hog);
  g_assert_true (ow_test_env_wait_signal (env, cgroup, "oom-kill", EVENT_TIMEOUT_MS));
  ow_test_env_settle (env, cgroup);

  for (guint i = 0; i < env->signals->len; i++)
    {
      OwTestSignal *signal = signal_at (env, i);

      if (g_strcmp0 (signal->kind, "oom-kill") != 0)
        continue;
      g_assert_true (g_variant_lookup (signal->details, "limit", "t", &limit));
      g_assert_cmpuint (limit, ==, limit_bytes);
      g_assert_true (g_variant_lookup (signal->details, "usage", "t", NULL));
    }
  kill = ow_test_env_find_signal (env, cgroup, "oom-kill");
  assert_names_victim (kill, hog_pid, cgroup, cgroup);
  if (g_variant_lookup (kill->details, "pid", "u", NULL))
    {
      g_assert_true (g_variant_lookup (kill->details, "anon-rss", "t", &anon));
      g_test_message ("anon-rss %" G_GUINT64_FORMAT " of limit %" G_GUINT64_FORMAT, anon,
                      limit_bytes);
      /* (the kernel's per-task counters are batched: a little over the limit is seen on v2) */
      g_assert_cmpuint (anon, <=, limit_bytes / 10 * 11);
      g_assert_cmpuint (anon, >=, limit_bytes / 10 * 9);
      g_assert_true (g_variant_lookup (kill->details, "total-vm", "t", NULL));
      g_assert_true (g_variant_lookup (kill->details, "file-rss", "t", NULL));
    }

  /* Its lines up to the oom-kill (it exits at its timeout if none comes) */
  stream = g_data_input_stream_new (g_subprocess_get_stdout_pipe (nobody));
  while ((line = g_data_input_stream_read_line_utf8 (stream, NULL, NULL, &error)) != NULL
         && strstr (line, "\"kind\":\"oom-kill\"") == NULL)
    g_free (line);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_test_message ("oomctl as nobody: %s", line);
  g_assert_nonnull (strstr (line, "\"limit\":33554432"));
  g_assert_null (strstr (line, "\"pid\""));
  for (gsize k = 0; victim_memory_keys[k] != NULL; k++)
    {
      g_autofree char *quoted = g_strdup_printf ("\"%s\"", victim_memory_keys[k]);

      g_assert_null (strstr (line, quoted));
    }
  g_free (line);
  g_subprocess_force_exit (nobody);
  assert_memory_of_new_cgroup (env, cgroup);
  ow_test_env_free (env);
}

/* A recursive watch over the caller's limit fails whole, leaving nothing behind. */
static void
test_recursive_limit (void)
{
  const char *const args[] = { "--total-watch-limit=2", NULL };
  OwTestEnv *env = ow_test_env_new (args);
  g_autofree char *top = ow_test_env_make_cgroup (env, "big", NULL, FALSE);
  g_autoptr (GError) error = NULL;
  g_autofree char *canonical = NULL;
  g_autoptr (GVariant) watches = NULL;

  g_free (ow_test_env_make_cgroup (env, "big/a", NULL, FALSE));
  g_free (ow_test_env_make_cgroup (env, "big/b", NULL, FALSE));
  canonical = ow_test_env_watch_recursive (env, top, &error);
  g_assert_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_LIMIT_EXCEEDED);
  oomwatch_manager_call_list_watches_sync (env->manager, G_DBUS_CALL_FLAGS_NONE, -1, &watches, NULL,
                                           NULL);
  g_assert_cmpuint (g_variant_n_children (watches), ==, 0);
  g_assert_cmpuint (ow_test_env_count_eventfds (env), ==, 0);
  ow_test_env_free (env);
}

int
main (int argc, char **argv)
{
  const OwTestCase cases[] = {
    { "/v1/victim", test_victim },
    { "/v1/recursive", test_recursive },
    { "/v1/sibling-events", test_sibling_events },
    { "/v1/parent-limit", test_parent_limit },
    { "/v1/no-kernel-log", test_no_kernel_log },
    { "/v1/recursive-limit", test_recursive_limit },
    { "/v1/recursive-no-kernel-log", test_recursive_no_kernel_log },
    { "/v1/memory-context", test_memory_context },
    { NULL },
  };

  return ow_test_env_main (argc, argv, cases);
}
