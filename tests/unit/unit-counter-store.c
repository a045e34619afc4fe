/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The counter store's log: a save appends one record, an entry whose record is up to date is
 * not written again, odd cgroup names come back as they were, a torn last record is ignored,
 * the log is written anew before it grows without bound, and the one-file-per-cgroup form of
 * earlier versions is taken over. */
#include "ow-counter-store.h"

#include <glib/gstdio.h>

#define ODD_NAME "/odd\nname\\with \tescapes\\n"

static OwCounters
kills (guint64 value)
{
  OwCounters counters = { 0 };

  counters.has[OW_COUNTER_OOM_KILL] = TRUE;
  counters.value[OW_COUNTER_OOM_KILL] = value;
  return counters;
}

static char *
log_path (const char *dir)
{
  return g_build_filename (dir, "log", NULL);
}

/* Lines of DIR's log, header included. */
static guint
log_lines (const char *dir)
{
  g_autofree char *path = log_path (dir), *text = NULL;
  guint lines = 0;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  for (const char *c = text; *c != '\0'; c++)
    lines += *c == '\n';
  return lines;
}

static void
remove_dir (const char *dir)
{
  g_autofree char *path = log_path (dir);

  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0); /* nothing else was left there */
}

static void
check_form (const char *cgroup)
{
  g_autofree char *dir = g_dir_make_tmp ("ow-counter-store-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  OwCounters baseline = kills (7), missed;
  guint lines;

  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);
    OwCounterEntry *entry = ow_counter_store_reconcile (store, cgroup, 42, &baseline, &missed);

    g_assert_no_error (error);
    g_assert_true (ow_counter_store_save (store, entry, &error));
    ow_counter_store_reported (store, cgroup, OW_COUNTER_OOM, 3, FALSE, 0, FALSE);
    g_assert_cmpuint (log_lines (dir), ==, 3); /* header, the watch, the report */
  }
  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);
    OwCounterEntry *entry = ow_counter_store_lookup (store, cgroup);

    g_assert_cmpuint (log_lines (dir), ==, 3); /* read whole: kept as it is */
    g_assert_nonnull (entry);
    g_assert_cmpuint (entry->ino, ==, 42);
    g_assert_true (entry->seen.has[OW_COUNTER_OOM_KILL]);
    g_assert_false (entry->seen.has[OW_COUNTER_OOM]);
    g_assert_cmpuint (entry->seen.value[OW_COUNTER_OOM_KILL], ==, 7);
    g_assert_cmpuint (entry->reported[OW_COUNTER_OOM], ==, 3);
    /* watched again, nothing changed: nothing written */
    entry = ow_counter_store_reconcile (store, cgroup, 42, &baseline, &missed);
    g_assert_true (ow_counter_store_save (store, entry, &error));
    lines = log_lines (dir);
    g_assert_cmpuint (lines, ==, 3);
    /* a kill reported: one record more */
    ow_counter_store_reported (store, cgroup, OW_COUNTER_OOM_KILL, 1, TRUE, 8, FALSE);
    g_assert_cmpuint (log_lines (dir), ==, lines + 1);
    ow_counter_store_forget (store, cgroup);
    g_assert_cmpuint (log_lines (dir), ==, lines + 2);
  }
  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);

    g_assert_null (ow_counter_store_lookup (store, cgroup));
    g_assert_cmpuint (log_lines (dir), ==, lines + 2); /* kept as read */
  }
  remove_dir (dir);
}

static void
test_forms (void)
{
  check_form ("/plain/name.scope");
  check_form (ODD_NAME);
}

/* A crash in the middle of a write leaves a record without its newline: the rest is read. */
static void
test_torn (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ow-counter-store-XXXXXX", NULL);
  g_autofree char *path = log_path (dir);
  g_autoptr (GError) error = NULL;
  OwCounters baseline = kills (2), missed;

  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);

    ow_counter_store_save (store, ow_counter_store_reconcile (store, "/a", 1, &baseline, &missed),
                           &error);
    g_assert_no_error (error);
  }
  {
    g_autofree char *text = NULL, *torn = NULL;

    g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
    torn = g_strconcat (text, "S 1 - 9 - 0 0 0 /b", NULL);
    g_assert_true (g_file_set_contents (path, torn, -1, NULL));
    g_assert_no_errno (g_chmod (path, 0600)); /* as the daemon leaves it: only torn */
  }
  g_test_expect_message ("oomwatchd", G_LOG_LEVEL_WARNING, "*1 records that were not whole*");
  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);
    OwCounterEntry *entry = ow_counter_store_lookup (store, "/a");

    g_test_assert_expected_messages ();
    g_assert_nonnull (entry);
    g_assert_cmpuint (entry->seen.value[OW_COUNTER_OOM_KILL], ==, 2);
    g_assert_null (ow_counter_store_lookup (store, "/b"));
    /* written anew without the torn line: the next record is a line of its own */
    ow_counter_store_save (store, ow_counter_store_reconcile (store, "/c", 3, &baseline, &missed),
                           &error);
    g_assert_no_error (error);
  }
  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);

    g_assert_no_error (error);
    g_assert_nonnull (ow_counter_store_lookup (store, "/a"));
    g_assert_nonnull (ow_counter_store_lookup (store, "/c"));
  }
  remove_dir (dir);
}

/* A log others may read (an earlier version's mode, or a hand's) is written anew as root's
 * alone; one as it should be is kept. */
static void
test_mode (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ow-counter-store-XXXXXX", NULL);
  g_autofree char *path = log_path (dir);
  g_autoptr (GError) error = NULL;
  OwCounters baseline = kills (1), missed;
  struct stat before, after;

  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);

    ow_counter_store_save (store, ow_counter_store_reconcile (store, "/a", 1, &baseline, &missed),
                           &error);
    g_assert_no_error (error);
  }
  g_assert_no_errno (g_chmod (path, 0644));
  g_assert_no_errno (g_stat (path, &before));
  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);

    g_assert_nonnull (store);
    g_assert_no_error (error);
    g_assert_no_errno (g_stat (path, &after));
    g_assert_cmpint (after.st_mode & 07777, ==, 0600);
    g_assert_cmpuint (after.st_ino, !=, before.st_ino);
  }
  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);

    g_assert_no_errno (g_stat (path, &before));
    g_assert_cmpuint (after.st_ino, ==, before.st_ino);
    g_assert_nonnull (ow_counter_store_lookup (store, "/a"));
  }
  remove_dir (dir);
}

/* Saving one cgroup over and over does not grow the log without bound. */
static void
test_compacted (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ow-counter-store-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  OwCounters baseline = kills (0), missed;
  guint most = 0;

  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);

    ow_counter_store_save (store, ow_counter_store_reconcile (store, "/a", 1, &baseline, &missed),
                           &error);
    for (guint i = 1; i <= 5000; i++)
      {
        ow_counter_store_reported (store, "/a", OW_COUNTER_OOM_KILL, 1, TRUE, i, FALSE);
        most = MAX (most, log_lines (dir));
      }
    g_assert_cmpuint (most, <=, 2 + 1024 + 1);
    g_assert_cmpuint (ow_counter_store_lookup (store, "/a")->reported[OW_COUNTER_OOM_KILL], ==,
                      5000);
  }
  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);
    OwCounterEntry *entry = ow_counter_store_lookup (store, "/a");

    g_assert_cmpuint (entry->seen.value[OW_COUNTER_OOM_KILL], ==, 5000);
    g_assert_cmpuint (entry->reported[OW_COUNTER_OOM_KILL], ==, 5000);
  }
  remove_dir (dir);
}

/* Earlier versions kept one file per cgroup, in GKeyFile's syntax: read once, then removed. */
static void
test_earlier_files (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ow-counter-store-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "x.counters", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (
      path, "# by hand\n[Counters]\nCgroup = /by/hand\nInode=5\nSeenOomKill=9\n", -1, NULL));
  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);
    OwCounterEntry *entry = ow_counter_store_lookup (store, "/by/hand");

    g_assert_nonnull (entry);
    g_assert_true (entry->pending);
    g_assert_cmpuint (entry->ino, ==, 5);
    g_assert_cmpuint (entry->seen.value[OW_COUNTER_OOM_KILL], ==, 9);
    g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  }
  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);

    g_assert_nonnull (ow_counter_store_lookup (store, "/by/hand"));
  }
  remove_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/counter-store/forms", test_forms);
  g_test_add_func ("/counter-store/torn", test_torn);
  g_test_add_func ("/counter-store/mode", test_mode);
  g_test_add_func ("/counter-store/compacted", test_compacted);
  g_test_add_func ("/counter-store/earlier-files", test_earlier_files);
  return g_test_run ();
}
