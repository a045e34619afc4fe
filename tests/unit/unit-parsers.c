/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: path canonicalisation (including hostile input), mountinfo, the keyed-file
 * parser behind memory.oom_control and memory.events, and D-Bus error mapping. */
#include "ow-cgroup-memory.h"
#include "ow-cgroup-path.h"
#include "ow-hierarchy.h"
#include "ow-keyed-file.h"
#include "ow-str-hash.h"
#include "ow-str-intern.h"
#include "oomwatch-error.h"

#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static const char *const other_mounts[] = { "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/unified", NULL };

static char *
canonicalize (const char *input, GError **error)
{
  return ow_cgroup_path_canonicalize (input, "/sys/fs/cgroup/memory", other_mounts, error);
}

static void
test_canonical_forms (void)
{
  const struct
  {
    const char *input, *expected;
  } cases[] = {
    { "/", "/" },
    { "a", "/a" },
    { "/a/b", "/a/b" },
    { "a/b/", "/a/b" },
    { "//a///b//", "/a/b" },
    { "./a/./b/.", "/a/b" },
    { "/sys/fs/cgroup/memory", "/" },
    { "/sys/fs/cgroup/memory/", "/" },
    { "/sys/fs/cgroup/memory/a/b", "/a/b" },
    { "/sys/fs/cgroup/memoryx/a", "/sys/fs/cgroup/memoryx/a" }, /* not the mount: relative */
    { "/etc", "/etc" },                                         /* relative, and no such cgroup */
    { "a b/c,d", "/a b/c,d" },
    { "/a/..b/.c/.../b..", "/a/..b/.c/.../b.." }, /* only "." and ".." are special */
    { "/ünïcode", "/ünïcode" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *canonical = canonicalize (cases[i].input, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (canonical, ==, cases[i].expected);
    }
}

static void
test_hostile_paths (void)
{
  g_autofree char *huge = g_strnfill (OW_CGROUP_PATH_MAX + 1, 'x');
  g_autofree char *long_name = g_strnfill (256, 'y');
  const char *cases[] = {
    "",
    "..",
    "/..",
    "a/../../etc",
    "/sys/fs/cgroup/memory/../../../etc/passwd",
    "/sys/fs/cgroup/cpu",
    "/sys/fs/cgroup/cpu/a",
    "/sys/fs/cgroup/unified/a",
    "a/\n/b",
    huge,
    long_name,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *canonical = canonicalize (cases[i], &error);

      g_assert_null (canonical);
      g_assert_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_INVALID_CGROUP);
      /* Messages quote the value, but never kilobytes of it. */
      g_assert_cmpuint (strlen (error->message), <, 400);
    }
}

static void
test_deep_path (void)
{
  g_autoptr (GString) deep = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *canonical = NULL;

  for (int i = 0; i < 1000; i++)
    g_string_append (deep, "/d");
  canonical = canonicalize (deep->str, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (canonical, ==, deep->str);
}

/* A component of 255 bytes is a name the kernel takes; the path is as it came. */
static void
test_longest_component (void)
{
  g_autofree char *name = g_strnfill (255, 'z');
  g_autofree char *path = g_strconcat ("/a/", name, "/b", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *canonical = canonicalize (path, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (canonical, ==, path);
}

static void
test_open_refuses_symlinks_and_files (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("oomwatch-unit-XXXXXX", &error);
  g_autofree char *link = g_build_filename (dir, "escape", NULL);
  g_autofree char *file = g_build_filename (dir, "file", NULL);
  int root, fd;

  g_assert_no_error (error);
  g_assert_cmpint (symlink ("/etc", link), ==, 0);
  g_assert_true (g_file_set_contents (file, "x", 1, NULL));
  root = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (root, >=, 0);

  fd = ow_cgroup_path_open_dir (root, "/escape", 0, &error);
  g_assert_cmpint (fd, ==, -1);
  g_assert_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_INVALID_CGROUP);
  g_clear_error (&error);

  fd = ow_cgroup_path_open_dir (root, "/file", 0, &error);
  g_assert_cmpint (fd, ==, -1);
  g_assert_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_INVALID_CGROUP);
  g_clear_error (&error);

  fd = ow_cgroup_path_open_dir (root, "/missing", 0, &error);
  g_assert_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NO_SUCH_CGROUP);
  g_clear_error (&error);

  /* A real directory, but not on a cgroup filesystem (the magic is checked). */
  fd = ow_cgroup_path_open_dir (root, "/", 0x27e0eb, &error);
  g_assert_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_INVALID_CGROUP);
  g_clear_error (&error);

  close (root);
  g_unlink (link);
  g_unlink (file);
  g_rmdir (dir);
}

static void
test_mountinfo (void)
{
  const char *mountinfo
      = "24 30 0:22 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n"
        "33 24 0:29 / /sys/fs/cgroup ro shared:9 - tmpfs tmpfs ro,mode=755\n"
        "35 33 0:31 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
        "40 33 0:36 / /sys/fs/cgroup/cpu,cpuacct rw shared:15 - cgroup cgroup rw,cpu,cpuacct\n"
        "41 33 0:37 / /sys/fs/cgroup/memory rw shared:16 - cgroup cgroup rw,memory\n"
        "42 33 0:38 / /mnt/with\\040space rw - cgroup cgroup rw,name=systemd\n"
        "garbage line\n"
        "\n";
  g_autoptr (GPtrArray) mounts = ow_mountinfo_parse_cgroup_mounts (mountinfo);
  OwCgroupMount *m;

  g_assert_cmpuint (mounts->len, ==, 4);
  m = g_ptr_array_index (mounts, 0);
  g_assert_cmpstr (m->mount_point, ==, "/sys/fs/cgroup/unified");
  g_assert_cmpuint (m->version, ==, 2);
  m = g_ptr_array_index (mounts, 1);
  g_assert_false (m->has_memory);
  m = g_ptr_array_index (mounts, 2);
  g_assert_cmpstr (m->mount_point, ==, "/sys/fs/cgroup/memory");
  g_assert_cmpuint (m->version, ==, 1);
  g_assert_true (m->has_memory);
  m = g_ptr_array_index (mounts, 3);
  g_assert_cmpstr (m->mount_point, ==, "/mnt/with space");
}

static void
test_no_memory_controller (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (OwHierarchy) hierarchy = ow_hierarchy_new (0, NULL, NULL, &error);
  g_autofree char *canonical = NULL;

  g_assert_no_error (error);
  canonical = ow_hierarchy_canonicalize (hierarchy, "/a", &error);
  g_assert_null (canonical);
  g_assert_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NOT_SUPPORTED);
}

static void
test_oom_control (void)
{
  const char *v1 = "oom_kill_disable 1\nunder_oom 0\noom_kill 42\n";
  const char *old = "oom_kill_disable 0\nunder_oom 1\n";
  const char *events = "low 0\nhigh 3\nmax 17\noom 5\noom_kill 4\noom_group_kill 1\nfuture_key 9\n";
  guint64 value = 0;

  g_assert_true (ow_keyed_file_lookup (v1, "oom_kill_disable", &value));
  g_assert_cmpuint (value, ==, 1);
  g_assert_true (ow_keyed_file_lookup (v1, "oom_kill", &value));
  g_assert_cmpuint (value, ==, 42);
  g_assert_true (ow_keyed_file_lookup (old, "under_oom", &value));
  g_assert_cmpuint (value, ==, 1);
  g_assert_false (ow_keyed_file_lookup (old, "oom_kill", &value));

  g_assert_true (ow_keyed_file_lookup (events, "oom", &value));
  g_assert_cmpuint (value, ==, 5);
  g_assert_true (ow_keyed_file_lookup (events, "oom_kill", &value));
  g_assert_cmpuint (value, ==, 4);
  g_assert_true (ow_keyed_file_lookup (events, "oom_group_kill", &value));
  g_assert_cmpuint (value, ==, 1);

  /* Prefixes, junk values and overflow do not match. */
  g_assert_false (ow_keyed_file_lookup ("oom_killer 3\n", "oom_kill", &value));
  g_assert_false (ow_keyed_file_lookup ("oom_kill -1\n", "oom_kill", &value));
  g_assert_false (ow_keyed_file_lookup ("oom_kill 12x\n", "oom_kill", &value));
  g_assert_false (ow_keyed_file_lookup ("oom_kill 99999999999999999999999\n", "oom_kill", &value));
  g_assert_false (ow_keyed_file_lookup ("oom_kill \n", "oom_kill", &value));
  g_assert_false (ow_keyed_file_lookup ("", "oom_kill", &value));
  g_assert_true (ow_keyed_file_lookup ("oom_kill 7", "oom_kill", &value)); /* no final newline */
  g_assert_cmpuint (value, ==, 7);
  g_assert_true (ow_keyed_file_lookup ("oom_kill 18446744073709551615\n", "oom_kill", &value));
  g_assert_cmpuint (value, ==, G_MAXUINT64);
  g_assert_false (ow_keyed_file_lookup ("oom_kill 18446744073709551616\n", "oom_kill", &value));
  g_assert_false (ow_keyed_file_lookup ("oom_kill 184467440737095516150\n", "oom_kill", &value));
  g_assert_false (ow_keyed_file_lookup ("oom_kill +1\n", "oom_kill", &value));
  g_assert_false (ow_keyed_file_lookup ("oom_kill  1\n", "oom_kill", &value));
  g_assert_false (ow_keyed_file_lookup ("oom_kill 1 \n", "oom_kill", &value));
  g_assert_false (ow_keyed_file_lookup ("oom_kill 1\r\n", "oom_kill", &value));
  g_assert_false (ow_keyed_file_lookup ("oom_kill \v1\n", "oom_kill", &value));
  g_assert_false (ow_keyed_file_lookup ("oom_kill :\n", "oom_kill", &value)); /* '0' + 10 */
  g_assert_true (ow_keyed_file_lookup ("oom_kill 0042\n", "oom_kill", &value));
  g_assert_cmpuint (value, ==, 42);
  value = 9; /* left as it was when nothing matches, also after digits */
  g_assert_false (ow_keyed_file_lookup ("oom_kill x\noom_kill 3\n", "oom_kill", &value));
  g_assert_false (ow_keyed_file_lookup ("oom_kill 12x\n", "oom_kill", &value));
  g_assert_false (ow_keyed_file_lookup ("oom_kill 18446744073709551616\n", "oom_kill", &value));
  g_assert_cmpuint (value, ==, 9);
}

static void
test_error_names (void)
{
  const struct
  {
    int code;
    const char *name;
  } cases[] = {
    { OOMWATCH_ERROR_FAILED, "org.oomwatch.OomWatch1.Error.Failed" },
    { OOMWATCH_ERROR_INVALID_CGROUP, "org.oomwatch.OomWatch1.Error.InvalidCgroup" },
    { OOMWATCH_ERROR_NO_SUCH_CGROUP, "org.oomwatch.OomWatch1.Error.NoSuchCgroup" },
    { OOMWATCH_ERROR_NOT_WATCHED, "org.oomwatch.OomWatch1.Error.NotWatched" },
    { OOMWATCH_ERROR_LIMIT_EXCEEDED, "org.oomwatch.OomWatch1.Error.LimitExceeded" },
    { OOMWATCH_ERROR_NOT_SUPPORTED, "org.oomwatch.OomWatch1.Error.NotSupported" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = g_error_new_literal (OOMWATCH_ERROR, cases[i].code, "m");
      g_autofree char *name = g_dbus_error_encode_gerror (error);
      g_autoptr (GError) back = g_dbus_error_new_for_dbus_error (cases[i].name, "m");

      g_assert_cmpstr (name, ==, cases[i].name);
      g_assert_error (back, OOMWATCH_ERROR, cases[i].code);
    }
}

static guint
count_fds (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* Rewritten in place, as the kernel's files are: a kept fd reads the new value. */
static void
write_in_place (const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  FILE *file = fopen (path, "w");

  g_assert_nonnull (file);
  fputs (text, file);
  g_assert_cmpint (fclose (file), ==, 0);
}

static void
write_sizes (const char *root, const char *cgroup, const char *max, const char *current)
{
  g_autofree char *dir = g_build_filename (root, cgroup, NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  write_in_place (dir, "memory.max", max);
  write_in_place (dir, "memory.current", current);
  write_in_place (dir, "memory.peak", "4096\n");
}

static void
remove_sizes (const char *root, const char *cgroup)
{
  for (const char *const *f
       = (const char *const[]){ "memory.max", "memory.current", "memory.peak", NULL };
       *f; f++)
    {
      g_autofree char *path = g_build_filename (root, cgroup, *f, NULL);

      g_assert_cmpint (g_unlink (path), ==, 0);
    }
  {
    g_autofree char *dir = g_build_filename (root, cgroup, NULL);

    g_assert_cmpint (g_rmdir (dir), ==, 0);
  }
}

/* A memory reader over a scratch directory (v2 names), and the fds open before it. */
typedef struct
{
  char *root;
  OwHierarchy *hierarchy;
  OwCgroupMemoryFiles *files;
  guint fds_before;
} MemoryFixture;

static void
memory_set_up (MemoryFixture *f)
{
  g_autoptr (GError) error = NULL;

  f->root = g_dir_make_tmp ("oomwatch-unit-XXXXXX", &error);
  g_assert_no_error (error);
  f->hierarchy = ow_hierarchy_new_for_tests (2, f->root, &error);
  g_assert_no_error (error);
  (void)g_main_context_default (); /* its wake-up fd, for the closing timer */
  f->fds_before = count_fds ();
  f->files = ow_cgroup_memory_files_new (f->hierarchy);
}

/* Freeing the reader closes every file it kept; then the cgroups CGROUPS go. */
static void
memory_tear_down (MemoryFixture *f, const char *const *cgroups)
{
  ow_cgroup_memory_files_free (f->files);
  g_assert_cmpuint (count_fds (), ==, f->fds_before);
  for (const char *const *c = cgroups; *c; c++)
    remove_sizes (f->root, *c);
  g_assert_cmpint (g_rmdir (f->root), ==, 0);
  ow_hierarchy_free (f->hierarchy);
  g_free (f->root);
}

/* A cgroup's memory files stay open across reads (one fd per file it has), the least recently
 * read of five cgroups gives its files back, and freeing closes every one. */
static void
test_memory_kept_files (void)
{
  MemoryFixture f;
  OwCgroupMemory memory;

  memory_set_up (&f);
  write_sizes (f.root, "a", "max\n", "100\n");
  ow_cgroup_memory_read (f.files, "/a", &memory);
  /* no swap file: absent; "max": no limit */
  g_assert_cmpuint (memory.present, ==, (1u << OW_CGROUP_USAGE) | (1u << OW_CGROUP_PEAK));
  g_assert_cmpuint (memory.bytes[OW_CGROUP_USAGE], ==, 100);
  g_assert_cmpuint (memory.bytes[OW_CGROUP_PEAK], ==, 4096);
  g_assert_cmpuint (count_fds (), ==, f.fds_before + 3);

  write_sizes (f.root, "a", "8192\n", "200\n");
  ow_cgroup_memory_read (f.files, "/a", &memory);
  g_assert_cmpuint (memory.bytes[OW_CGROUP_USAGE], ==, 200);
  g_assert_cmpuint (memory.bytes[OW_CGROUP_LIMIT], ==, 8192);
  g_assert_cmpuint (count_fds (), ==, f.fds_before + 3);

  for (const char *const *c = (const char *const[]){ "b", "c", "d", "e", NULL }; *c; c++)
    {
      g_autofree char *path = g_strconcat ("/", *c, NULL);

      write_sizes (f.root, *c, "max\n", "300\n");
      ow_cgroup_memory_read (f.files, path, &memory);
      g_assert_cmpuint (memory.bytes[OW_CGROUP_USAGE], ==, 300);
    }
  g_assert_cmpuint (count_fds (), ==, f.fds_before + 4 * 3);
  ow_cgroup_memory_read (f.files, "/missing", &memory);
  g_assert_cmpuint (memory.present, ==, 0);
  g_assert_cmpuint (count_fds (), ==, f.fds_before + 3 * 3);
  memory_tear_down (&f, (const char *const[]){ "a", "b", "c", "d", "e", NULL });
}

/* Kept files are a cache of a name: a cgroup missing at a read is read once it exists, and a
 * name renamed away (v1) and made again reads the new cgroup's files, not the renamed one's. */
static void
test_memory_kept_files_follow_the_name (void)
{
  g_autofree char *from = NULL, *to = NULL;
  MemoryFixture f;
  OwCgroupMemory memory;

  memory_set_up (&f);
  ow_cgroup_memory_read (f.files, "/svc", &memory);
  g_assert_cmpuint (memory.present, ==, 0);
  g_assert_cmpuint (count_fds (), ==, f.fds_before);
  write_sizes (f.root, "svc", "max\n", "100\n");
  ow_cgroup_memory_read (f.files, "/svc", &memory);
  g_assert_cmpuint (memory.present & (1u << OW_CGROUP_USAGE), !=, 0);
  g_assert_cmpuint (memory.bytes[OW_CGROUP_USAGE], ==, 100);

  write_sizes (f.root, "x", "16777216\n", "300\n");
  ow_cgroup_memory_read (f.files, "/x", &memory);
  g_assert_cmpuint (memory.bytes[OW_CGROUP_LIMIT], ==, 16777216);
  from = g_build_filename (f.root, "x", NULL);
  to = g_build_filename (f.root, "y", NULL);
  g_assert_cmpint (g_rename (from, to), ==, 0);
  write_sizes (f.root, "x", "8192\n", "400\n");
  ow_cgroup_memory_read (f.files, "/x", &memory);
  g_assert_cmpuint (memory.bytes[OW_CGROUP_LIMIT], ==, 8192);
  g_assert_cmpuint (memory.bytes[OW_CGROUP_USAGE], ==, 400);
  g_assert_cmpuint (count_fds (), ==, f.fds_before + 2 * 3);
  memory_tear_down (&f, (const char *const[]){ "svc", "x", "y", NULL });
}

/* Interned names: the string GLib's table holds, whether asked with the same pointer, an equal
 * copy or after another name; each answer a reference of its own (ASan sees one missing). */
static void
test_str_intern (void)
{
  g_autofree char *copy = g_strdup ("/unit/intern/a");
  GRefString *a = ow_str_intern ("/unit/intern/a");
  GRefString *glib = g_ref_string_new_intern ("/unit/intern/a");
  GRefString *again = ow_str_intern (a);
  GRefString *equal = ow_str_intern (copy);
  GRefString *other = ow_str_intern ("/unit/intern/b");
  GRefString *back = ow_str_intern ("/unit/intern/a");

  g_assert_true (a == glib);
  g_assert_true (again == a);
  g_assert_true (equal == a);
  g_assert_true (back == a);
  g_assert_true (other != a);
  g_assert_cmpstr (other, ==, "/unit/intern/b");
  g_assert_true (other == g_ref_string_new_intern ("/unit/intern/b"));
  g_ref_string_release (other);
  for (GRefString **r = (GRefString *[]){ a, glib, again, equal, back, other, NULL }; *r; r++)
    g_ref_string_release (*r);
  /* The one it remembers is still whole. */
  a = ow_str_intern ("/unit/intern/a");
  g_assert_cmpstr (a, ==, "/unit/intern/a");
  g_ref_string_release (a);
}

/* The tables' string hash: equal strings hash alike wherever they are stored; one byte changed
 * anywhere (in a whole word or in the tail) or one more byte changes it; 10,000 cgroup paths
 * that differ only at their end spread over a table's buckets. */
static void
test_str_hash (void)
{
  const char *base = "/sys/fs/cgroup/memory/user.slice/user-1000.slice/session-2.scope/x";
  gsize length = strlen (base);
  g_autofree char *copy = g_strdup (base);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  guint buckets[1024] = { 0 }, fullest = 0;

  g_assert_cmpuint (ow_str_hash (base), ==, ow_str_hash (copy));
  g_assert_cmpuint (ow_str_hash (""), !=, ow_str_hash ("/"));
  for (gsize i = 0; i < length; i++)
    {
      copy[i] ^= 1;
      g_assert_cmpuint (ow_str_hash (base), !=, ow_str_hash (copy));
      copy[i] ^= 1;
      {
        g_autofree char *prefix = g_strndup (base, i);

        g_assert_cmpuint (ow_str_hash (base), !=, ow_str_hash (prefix));
      }
    }
  for (guint i = 0; i < 10000; i++)
    {
      g_autofree char *path = g_strdup_printf ("/oomwatch-test-1234/other/%u", i);
      guint hash = ow_str_hash (path);

      g_hash_table_add (seen, GUINT_TO_POINTER (hash));
      buckets[hash % G_N_ELEMENTS (buckets)]++;
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, 10000);
  for (guint i = 0; i < G_N_ELEMENTS (buckets); i++)
    fullest = MAX (fullest, buckets[i]);
  g_assert_cmpuint (fullest, <, 30); /* ~10 each */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/path/canonical-forms", test_canonical_forms);
  g_test_add_func ("/path/hostile", test_hostile_paths);
  g_test_add_func ("/path/deep", test_deep_path);
  g_test_add_func ("/path/longest-component", test_longest_component);
  g_test_add_func ("/path/open-refuses-symlinks-and-files", test_open_refuses_symlinks_and_files);
  g_test_add_func ("/hierarchy/mountinfo", test_mountinfo);
  g_test_add_func ("/hierarchy/no-memory-controller", test_no_memory_controller);
  g_test_add_func ("/parse/oom-control-and-events", test_oom_control);
  g_test_add_func ("/error/names", test_error_names);
  g_test_add_func ("/hash/strings", test_str_hash);
  g_test_add_func ("/hash/intern", test_str_intern);
  g_test_add_func ("/memory/kept-files", test_memory_kept_files);
  g_test_add_func ("/memory/kept-files-follow-the-name", test_memory_kept_files_follow_the_name);
  return g_test_run ();
}
