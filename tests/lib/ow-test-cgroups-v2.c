/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgroup v2 for the test harness. v2 lets a cgroup hold processes only while it hands no
 * controller to children, so a test that makes memory cgroups below its own first moves into
 * a leaf of its own cgroup and then enables memory there. That needs a cgroup delegated to the
 * test alone: the systemd guest runs each test in `systemd-run --scope -p Delegate=yes`. */
#include "ow-test-env.h"
#include "ow-test-cgroups.h"
#include "oomwatch-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define LEAF "oomwatch-leaf"

char *
ow_test_cgroups_v2_strip_leaf (const char *own)
{
  if (strcmp (own, "/" LEAF) == 0)
    return g_strdup ("/");
  if (g_str_has_suffix (own, "/" LEAF))
    return g_strndup (own, strlen (own) - strlen ("/" LEAF));
  return g_strdup (own);
}

/* A plain write (cgroupfs takes one write per value); FALSE with errno set on failure. */
static gboolean
write_value (const char *dir, const char *file, const char *value)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  gboolean written;
  int saved;

  if (fd < 0)
    return FALSE;
  written = write (fd, value, strlen (value)) == (ssize_t) strlen (value);
  saved = errno;
  close (fd);
  errno = saved;
  return written;
}

static gboolean
alone_in (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "cgroup.procs", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *self = g_strdup_printf ("%d", (int) getpid ());
  g_auto (GStrv) pids = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return FALSE;
  pids = g_strsplit (g_strstrip (contents), "\n", -1);
  for (gsize i = 0; pids[i] != NULL; i++)
    if (pids[i][0] != '\0' && strcmp (pids[i], self) != 0)
      return FALSE;
  return TRUE;
}

/* Readies the hierarchy for the tests: NULL, or why they cannot make cgroups here. */
const char *
ow_test_cgroups_setup (void)
{
  static char *why;
  g_autofree char *mount = ow_test_cgroups_memory_mount ();
  g_autofree char *own = ow_test_cgroups_own ();
  g_autofree char *dir = NULL;
  g_autofree char *leaf = NULL;

  if (mount == NULL || own == NULL)
    return "no memory cgroup controller is mounted";
  if (ow_test_cgroups_version () == 1)
    return NULL;
  g_clear_pointer (&why, g_free);
  if (strcmp (own, "/") == 0)
    return "cgroup v2: the tests need a delegated cgroup of their own, not the root "
           "(systemd-run --scope -p Delegate=yes ...)";
  dir = g_build_filename (mount, own, NULL);
  leaf = g_build_filename (dir, LEAF, NULL);
  /* Someone else's processes here: this cgroup is not ours to rearrange. */
  if (!alone_in (dir))
    why = g_strdup_printf ("cgroup v2: %s holds other processes: run each test in a delegated "
                           "cgroup of its own (systemd-run --scope -p Delegate=yes ...)",
                           own);
  else if ((g_mkdir (leaf, 0755) < 0 && errno != EEXIST)
           || !write_value (leaf, "cgroup.procs", "0"))
    why = g_strdup_printf ("cgroup v2: cannot move into %s: %s", leaf, g_strerror (errno));
  else if (!write_value (dir, "cgroup.subtree_control", "+memory"))
    why = g_strdup_printf ("cgroup v2: cannot hand the memory controller to the children of %s "
                           "(%s): run each test in a delegated cgroup of its own "
                           "(systemd-run --scope -p Delegate=yes ...)",
                           own, g_strerror (errno));
  return why;
}

/* Makes DIR with the memory controller (enabled in its parent) and LIMIT (e.g. "32M") as
 * memory.max, without swap. */
void
ow_test_cgroups_v2_make (const char *dir, const char *limit)
{
  g_autofree char *parent = g_path_get_dirname (dir);

  /* EBUSY here (the parent holds a process) shows as a missing memory.max below. */
  if (!write_value (parent, "cgroup.subtree_control", "+memory"))
    g_test_message ("cannot enable memory in %s: %s", parent, g_strerror (errno));
  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  if (limit == NULL)
    return;
  ow_test_env_write (dir, "memory.max", limit);
  /* Absent without swap accounting: then there is no swap to limit. */
  write_value (dir, "memory.swap.max", "0");
}

/* For a case that cannot apply to the other hierarchy: skips it, saying why, and returns
 * TRUE unless the tests run on VERSION. */
gboolean
ow_test_cgroups_skip_unless (guint version, const char *why)
{
  g_autofree char *message = NULL;

  if (ow_test_cgroups_version () == version)
    return FALSE;
  message = g_strdup_printf ("cgroup v%u only: %s", version, why);
  g_test_skip (message);
  return TRUE;
}

/* What Watch() of another controller's hierarchy (/sys/fs/cgroup/cpu, …/systemd) answers:
 * on v1 it is a mount, but not the memory one; on v2 there is one hierarchy, where such a
 * path is only a cgroup that does not exist. */
int
ow_test_cgroups_other_controller_error (void)
{
  return ow_test_cgroups_version () == 1 ? OOMWATCH_ERROR_INVALID_CGROUP
                                         : OOMWATCH_ERROR_NO_SUCH_CGROUP;
}

/* The daemon's fd count to compare with after a storm. On v2 the daemon opens its one inotify
 * fd (removals) at the first watch and keeps it: watch and unwatch CGROUP once first. */
guint
ow_test_cgroups_fd_baseline (OwTestEnv *env, const char *cgroup)
{
  g_autoptr (GError) error = NULL;

  if (ow_test_cgroups_version () == 2)
    {
      g_free (ow_test_env_watch (env, NULL, cgroup));
      oomwatch_manager_call_unwatch_sync (env->manager, cgroup, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                          &error);
      g_assert_no_error (error);
    }
  return ow_test_env_count_fds (env);
}
