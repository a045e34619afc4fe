#include "ow-hierarchy.h"
#include "ow-cgroup-path.h"
#include "ow-fd.h"
#include "ow-dir-monitor.h"
#include "ow-v1-source.h"
#include "ow-v2-source.h"
#include "oomwatch-error.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <dirent.h>
#include <string.h>
#include <sys/inotify.h>

struct _OwHierarchy
{
  guint version; /* 0: no memory controller mounted */
  char *mount_point;
  GStrv other_mounts;
  int root_fd;
  OwDirMonitor *dir_monitor;    /* made when first needed */
  OwFdMux *fd_mux;              /* the sources' fds */
  GHashTable *removal_watchers; /* canonical → OwSource (borrowed) */
  OwCgroupCreatedFunc created_func;
  gpointer created_data;
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

  return g_strv_contains ((const char *const *) list, wanted);
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
  return g_strv_contains ((const char *const *) controllers, "memory");
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
    return ow_hierarchy_new (0, NULL, (const char *const *) others->pdata, error);
  return ow_hierarchy_new (memory->version, memory->mount_point,
                           (const char *const *) others->pdata, error);
}

OwHierarchy *
ow_hierarchy_new (guint version, const char *mount_point, const char *const *other_mounts,
                  GError **error)
{
  g_autoptr (OwHierarchy) self = g_new0 (OwHierarchy, 1);

  self->version = version;
  self->mount_point = g_strdup (mount_point);
  self->other_mounts = g_strdupv ((GStrv) other_mounts);
  self->root_fd = -1;
  self->removal_watchers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (version == 0)
    return g_steal_pointer (&self);

  /* Made now, not at the first watch: a fixed cost, so fd counts stay flat per watch. */
  self->fd_mux = ow_fd_mux_new (error);
  if (self->fd_mux == NULL)
    return NULL;
  self->root_fd = open (mount_point, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (self->root_fd < 0)
    {
      int saved = errno;

      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED, "Cannot open %s: %s",
                   mount_point, g_strerror (saved));
      return NULL;
    }
  return g_steal_pointer (&self);
}

void
ow_hierarchy_free (OwHierarchy *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->dir_monitor, ow_dir_monitor_free);
  g_clear_pointer (&self->fd_mux, ow_fd_mux_free);
  g_clear_pointer (&self->removal_watchers, g_hash_table_unref);
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

guint
ow_hierarchy_poll_fd (OwHierarchy *self, int fd, guint32 events, OwFdMuxFunc func,
                      gpointer user_data, GError **error)
{
  if (!check_supported (self, error))
    return 0;
  return ow_fd_mux_add (self->fd_mux, fd, events, func, user_data, error);
}

/* Stops polling *ID (0: nothing to do) and clears it. */
void
ow_hierarchy_unpoll_fd (OwHierarchy *self, guint *id)
{
  if (*id != 0 && self->fd_mux != NULL)
    ow_fd_mux_remove (self->fd_mux, *id);
  *id = 0;
}

char *
ow_hierarchy_canonicalize (OwHierarchy *self, const char *input, GError **error)
{
  if (!check_supported (self, error))
    return NULL;
  return ow_cgroup_path_canonicalize (input, self->mount_point,
                                      (const char *const *) self->other_mounts, error);
}

int
ow_hierarchy_open_cgroup (OwHierarchy *self, const char *canonical, GError **error)
{
  if (!check_supported (self, error))
    return -1;
  return ow_cgroup_path_open_dir (self->root_fd, canonical,
                                  self->version == 1 ? CGROUP_SUPER_MAGIC : CGROUP2_SUPER_MAGIC,
                                  error);
}

/* bench (issue 13): the wake-up path opens memory.oom_control in one step. */
int
ow_hierarchy_open_cgroup_file (OwHierarchy *self, const char *canonical, const char *name,
                               GError **error)
{
  if (!check_supported (self, error))
    return -1;
  return ow_cgroup_path_open_file (self->root_fd, canonical, name, error);
}

OwSource *
ow_hierarchy_create_source (OwHierarchy *self,
                            const char *canonical,
                            const OwSourceCallbacks *callbacks,
                            gpointer user_data,
                            GError **error)
{
  if (!check_supported (self, error))
    return NULL;
  if (self->version == 1)
    return ow_v1_source_new (self, canonical, callbacks, user_data, error);
  return ow_v2_source_new (self, canonical, callbacks, user_data, error);
}

/* Removal tracking: IN_DELETE on the parent directories, through one inotify fd. */

static void
tell_removed (OwHierarchy *self, const char *canonical)
{
  OwSource *source = g_hash_table_lookup (self->removal_watchers, canonical);

  if (source != NULL)
    ow_source_emit_removed (source); /* frees the source, which unwatches */
}

static void
on_dir_event (const char *dir, const char *name, guint32 mask, gpointer user_data)
{
  OwHierarchy *self = user_data;

  if (mask & IN_Q_OVERFLOW)
    {
      /* Events were lost: look for every watched cgroup again. */
      g_autofree GStrv watched = (GStrv) g_hash_table_get_keys_as_array (self->removal_watchers,
                                                                         NULL);

      g_warning ("inotify queue overflow: re-checking %u cgroups", g_strv_length (watched));
      for (gsize i = 0; watched[i] != NULL; i++)
        {
          g_autoptr (GError) error = NULL;
          g_autofree char *canonical = g_strdup (watched[i]);
          g_auto (OwFd) fd = ow_hierarchy_open_cgroup (self, canonical, &error);

          if (fd < 0 && g_error_matches (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NO_SUCH_CGROUP))
            tell_removed (self, canonical);
        }
    }
  else if ((mask & IN_DELETE) && (mask & IN_ISDIR))
    {
      g_autofree char *canonical = g_build_path ("/", dir, name, NULL);

      tell_removed (self, canonical);
    }
  else if ((mask & IN_CREATE) && (mask & IN_ISDIR) && self->created_func != NULL)
    {
      g_autofree char *canonical = g_build_path ("/", dir, name, NULL);

      self->created_func (canonical, self->created_data);
    }
}

static gboolean
ensure_dir_monitor (OwHierarchy *self, GError **error)
{
  if (self->dir_monitor == NULL)
    self->dir_monitor = ow_dir_monitor_new (IN_DELETE | IN_CREATE, on_dir_event, self, error);
  return self->dir_monitor != NULL;
}

static gboolean
monitor_dir (OwHierarchy *self, const char *canonical, GError **error)
{
  g_auto (OwFd) fd = -1;

  if (!ensure_dir_monitor (self, error))
    return FALSE;
  fd = ow_hierarchy_open_cgroup (self, canonical, error);
  return fd >= 0 && ow_dir_monitor_add (self->dir_monitor, fd, canonical, error);
}

static char *
parent_of (const char *canonical)
{
  if (strcmp (canonical, "/") == 0)
    return NULL;
  return g_path_get_dirname (canonical);
}

gboolean
ow_hierarchy_watch_removal (OwHierarchy *self, const char *canonical, OwSource *source,
                            GError **error)
{
  g_autofree char *parent = parent_of (canonical);

  if (parent == NULL)
    return TRUE; /* the root cgroup is never removed */
  if (!monitor_dir (self, parent, error))
    return FALSE;
  g_hash_table_insert (self->removal_watchers, g_strdup (canonical), source);
  return TRUE;
}

void
ow_hierarchy_unwatch_removal (OwHierarchy *self, const char *canonical)
{
  g_autofree char *parent = parent_of (canonical);

  if (parent == NULL || !g_hash_table_remove (self->removal_watchers, canonical))
    return;
  ow_dir_monitor_remove (self->dir_monitor, parent);
}

void
ow_hierarchy_set_created_func (OwHierarchy *self, OwCgroupCreatedFunc func, gpointer user_data)
{
  self->created_func = func;
  self->created_data = user_data;
}

gboolean
ow_hierarchy_watch_children (OwHierarchy *self, const char *canonical, GError **error)
{
  return check_supported (self, error) && monitor_dir (self, canonical, error);
}

void
ow_hierarchy_unwatch_children (OwHierarchy *self, const char *canonical)
{
  if (self->dir_monitor != NULL)
    ow_dir_monitor_remove (self->dir_monitor, canonical);
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
      int saved = errno;

      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED, "Cannot list cgroup '%s': %s",
                   canonical, g_strerror (saved));
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
