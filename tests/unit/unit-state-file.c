/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ow_state_file_replace: the counters, sequence mark, history and metrics files are replaced
 * whole (old or new contents, never a mix, no temporary file left behind), on a tmpfs (no
 * flush) and on whatever the temporary directory is. */
#include "ow-state-file.h"
#include "oomwatch-error.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

static guint
count_entries (const char *dir)
{
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  guint n = 0;

  g_assert_nonnull (listing);
  while (g_dir_read_name (listing) != NULL)
    n++;
  return n;
}

static void
check_replace_in (const char *base)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (base, "ow-state-file-XXXXXX", NULL);
  g_autofree char *path = NULL, *text = NULL;
  struct stat st;

  g_assert_nonnull (g_mkdtemp (dir));
  path = g_build_filename (dir, "counters", NULL);
  g_assert_true (ow_state_file_replace (path, "first\n", -1, 0600, &error));
  g_assert_no_error (error);
  g_assert_true (ow_state_file_replace (path, "second, longer\nline", 15, 0600, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "second, longer\n");
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpuint (count_entries (dir), ==, 1); /* no temporary file left */
  g_unlink (path);

  /* A file for other readers keeps the mode asked for under a unit's UMask=0077. */
  {
    mode_t old = umask (077);
    gboolean written = ow_state_file_replace (path, "metrics\n", -1, 0644, &error);

    umask (old);
    g_assert_no_error (error);
    g_assert_true (written);
    g_assert_cmpint (g_stat (path, &st), ==, 0);
    g_assert_cmpint (st.st_mode & 0777, ==, 0644);
    g_unlink (path);
  }
  g_rmdir (dir);
}

static void
test_replace (void)
{
  check_replace_in ("/dev/shm"); /* tmpfs: written without a flush */
  check_replace_in (g_get_tmp_dir ());
}

static void
test_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ow-state-file-XXXXXX", NULL);
  g_autofree char *missing = g_build_filename (dir, "no-such-dir", "counters", NULL);
  g_autofree char *taken = g_build_filename (dir, "taken", NULL);
  g_autofree char *inside = g_build_filename (taken, "x", NULL);

  g_assert_false (ow_state_file_replace (missing, "x", -1, 0644, &error));
  g_assert_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  /* A directory in the way: the rename fails, the temporary file goes, the directory stays. */
  g_assert_cmpint (g_mkdir (taken, 0755), ==, 0);
  g_assert_true (g_file_set_contents (inside, "keep", -1, NULL));
  g_assert_false (ow_state_file_replace (taken, "x", -1, 0644, &error));
  g_assert_nonnull (error);
  g_assert_cmpuint (count_entries (dir), ==, 1);
  g_assert_true (g_file_test (inside, G_FILE_TEST_IS_REGULAR));
  g_unlink (inside);
  g_rmdir (taken);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/state-file/replace", test_replace);
  g_test_add_func ("/state-file/errors", test_errors);
  return g_test_run ();
}
