/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Scratch memory cgroups for the tests: found, made, written, emptied and removed. Tests only
 * ever touch cgroups they made, below their own. */
#include "ow-test-env.h"
#include "ow-test-cgroups.h"
#include "ow-hierarchy.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

/* The memory hierarchy the daemon will use (the v1 memory mount on the host, cgroup2 in the
 * systemd guest): its mount (NULL: none), and 1 or 2 as VERSION (0: none). Found once: mounts
 * do not change under a test. */
static const char *
find_memory_mount (guint *version)
{
  static gsize found;
  static guint memory_version;
  static char *memory_mount;

  if (g_once_init_enter (&found))
    {
      g_autoptr (OwHierarchy) hierarchy = ow_hierarchy_new_from_system (NULL);

      memory_version = hierarchy != NULL ? ow_hierarchy_get_version (hierarchy) : 0;
      if (memory_version != 0)
        memory_mount = g_strdup (ow_hierarchy_get_mount_point (hierarchy));
      g_once_init_leave (&found, 1);
    }
  *version = memory_version;
  return memory_mount;
}

char *
ow_test_cgroups_memory_mount (void)
{
  guint version;

  return g_strdup (find_memory_mount (&version));
}

/* 1 or 2: the hierarchy the tests make cgroups in; 0: none. */
guint
ow_test_cgroups_version (void)
{
  guint version;

  find_memory_mount (&version);
  return version;
}

/* Our own memory cgroup, from /proc/self/cgroup ("4:memory:/a/b" on v1, "0::/a/b" on v2; on
 * v2 the leaf the tests moved into is not ours to build in: its parent is). */
char *
ow_test_cgroups_own (void)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  gboolean v2 = ow_test_cgroups_version () == 2;

  if (!g_file_get_contents ("/proc/self/cgroup", &contents, NULL, NULL))
    return NULL;
  lines = g_strsplit (contents, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) fields = g_strsplit (lines[i], ":", 3);
      g_auto (GStrv) controllers = NULL;

      if (g_strv_length (fields) != 3)
        continue;
      if (v2 && strcmp (fields[0], "0") == 0 && fields[1][0] == '\0')
        return ow_test_cgroups_v2_strip_leaf (fields[2]);
      controllers = g_strsplit (fields[1], ",", -1);
      if (!v2 && g_strv_contains ((const char *const *) controllers, "memory"))
        return g_strdup (fields[2]);
    }
  return NULL;
}

void
ow_test_cgroups_remove_tree (const char *dir)
{
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  g_autofree char *procs_path = g_build_filename (dir, "cgroup.procs", NULL);
  const char *entry;

  while (listing != NULL && (entry = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *child = g_build_filename (dir, entry, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        ow_test_cgroups_remove_tree (child);
    }

  for (int attempt = 0; attempt < 500; attempt++)
    {
      g_autofree char *procs = NULL;
      g_auto (GStrv) pids = NULL;

      if (!g_file_get_contents (procs_path, &procs, NULL, NULL) || procs[0] == '\0')
        break;
      /* Paused tasks can only die once they may run; v2 has no pausing. */
      if (ow_test_cgroups_version () == 1)
        ow_test_env_write (dir, "memory.oom_control", "0");
      pids = g_strsplit (g_strstrip (procs), "\n", -1);
      for (gsize i = 0; pids[i] != NULL; i++)
        kill ((pid_t) g_ascii_strtoll (pids[i], NULL, 10), SIGKILL);
      g_usleep (10000);
    }
  if (g_rmdir (dir) < 0 && errno != ENOENT)
    g_printerr ("cannot remove %s: %s\n", dir, g_strerror (errno));
}

/* Scratch cgroups of earlier test runs that died (their pid is gone). Only ours. */
void
ow_test_cgroups_remove_stale (const char *mount, const char *own)
{
  g_autofree char *parent = g_build_filename (mount, own, NULL);
  g_autoptr (GDir) listing = g_dir_open (parent, 0, NULL);
  const char *entry;

  while (listing != NULL && (entry = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *proc = NULL;
      g_autofree char *dir = NULL;

      if (!g_str_has_prefix (entry, "oomwatch-test-"))
        continue;
      proc = g_strdup_printf ("/proc/%s", entry + strlen ("oomwatch-test-"));
      if (g_file_test (proc, G_FILE_TEST_EXISTS))
        continue;
      dir = g_build_filename (parent, entry, NULL);
      ow_test_cgroups_remove_tree (dir);
    }
}

char *
ow_test_env_cgroup_path (OwTestEnv *env, const char *name)
{
  return g_build_filename (env->cgroup_dir, name, NULL);
}

char *
ow_test_env_canonical (OwTestEnv *env, const char *name)
{
  return g_build_path ("/", env->cgroup_base, name, NULL);
}

void
ow_test_env_write (const char *dir, const char *file, const char *value)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);

  /* g_file_set_contents() would write a temporary file: cgroupfs needs a plain write. */
  FILE *stream = fopen (path, "we");

  g_assert_nonnull (stream);
  fputs (value, stream);
  g_assert_cmpint (fclose (stream), ==, 0);
}

/* Makes a child cgroup with a memory limit (e.g. "32M"), optionally oom_kill_disable. */
char *
ow_test_env_make_cgroup (OwTestEnv *env, const char *name, const char *limit, gboolean kill_disable)
{
  g_autofree char *dir = ow_test_env_cgroup_path (env, name);

  if (ow_test_cgroups_version () == 2)
    {
      /* No oom_kill_disable on v2: tests that need it skip there first. */
      g_assert_false (kill_disable);
      ow_test_cgroups_v2_make (dir, limit);
      return ow_test_env_canonical (env, name);
    }
  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  if (limit != NULL)
    ow_test_env_write (dir, "memory.limit_in_bytes", limit);
  if (kill_disable)
    ow_test_env_write (dir, "memory.oom_control", "1");
  return ow_test_env_canonical (env, name);
}

/* A counter of memory.oom_control (v1) or, for the keys both have (oom_kill), of
 * memory.events (v2). */
guint64
ow_test_env_oom_control (OwTestEnv *env, const char *name, const char *key)
{
  g_autofree char *dir = ow_test_env_cgroup_path (env, name);
  gboolean v2 = ow_test_cgroups_version () == 2;
  g_autofree char *path = g_build_filename (dir, v2 ? "memory.events" : "memory.oom_control", NULL);
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], key) && lines[i][strlen (key)] == ' ')
      return g_ascii_strtoull (lines[i] + strlen (key) + 1, NULL, 10);
  g_assert_not_reached ();
}

/* Starts a hog in cgroup NAME that allocates MIB MiB. */
GSubprocess *
ow_test_env_hog (OwTestEnv *env, const char *name, guint mib)
{
  g_autofree char *dir = ow_test_env_cgroup_path (env, name);
  g_autofree char *size = g_strdup_printf ("%u", mib);
  const char *argv[] = { g_getenv ("OOM_HOG"), dir, size, NULL };

  return ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_STDOUT_SILENCE, argv);
}

/* Kills in NAME until its kill counter rose by N: hogs of MIB MiB, PARALLEL at a time, each
 * killed once (NAME's limit is below MIB). */
void
ow_test_env_storm (OwTestEnv *env, const char *name, guint64 n, guint mib, guint parallel)
{
  g_autoptr (GPtrArray) hogs = g_ptr_array_new_with_free_func (g_object_unref);
  guint64 target = ow_test_env_oom_control (env, name, "oom_kill") + n;
  gint64 until = g_get_monotonic_time () + 240 * G_TIME_SPAN_SECOND;

  while (ow_test_env_oom_control (env, name, "oom_kill") < target
         && g_get_monotonic_time () < until)
    {
      for (guint i = 0; i < hogs->len;)
        if (g_subprocess_get_identifier (g_ptr_array_index (hogs, i)) == NULL)
          g_ptr_array_remove_index_fast (hogs, i);
        else
          i++;
      while (hogs->len < parallel
             && ow_test_env_oom_control (env, name, "oom_kill") + hogs->len < target)
        g_ptr_array_add (hogs, ow_test_env_hog (env, name, mib));
      ow_test_env_iterate (2);
    }
  while (hogs->len > 0)
    {
      ow_test_env_wait_process (g_ptr_array_index (hogs, hogs->len - 1));
      g_ptr_array_remove_index (hogs, hogs->len - 1);
    }
  g_assert_cmpuint (ow_test_env_oom_control (env, name, "oom_kill"), ==, target);
}
