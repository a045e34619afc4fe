/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Follows cgroup directories through the daemon's one inotify fd: the removal of watched
 * cgroups (IN_DELETE on their parent: cgroup v2 wakes no poller on rmdir, and on v1 it keeps
 * a removal in order with a re-creation of the same name) and the creation of children in
 * followed cgroups (recursive watches). After an inotify queue overflow it looks again at
 * everything it follows and reports both what went and what came. */
#pragma once

#include "ow-hierarchy.h"

G_BEGIN_DECLS

typedef struct _OwCgroupMonitor OwCgroupMonitor;

typedef struct
{
  /* CGROUP appeared in a followed directory (possibly reported again after an overflow). */
  void (*created) (const char *cgroup, gpointer user_data);
  /* CGROUP, watched for removal, is gone (or is now another directory). */
  void (*removed) (const char *cgroup, gpointer user_data);
  /* The inode of the directory CGROUP's watch is of (to tell a re-creation after an
   * overflow); 0 when it has none. */
  guint64 (*inode) (const char *cgroup, gpointer user_data);
} OwCgroupMonitorListener;

OwCgroupMonitor *ow_cgroup_monitor_new (OwHierarchy *hierarchy,
                                        const OwCgroupMonitorListener *listener,
                                        gpointer user_data);
void ow_cgroup_monitor_free (OwCgroupMonitor *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwCgroupMonitor, ow_cgroup_monitor_free)

gboolean ow_cgroup_monitor_watch_removal (OwCgroupMonitor *self, const char *cgroup,
                                          GError **error);
void ow_cgroup_monitor_unwatch_removal (OwCgroupMonitor *self, const char *cgroup);
gboolean ow_cgroup_monitor_follow_children (OwCgroupMonitor *self, const char *cgroup,
                                            GError **error);
void ow_cgroup_monitor_unfollow_children (OwCgroupMonitor *self, const char *cgroup);

/* For tests: what an IN_Q_OVERFLOW makes it do. */
void ow_cgroup_monitor_rescan (OwCgroupMonitor *self);

G_END_DECLS
