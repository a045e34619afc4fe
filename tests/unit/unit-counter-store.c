/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The counter store's files: written directly when the cgroup's name needs no escaping and by
 * GKeyFile otherwise, read back either way (and GKeyFile reads both); an entry whose file
 * already holds its counters is not written again. */
#include "ow-counter-store.h"

#include <glib/gstdio.h>
#include <sys/stat.h>

#define ODD_NAME "/odd\nname\\with \tescapes"

static OwCounters
kills (guint64 value)
{
  OwCounters counters = { 0 };

  counters.has[OW_COUNTER_OOM_KILL] = TRUE;
  counters.value[OW_COUNTER_OOM_KILL] = value;
  return counters;
}

/* The only file of DIR; its inode tells whether it was replaced. */
static char *
only_file (const char *dir, guint64 *ino)
{
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name = g_dir_read_name (listing);
  char *path = g_build_filename (dir, name, NULL);
  struct stat st;

  g_assert_null (g_dir_read_name (listing));
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  *ino = st.st_ino;
  return path;
}

static void
check_form (const char *cgroup)
{
  g_autofree char *dir = g_dir_make_tmp ("ow-counter-store-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autofree char *path = NULL, *read_back = NULL;
  OwCounters baseline = kills (7), missed;
  guint64 ino, ino_again;

  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);
    OwCounterEntry *entry = ow_counter_store_reconcile (store, cgroup, 42, &baseline, &missed);

    g_assert_true (ow_counter_store_save (store, entry, &error));
    ow_counter_store_reported (store, cgroup, OW_COUNTER_OOM, 3, FALSE, 0, FALSE);
  }
  path = only_file (dir, &ino);
  /* GKeyFile reads what the store wrote */
  g_assert_true (g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, &error));
  read_back = g_key_file_get_string (file, "Counters", "Cgroup", &error);
  g_assert_cmpstr (read_back, ==, cgroup);
  g_assert_cmpuint (g_key_file_get_uint64 (file, "Counters", "SeenOomKill", NULL), ==, 7);
  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);
    OwCounterEntry *entry = ow_counter_store_lookup (store, cgroup);

    g_assert_nonnull (entry);
    g_assert_cmpuint (entry->ino, ==, 42);
    g_assert_true (entry->seen.has[OW_COUNTER_OOM_KILL]);
    g_assert_false (entry->seen.has[OW_COUNTER_OOM]);
    g_assert_cmpuint (entry->seen.value[OW_COUNTER_OOM_KILL], ==, 7);
    g_assert_cmpuint (entry->reported[OW_COUNTER_OOM], ==, 3);
    /* watched again, nothing changed: the file stays as it is */
    entry = ow_counter_store_reconcile (store, cgroup, 42, &baseline, &missed);
    g_assert_true (ow_counter_store_save (store, entry, &error));
    g_free (only_file (dir, &ino_again));
    g_assert_cmpuint (ino_again, ==, ino);
    /* a kill reported: written */
    ow_counter_store_reported (store, cgroup, OW_COUNTER_OOM_KILL, 1, TRUE, 8, FALSE);
    g_free (only_file (dir, &ino_again));
    g_assert_cmpuint (ino_again, !=, ino);
    ow_counter_store_forget (store, cgroup);
  }
  g_rmdir (dir);
}

static void
test_forms (void)
{
  check_form ("/plain/name.scope");
  check_form (ODD_NAME);
}

/* A file in GKeyFile's looser syntax (comments, spaces around '=') is read too. */
static void
test_keyfile_syntax (void)
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
    g_assert_cmpuint (entry->ino, ==, 5);
    g_assert_cmpuint (entry->seen.value[OW_COUNTER_OOM_KILL], ==, 9);
  }
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/counter-store/forms", test_forms);
  g_test_add_func ("/counter-store/keyfile-syntax", test_keyfile_syntax);
  return g_test_run ();
}
