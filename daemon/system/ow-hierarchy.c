/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-hierarchy.h"
#include "ow-cgroup-path.h"
#include "ow-fd.h"
#include "oomwatch-error.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <dirent.h>
#include <string.h>
#include <unistd.h>

struct _OwHierarchy
{
  guint version; /* 0: no memory controller mounted */
  char *mount_point;
  GStrv other_mounts;
  int root_fd;
  gboolean any_filesystem; /* made by ow_hierarchy_new_for_tests */
  guint32 root_uid;        /* who stands for root as an owner: the tests' own uid */
};

static void
cgroup_mount_free (gpointer data)
{
  OwCgroupMount *mount = data;

  g_free (mount->mount_point);
  g_free (mount);
}

static gboolean
has_option (const char *options, const char *wanted)
{
  g_auto (GStrv) list = g_strsplit (options, ",", -1);

  return g_strv_contains ((const char *const *)list, wanted);
}

/* mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL…] - FSTYPE SOURCE SUPEROPTS" */
GPtrArray *
ow_mountinfo_parse_cgroup_mounts (const char *mountinfo)
{
  g_autoptr (GPtrArray) mounts = g_ptr_array_new_with_free_func (cgroup_mount_free);
  g_auto (GStrv) lines = g_strsplit (mountinfo, "\n", -1);

  for (gsize i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) fields = g_strsplit (lines[i], " ", -1);
      guint n = g_strv_length (fields);
      guint dash = 6;
      OwCgroupMount *mount;

      while (dash < n && strcmp (fields[dash], "-") != 0)
        dash++;
      if (dash + 3 >= n)
        continue;

      if (strcmp (fields[dash + 1], "cgroup") != 0 && strcmp (fields[dash + 1], "cgroup2") != 0)
        continue;

      mount = g_new0 (OwCgroupMount, 1);
      mount->mount_point = g_strcompress (fields[4]); /* undoes the \040 octal escapes */
      mount->version = strcmp (fields[dash + 1], "cgroup2") == 0 ? 2 : 1;
      mount->has_memory = mount->version == 1 && has_option (fields[dash + 3], "memory");
      g_ptr_array_add (mounts, mount);
    }
  return g_steal_pointer (&mounts);
}

static gboolean
cgroup2_has_memory (const char *mount_point)
{
  g_autofree char *path = g_build_filename (mount_point, "cgroup.controllers", NULL);
  g_autofree char *contents = NULL;
  g_auto (GStrv) controllers = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return FALSE;
  controllers = g_strsplit_set (g_strstrip (contents), " \n", -1);
  return g_strv_contains ((const char *const *)controllers, "memory");
}

OwHierarchy *
ow_hierarchy_new_from_system (GError **error)
{
  g_autofree char *mountinfo = NULL;
  g_autoptr (GPtrArray) mounts = NULL;
  g_autoptr (GPtrArray) others = g_ptr_array_new ();
  OwCgroupMount *memory = NULL;

  if (!g_file_get_contents ("/proc/self/mountinfo", &mountinfo, NULL, error))
    return NULL;
  mounts = ow_mountinfo_parse_cgroup_mounts (mountinfo);

  for (guint i = 0; i < mounts->len; i++)
    {
      OwCgroupMount *mount = g_ptr_array_index (mounts, i);

      if (mount->version == 2)
        mount->has_memory = cgroup2_has_memory (mount->mount_point);
      if (mount->has_memory && memory == NULL)
        memory = mount;
      else
        g_ptr_array_add (others, mount->mount_point);
    }
  g_ptr_array_add (others, NULL);

  if (memory == NULL)
    return ow_hierarchy_new (0, NULL, (const char *const *)others->pdata, error);
  return ow_hierarchy_new (memory->version, memory->mount_point, (const char *const *)others->pdata,
                           error);
}

OwHierarchy *
ow_hierarchy_new (guint version, const char *mount_point, const char *const *other_mounts,
                  GError **error)
{
  g_autoptr (OwHierarchy) self = g_new0 (OwHierarchy, 1);

  self->version = version;
  self->mount_point = g_strdup (mount_point);
  self->other_mounts = g_strdupv ((GStrv)other_mounts);
  self->root_fd = -1;

  if (version == 0)
    return g_steal_pointer (&self);
  self->root_fd = open (mount_point, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (self->root_fd < 0)
    {
      oomwatch_set_error_errno (error, errno, "Cannot open %s", mount_point);
      return NULL;
    }
  return g_steal_pointer (&self);
}

OwHierarchy *
ow_hierarchy_new_for_tests (guint version, const char *dir, GError **error)
{
  OwHierarchy *self = ow_hierarchy_new (version, dir, NULL, error);

  if (self != NULL)
    {
      self->any_filesystem = TRUE;
      self->root_uid = (guint32)getuid ();
    }
  return self;
}

/* The owner of a cgroup as the daemon counts it: 0 for root (and, in a test hierarchy, for the
 * uid that made it: its directories are the tests' own). */
guint32
ow_hierarchy_owner (OwHierarchy *self, uid_t uid)
{
  return uid == self->root_uid ? 0 : (guint32)uid;
}

void
ow_hierarchy_free (OwHierarchy *self)
{
  if (self == NULL)
    return;
  ow_fd_close (self->root_fd);
  g_free (self->mount_point);
  g_strfreev (self->other_mounts);
  g_free (self);
}

guint
ow_hierarchy_get_version (OwHierarchy *self)
{
  return self->version;
}

const char *
ow_hierarchy_get_mount_point (OwHierarchy *self)
{
  return self->mount_point;
}

static gboolean
check_supported (OwHierarchy *self, GError **error)
{
  if (self->version != 0)
    return TRUE;
  g_set_error_literal (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NOT_SUPPORTED,
                       "No memory cgroup controller is mounted on this system");
  return FALSE;
}

char *
ow_hierarchy_canonicalize (OwHierarchy *self, const char *input, GError **error)
{
  if (!check_supported (self, error))
    return NULL;
  return ow_cgroup_path_canonicalize (input, self->mount_point,
                                      (const char *const *)self->other_mounts, error);
}

int
ow_hierarchy_open_cgroup (OwHierarchy *self, const char *canonical, GError **error)
{
  if (!check_supported (self, error))
    return -1;
  return ow_cgroup_path_open_dir (self->root_fd, canonical,
                                  self->any_filesystem ? 0
                                  : self->version == 1 ? CGROUP_SUPER_MAGIC
                                                       : CGROUP2_SUPER_MAGIC,
                                  error);
}

/* The file NAME of CANONICAL, read-only, in one openat2: for a wake-up's hot path. */
int
ow_hierarchy_open_cgroup_file (OwHierarchy *self, const char *canonical, const char *name,
                               GError **error)
{
  if (!check_supported (self, error))
    return -1;
  return ow_cgroup_path_open_file (self->root_fd, canonical, name, error);
}

/* TRUE: CANONICAL names the directory ST was taken of (not one renamed away, or removed and
 * made again). A lookup of metadata only: a mismatch just makes the caller open anew. */
gboolean
ow_hierarchy_cgroup_is (OwHierarchy *self, const char *canonical, const struct stat *st)
{
  struct stat now;

  return self->version != 0
         && fstatat (self->root_fd, canonical[1] != '\0' ? canonical + 1 : ".", &now,
                     AT_SYMLINK_NOFOLLOW)
                == 0
         && now.st_dev == st->st_dev && now.st_ino == st->st_ino;
}

/* The canonical paths of the child cgroups of CANONICAL. */
GPtrArray *
ow_hierarchy_list_children (OwHierarchy *self, const char *canonical, GError **error)
{
  g_autoptr (GPtrArray) children = g_ptr_array_new_with_free_func (g_free);
  g_auto (OwFd) path_fd = ow_hierarchy_open_cgroup (self, canonical, error);
  g_auto (OwFd) dir_fd = -1;
  DIR *dir;
  struct dirent *entry;

  if (path_fd < 0)
    return NULL;
  dir_fd = openat (path_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  dir = dir_fd >= 0 ? fdopendir (dir_fd) : NULL;
  if (dir == NULL)
    {
      oomwatch_set_error_errno (error, errno, "Cannot list cgroup '%s'", canonical);
      return NULL;
    }
  ow_fd_steal (&dir_fd); /* the DIR owns it now */
  while ((entry = readdir (dir)) != NULL)
    if (entry->d_type == DT_DIR && strcmp (entry->d_name, ".") != 0
        && strcmp (entry->d_name, "..") != 0)
      g_ptr_array_add (children, g_build_path ("/", canonical, entry->d_name, NULL));
  closedir (dir);
  return g_steal_pointer (&children);
}

GStrv
ow_hierarchy_canonicalize_all (OwHierarchy *self, GStrv paths)
{
  g_autoptr (GPtrArray) canonical = g_ptr_array_new_with_free_func (g_free);

  for (gsize i = 0; paths[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      char *path = ow_hierarchy_canonicalize (self, paths[i], &error);

      if (path == NULL)
        g_warning ("Persistent watch of %s: %s", paths[i], error->message);
      else
        g_ptr_array_add (canonical, path);
    }
  g_ptr_array_add (canonical, NULL);
  return (GStrv)g_ptr_array_steal (canonical, NULL);
}
