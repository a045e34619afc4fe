/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The registry following a tree of directories through the cgroup monitor's inotify fd:
 * recursive watches take new children (counting from zero), rmdir + mkdir of the same name
 * ends watched, and an inotify queue overflow is recovered by a rescan. Plain directories,
 * fake sources: no root needed (the real overflow test lowers a sysctl, so needs root). */
#include "ow-test-registry.h"
#include "ow-test-wait.h"
#include "ow-registry-private.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define WATCH_OK ow_test_registry_watch_ok

static OwFakeSource *
source_of (OwTestRegistry *f, const char *cgroup)
{
  OwFakeSource *source = ow_fake_factory_lookup (f->factory, cgroup);

  g_assert_nonnull (source);
  return source;
}

/* A cgroup created under a recursive watch is watched counting from zero: what it already
 * counted happened while watched. One there before the watch counts from now. */
static void
test_follow_created (OwTestRegistry *f, gconstpointer data)
{
  ow_test_registry_mkdir (f, "/r/old");
  ow_fake_factory_set_kills (f->factory, "/r/old", 5);
  WATCH_OK (f, ":1.1", 1000, "/r", TRUE);
  WATCH_OK (f, ":1.2", 1001, "/r/old", FALSE); /* not recursive: takes no new cgroups */
  g_assert_cmpint (ow_fake_source_get_baseline (source_of (f, "/r/old")), ==,
                   OW_SOURCE_BASELINE_NOW);
  g_assert_false (ow_test_registry_has_event (f, "/r/old oom-kill 5"));

  ow_fake_factory_set_kills (f->factory, "/r/new", 2);
  ow_test_registry_mkdir (f, "/r/new/sub");
  g_assert_true (ow_test_registry_wait_watched (f, "/r/new", TRUE));
  g_assert_true (ow_test_registry_wait_watched (f, "/r/new/sub", TRUE));
  g_assert_cmpint (ow_fake_source_get_baseline (source_of (f, "/r/new")), ==,
                   OW_SOURCE_BASELINE_ZERO);
  g_assert_cmpint (ow_fake_source_get_baseline (source_of (f, "/r/new/sub")), ==,
                   OW_SOURCE_BASELINE_ZERO);
  g_assert_true (ow_test_registry_has_event (f, "/r/new oom-kill 2"));
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, 1000), ==, 4);
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, 1001), ==, 1);

  /* The new cgroup is followed in turn. */
  ow_test_registry_mkdir (f, "/r/new/sub/deeper");
  g_assert_true (ow_test_registry_wait_watched (f, "/r/new/sub/deeper", TRUE));
  /* Its removal is seen too. */
  ow_test_registry_rmdir (f, "/r/new/sub/deeper");
  g_assert_true (ow_test_registry_wait_watched (f, "/r/new/sub/deeper", FALSE));
  g_assert_cmpuint (ow_test_registry_n_removed (f, "/r/new/sub/deeper"), ==, 1);
  /* A new cgroup beyond a uid's limit is not taken for it; root, with no limit of its own,
   * takes it from the same directory event. */
  ow_test_registry_set_limits (f, 4, 100);
  WATCH_OK (f, ":1.3", 0, "/r", TRUE);
  g_test_expect_message ("oomwatchd", G_LOG_LEVEL_WARNING, "Not following new cgroup /r/over*");
  ow_test_registry_mkdir (f, "/r/over");
  g_assert_true (ow_test_registry_wait_watched (f, "/r/over", TRUE));
  g_test_assert_expected_messages ();
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, 1000), ==, 4);
  g_assert_cmpuint (g_hash_table_size (ow_registry_lookup (f->registry, "/r/over")->watchers), ==,
                    1);
}

typedef struct
{
  OwTestRegistry *f;
  const char *cgroup;
} LateMkdir;

static void
mkdir_late (gpointer made, gpointer user_data)
{
  LateMkdir *late = user_data;

  ow_test_registry_mkdir (late->f, late->cgroup);
}

/* A directory made after the registry listed its parent but before it followed the parent
 * (mkdir -p a/b/c under a recursive watch) is not lost. */
static void
test_created_while_following (OwTestRegistry *f, gconstpointer data)
{
  LateMkdir late = { f, "/r/new/late" };
  LateMkdir later = { f, "/r/top/deep/later" };

  ow_test_registry_mkdir (f, "/r/top/deep");
  ow_fake_factory_on_make (f->factory, "/r/top/deep", mkdir_late, &later);
  WATCH_OK (f, ":1.1", 1000, "/r", TRUE); /* the race in the recursive watch itself */
  g_assert_true (ow_test_registry_wait_watched (f, "/r/top/deep/later", TRUE));
  ow_fake_factory_on_make (f->factory, "/r/new", mkdir_late, &late);
  ow_test_registry_mkdir (f, "/r/new"); /* the race in following a new cgroup */
  g_assert_true (ow_test_registry_wait_watched (f, "/r/new", TRUE));
  g_assert_true (ow_test_registry_wait_watched (f, "/r/new/late", TRUE));
  g_assert_cmpint (ow_fake_source_get_baseline (source_of (f, "/r/new/late")), ==,
                   OW_SOURCE_BASELINE_ZERO);
}

typedef struct
{
  OwTestRegistry *f;
  const char *cgroup;
  guint64 not_ino;
} NewDirWait;

static gboolean
watched_as_new_dir (gpointer user_data)
{
  NewDirWait *wait = user_data;
  OwFakeSource *source = ow_fake_factory_lookup (wait->f->factory, wait->cgroup);

  return source != NULL && ow_registry_lookup (wait->f->registry, wait->cgroup) != NULL
         && ow_fake_source_get_ino (source) != wait->not_ino;
}

static guint64
dir_ino (OwTestRegistry *f, const char *cgroup)
{
  g_autofree char *path = g_build_filename (f->dir, cgroup, NULL);
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return st.st_ino;
}

/* An fd that keeps CGROUP's directory, and so its inode number, alive after rmdir. */
static int
hold_open (OwTestRegistry *f, const char *cgroup)
{
  g_autofree char *path = g_build_filename (f->dir, cgroup, NULL);
  int fd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  return fd;
}

/* rmdir x; mkdir x under a recursive watch: x ends up watched, as the new directory, and the
 * old one's removal is told once. */
static void
test_rmdir_mkdir (OwTestRegistry *f, gconstpointer data)
{
  NewDirWait wait = { f, "/r/x", 0 };
  int old;

  ow_test_registry_mkdir (f, "/r/x");
  WATCH_OK (f, ":1.1", 1000, "/r", TRUE);
  wait.not_ino = ow_fake_source_get_ino (source_of (f, "/r/x"));
  /* cgroupfs never reuses an inode number; ext4 would give the freed one to the new
   * directory, unless the old one is still open. */
  old = hold_open (f, "/r/x");
  ow_test_registry_rmdir (f, "/r/x");
  ow_test_registry_mkdir (f, "/r/x");
  g_assert_cmpuint (dir_ino (f, "/r/x"), !=, wait.not_ino);
  g_assert_true (ow_test_wait_until (watched_as_new_dir, &wait, 5000));
  g_assert_cmpuint (ow_test_registry_n_removed (f, "/r/x"), ==, 1);
  g_assert_cmpint (ow_fake_source_get_baseline (source_of (f, "/r/x")), ==,
                   OW_SOURCE_BASELINE_ZERO);
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, 1000), ==, 2);
  close (old);
}

/* After an inotify queue overflow the monitor looks again at everything it follows: what went
 * is dropped, what came is followed (counting from zero), what was re-created is the new
 * directory. The rescan runs here by hand, before the queued events are read. */
static void
test_overflow_rescan (OwTestRegistry *f, gconstpointer data)
{
  NewDirWait wait = { f, "/r/b", 0 };
  int old_b;

  ow_test_registry_mkdir (f, "/r/a");
  ow_test_registry_mkdir (f, "/r/b");
  WATCH_OK (f, ":1.1", 1000, "/r", TRUE);
  wait.not_ino = ow_fake_source_get_ino (source_of (f, "/r/b"));
  ow_test_registry_rmdir (f, "/r/a");
  ow_test_registry_mkdir (f, "/r/c/d");
  old_b = hold_open (f, "/r/b");
  ow_test_registry_rmdir (f, "/r/b");
  ow_test_registry_mkdir (f, "/r/b");

  g_test_expect_message ("oomwatchd", G_LOG_LEVEL_WARNING, "inotify queue overflow*");
  ow_cgroup_monitor_rescan (f->registry->monitor);
  g_test_assert_expected_messages ();
  g_assert_null (ow_registry_lookup (f->registry, "/r/a"));
  g_assert_cmpuint (ow_test_registry_n_removed (f, "/r/a"), ==, 1);
  g_assert_nonnull (ow_registry_lookup (f->registry, "/r/c"));
  g_assert_nonnull (ow_registry_lookup (f->registry, "/r/c/d"));
  g_assert_cmpint (ow_fake_source_get_baseline (source_of (f, "/r/c")), ==,
                   OW_SOURCE_BASELINE_ZERO);
  g_assert_true (watched_as_new_dir (&wait));
  close (old_b);
  /* The events still queued change nothing of that. */
  ow_test_registry_drain (f, "/r/marker");
  g_assert_null (ow_registry_lookup (f->registry, "/r/a"));
  g_assert_nonnull (ow_registry_lookup (f->registry, "/r/b"));
  g_assert_nonnull (ow_registry_lookup (f->registry, "/r/c/d"));
  /* The old /r/b's IN_DELETE, read after the rescan watched the new one, removes nothing. */
  g_assert_cmpuint (ow_test_registry_n_removed (f, "/r/b"), ==, 1);
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, 1000), ==, 5);
}

#define QUEUED_EVENTS_PATH "/proc/sys/fs/inotify/max_queued_events"

/* g_file_set_contents writes a new file and renames it: not for /proc. */
static gboolean
write_sysctl (const char *path, const char *value)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  gboolean ok;

  if (fd < 0)
    return FALSE;
  ok = write (fd, value, strlen (value)) == (ssize_t)strlen (value);
  close (fd);
  return ok;
}

/* A registry whose inotify fd (made with the registry) queues at most MAX events. */
static gboolean
remake_with_small_queue (OwTestRegistry *f, guint max)
{
  g_autofree char *saved = NULL;
  g_autofree char *small = g_strdup_printf ("%u\n", max);
  gboolean lowered;

  if (!g_file_get_contents (QUEUED_EVENTS_PATH, &saved, NULL, NULL))
    return FALSE;
  /* The kernel copies the limit into each inotify instance when it is made: the lowered value
   * is in force only for the moment it takes to make the registry, then restored. */
  lowered = write_sysctl (QUEUED_EVENTS_PATH, small);
  if (lowered)
    ow_test_registry_remake (f);
  if (lowered)
    g_assert_true (write_sysctl (QUEUED_EVENTS_PATH, saved));
  return lowered;
}

/* Makes (or removes) N children of /r at once, more than the inotify queue holds, and waits
 * until the registry has caught up through the overflow's rescan. */
static void
overflow_with_children (OwTestRegistry *f, guint n, gboolean make)
{
  g_autofree char *last = g_strdup_printf ("/r/n%u", n - 1);

  g_test_expect_message ("oomwatchd", G_LOG_LEVEL_WARNING, "inotify queue overflow*");
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *child = g_strdup_printf ("/r/n%u", i);

      if (make)
        ow_test_registry_mkdir (f, child);
      else
        ow_test_registry_rmdir (f, child);
    }
  g_assert_true (ow_test_registry_wait_watched (f, last, make));
  g_test_assert_expected_messages ();
}

/* A real IN_Q_OVERFLOW: more directories made at once than the queue holds. */
static void
test_overflow_real (OwTestRegistry *f, gconstpointer data)
{
  const guint n = 40;

  if (geteuid () != 0)
    {
      g_test_skip ("needs root to lower " QUEUED_EVENTS_PATH " for the registry's inotify fd");
      return;
    }
  ow_test_registry_mkdir (f, "/r");
  if (!remake_with_small_queue (f, 4))
    {
      g_test_skip ("cannot write " QUEUED_EVENTS_PATH " (read-only /proc/sys?)");
      return;
    }
  WATCH_OK (f, ":1.1", 1000, "/r", TRUE);
  overflow_with_children (f, n, TRUE);
  g_assert_cmpuint (ow_registry_count (f->registry), ==, n + 1);
  overflow_with_children (f, n, FALSE);
  g_assert_cmpuint (ow_registry_count (f->registry), ==, 1);
  g_assert_cmpuint (f->removed->len, ==, n);
}

/* The lines of F's events about CGROUP, joined by ", ". */
static char *
events_of (OwTestRegistry *f, const char *cgroup)
{
  g_autoptr (GPtrArray) lines = g_ptr_array_new ();
  g_autofree char *prefix = g_strconcat (cgroup, " ", NULL);

  for (guint i = 0; i < f->events->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (f->events, i), prefix))
      g_ptr_array_add (lines, (char *)g_ptr_array_index (f->events, i) + strlen (prefix));
  g_ptr_array_add (lines, NULL);
  return g_strjoinv (", ", (char **)lines->pdata);
}

/* v2: a child removed before its last events were read (the kernel drops a deferred wake-up
 * of a removed cgroup) is told them from its parent's counters, before its removal; a
 * sibling's pending events stay its own. Two children that die unread at once cannot be told
 * apart: neither is told (their parent's own counters have them). */
static void
test_ledger (OwTestRegistry *f, gconstpointer data)
{
  g_autofree char *a = NULL, *old = NULL, *b = NULL, *c = NULL, *d = NULL;

  ow_fake_factory_set_v2_counters (f->factory, TRUE);
  f->removals_in_events = TRUE;
  ow_test_registry_mkdir (f, "/r/old");
  ow_fake_factory_set_kills (f->factory, "/r/old", 7);
  WATCH_OK (f, ":1.1", 1000, "/r", TRUE);
  ow_test_registry_mkdir (f, "/r/a"); /* the first child made while watched opens the ledger */
  g_assert_true (ow_test_registry_wait_watched (f, "/r/a", TRUE));

  ow_fake_factory_set_kills (f->factory, "/r/a", 1);   /* never read from /r/a itself */
  ow_fake_factory_set_kills (f->factory, "/r/old", 10); /* pending on a live sibling */
  ow_test_registry_rmdir (f, "/r/a");
  g_assert_true (ow_test_registry_wait_watched (f, "/r/a", FALSE));
  g_assert_cmpstr ((a = events_of (f, "/r/a")), ==, "oom-kill 1, removed");
  g_assert_cmpstr ((old = events_of (f, "/r/old")), ==, "oom-kill 3");

  ow_test_registry_mkdir (f, "/r/b");
  ow_test_registry_mkdir (f, "/r/c");
  g_assert_true (ow_test_registry_wait_watched (f, "/r/c", TRUE));
  ow_fake_factory_set_kills (f->factory, "/r/b", 1);
  ow_fake_factory_set_kills (f->factory, "/r/c", 1);
  ow_test_registry_rmdir (f, "/r/b");
  ow_test_registry_rmdir (f, "/r/c");
  g_assert_true (ow_test_registry_wait_watched (f, "/r/c", FALSE));
  g_assert_cmpstr ((b = events_of (f, "/r/b")), ==, "removed");
  g_assert_cmpstr ((c = events_of (f, "/r/c")), ==, "removed");

  /* The ledger goes on from there. */
  ow_test_registry_mkdir (f, "/r/d");
  g_assert_true (ow_test_registry_wait_watched (f, "/r/d", TRUE));
  ow_fake_factory_set_kills (f->factory, "/r/d", 2);
  ow_test_registry_rmdir (f, "/r/d");
  g_assert_true (ow_test_registry_wait_watched (f, "/r/d", FALSE));
  g_assert_cmpstr ((d = events_of (f, "/r/d")), ==, "oom-kill 2, removed");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func)                                                                            \
  g_test_add (path, OwTestRegistry, NULL, ow_test_registry_setup, func, ow_test_registry_teardown)
  ADD ("/registry/follow-created", test_follow_created);
  ADD ("/registry/created-while-following", test_created_while_following);
  ADD ("/registry/rmdir-mkdir", test_rmdir_mkdir);
  ADD ("/registry/overflow-rescan", test_overflow_rescan);
  ADD ("/registry/overflow-real", test_overflow_real);
  ADD ("/registry/ledger", test_ledger);
  return g_test_run ();
}
