/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-cgroup-monitor.h"
#include "ow-str-intern.h"
#include "ow-str-hash.h"
#include "ow-dir-monitor.h"
#include "ow-fd.h"
#include "ow-log-limit.h"
#include "oomwatch-cgroup.h"
#include "oomwatch-error.h"

#include <sys/inotify.h>
#include <sys/stat.h>

struct _OwCgroupMonitor
{
  OwHierarchy *hierarchy; /* borrowed: outlives the monitor */
  const OwCgroupMonitorListener *listener;
  gpointer user_data;
  OwDirMonitor *dirs;   /* made when first needed */
  GHashTable *removals; /* cgroups watched for removal (a set: their inode is the listener's) */
  GHashTable *followed; /* cgroup → number of follows */
  GHashTable *fresh;    /* newly followed cgroups, to be listed once more */
  guint fresh_id;
  OwLogLimit *overflows; /* a user's mkdir/rmdir loop can overflow the queue again and again */
};

/* Whether CGROUP is still the directory watched. */
static gboolean
still_there (OwCgroupMonitor *self, const char *cgroup)
{
  g_auto (OwFd) fd = ow_hierarchy_open_cgroup (self->hierarchy, cgroup, NULL);
  struct stat st;

  if (fd < 0)
    return FALSE;
  return fstat (fd, &st) < 0
         || (guint64)st.st_ino == self->listener->inode (cgroup, self->user_data);
}

/* An IN_DELETE read after the cgroup was made again, and the new directory already watched
 * (an overflow's rescan got there first), is about the old one: not a removal. */
static void
tell_removed (OwCgroupMonitor *self, const char *cgroup)
{
  if (g_hash_table_contains (self->removals, cgroup) && !still_there (self, cgroup))
    self->listener->removed (cgroup, self->user_data);
}

/* Tells the listener of every child of those of PARENTS still followed. PARENTS must not be
 * the tables' own keys: the listener changes the tables. */
static void
tell_children (OwCgroupMonitor *self, const char *const *parents)
{
  for (gsize i = 0; parents[i] != NULL; i++)
    {
      g_autoptr (GPtrArray) children = NULL;

      if (!g_hash_table_contains (self->followed, parents[i]))
        continue;
      children = ow_hierarchy_list_children (self->hierarchy, parents[i], NULL);
      for (guint j = 0; children != NULL && j < children->len; j++)
        self->listener->created (g_ptr_array_index (children, j), self->user_data);
    }
}

void
ow_cgroup_monitor_rescan (OwCgroupMonitor *self)
{
  g_autofree GStrv watched = (GStrv)g_hash_table_get_keys_as_array (self->removals, NULL);
  g_autofree GStrv followed = (GStrv)g_hash_table_get_keys_as_array (self->followed, NULL);
  g_autoptr (GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) parents = g_strdupv (followed);
  guint dropped = 0;

  if (ow_log_limit_take (self->overflows, 0, g_get_monotonic_time (), &dropped))
    g_warning ("inotify queue overflow: re-checking %u cgroups and %u followed directories (%u "
               "earlier overflows not logged)",
               g_strv_length (watched), g_strv_length (followed), dropped);
  /* Copies first: the listener changes both tables. */
  for (gsize i = 0; watched[i] != NULL; i++)
    if (!still_there (self, watched[i]))
      g_ptr_array_add (gone, g_strdup (watched[i]));
  for (guint i = 0; i < gone->len; i++)
    tell_removed (self, g_ptr_array_index (gone, i));
  tell_children (self, (const char *const *)parents);
}

static void
on_dir_event (const char *dir, const char *name, guint32 mask, gpointer user_data)
{
  OwCgroupMonitor *self = user_data;
  g_autofree char *cgroup = NULL;

  if (mask & IN_Q_OVERFLOW)
    {
      ow_cgroup_monitor_rescan (self);
      return;
    }
  if (!(mask & IN_ISDIR))
    return;
  cgroup = g_build_path ("/", dir, name, NULL);
  if (mask & IN_DELETE)
    {
      if (g_hash_table_contains (self->removals, cgroup))
        tell_removed (self, cgroup);
      /* A child of a followed directory that is not watched (skipped) is told too, so the
       * registry stops listing it. */
      else if (g_hash_table_contains (self->followed, dir))
        self->listener->removed (cgroup, self->user_data);
    }
  else if ((mask & IN_CREATE) && g_hash_table_contains (self->followed, dir))
    self->listener->created (cgroup, self->user_data);
}

static const OwDirMonitorListener dir_listener = {
  .changed = on_dir_event,
};

static gboolean
ensure_dirs (OwCgroupMonitor *self, GError **error)
{
  if (self->dirs == NULL)
    self->dirs = ow_dir_monitor_new (&dir_listener, self, error);
  return self->dirs != NULL;
}

/* MASK: IN_DELETE for the parent of a watched cgroup, IN_CREATE too for a followed one. A
 * parent is not told of its children being made: the siblings of a watch come and go without
 * waking the daemon. */
static gboolean
watch_dir (OwCgroupMonitor *self, const char *cgroup, guint32 mask, GError **error)
{
  g_auto (OwFd) fd = -1;

  if (!ensure_dirs (self, error))
    return FALSE;
  if (ow_dir_monitor_add_user (self->dirs, cgroup, mask))
    return TRUE;
  fd = ow_hierarchy_open_cgroup (self->hierarchy, cgroup, error);
  return fd >= 0 && ow_dir_monitor_add (self->dirs, fd, cgroup, mask, error);
}

gboolean
ow_cgroup_monitor_watch_removal (OwCgroupMonitor *self, const char *cgroup, GError **error)
{
  g_autofree char *parent = oomwatch_cgroup_parent (cgroup);

  if (parent == NULL || g_hash_table_contains (self->removals, cgroup))
    return TRUE; /* the root cgroup is never removed */
  if (!watch_dir (self, parent, IN_DELETE, error))
    return FALSE;
  g_hash_table_add (self->removals, ow_str_intern (cgroup));
  return TRUE;
}

void
ow_cgroup_monitor_unwatch_removal (OwCgroupMonitor *self, const char *cgroup)
{
  g_autofree char *parent = oomwatch_cgroup_parent (cgroup);

  if (parent != NULL && g_hash_table_remove (self->removals, cgroup))
    ow_dir_monitor_remove (self->dirs, parent);
}

/* A child made after the follower listed CGROUP but before its inotify watch was added raised
 * no IN_CREATE (mkdir -p a/b/c under a recursive watch): once the watch is in place, the
 * newly followed cgroups are listed again, when idle, and their children told as created
 * (the listener ignores those it has). */
static gboolean
on_fresh (gpointer user_data)
{
  OwCgroupMonitor *self = user_data;
  /* Swapped out first: telling the listener may follow more cgroups. */
  g_autoptr (GHashTable) fresh = g_steal_pointer (&self->fresh);
  g_autofree GStrv parents = (GStrv)g_hash_table_get_keys_as_array (fresh, NULL);

  self->fresh = g_hash_table_new_full (ow_str_hash, g_str_equal, g_free, NULL);
  self->fresh_id = 0;
  tell_children (self, (const char *const *)parents);
  return G_SOURCE_REMOVE;
}

gboolean
ow_cgroup_monitor_follow_children (OwCgroupMonitor *self, const char *cgroup, GError **error)
{
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (self->followed, cgroup));

  if (count == 0 && !watch_dir (self, cgroup, IN_DELETE | IN_CREATE, error))
    return FALSE;
  g_hash_table_insert (self->followed, g_strdup (cgroup), GUINT_TO_POINTER (count + 1));
  if (count == 0)
    {
      g_hash_table_add (self->fresh, g_strdup (cgroup));
      if (self->fresh_id == 0)
        self->fresh_id = g_idle_add (on_fresh, self);
    }
  return TRUE;
}

void
ow_cgroup_monitor_unfollow_children (OwCgroupMonitor *self, const char *cgroup)
{
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (self->followed, cgroup));

  if (count == 0)
    return;
  if (count > 1)
    g_hash_table_insert (self->followed, g_strdup (cgroup), GUINT_TO_POINTER (count - 1));
  else
    g_hash_table_remove (self->followed, cgroup);
  ow_dir_monitor_remove (self->dirs, cgroup);
}

OwCgroupMonitor *
ow_cgroup_monitor_new (OwHierarchy *hierarchy, const OwCgroupMonitorListener *listener,
                       gpointer user_data)
{
  OwCgroupMonitor *self = g_new0 (OwCgroupMonitor, 1);
  g_autoptr (GError) error = NULL;

  self->hierarchy = hierarchy;
  self->listener = listener;
  self->user_data = user_data;
  self->removals = g_hash_table_new_full (ow_str_hash, g_str_equal,
                                          (GDestroyNotify)g_ref_string_release, NULL);
  self->followed = g_hash_table_new_full (ow_str_hash, g_str_equal, g_free, NULL);
  self->fresh = g_hash_table_new_full (ow_str_hash, g_str_equal, g_free, NULL);
  self->overflows = ow_log_limit_new ();
  /* Made now, not at the first watch: a fixed cost, so fd counts stay flat per watch. */
  if (ow_hierarchy_get_version (hierarchy) != 0 && !ensure_dirs (self, &error))
    g_warning ("%s", error->message);
  return self;
}

void
ow_cgroup_monitor_free (OwCgroupMonitor *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->fresh_id, g_source_remove);
  g_clear_pointer (&self->dirs, ow_dir_monitor_free);
  g_hash_table_unref (self->fresh);
  ow_log_limit_free (self->overflows);
  g_hash_table_unref (self->removals);
  g_hash_table_unref (self->followed);
  g_free (self);
}
