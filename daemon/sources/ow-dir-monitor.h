/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One inotify fd for the whole daemon, watching cgroup directories by canonical path.
 * (fs.inotify.max_user_instances is small: never one instance per cgroup.) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _OwDirMonitor OwDirMonitor;

typedef struct
{
  /* NAME is the entry inside DIR the event is about; both NULL on IN_Q_OVERFLOW. */
  void (*changed) (const char *dir, const char *name, guint32 mask, gpointer user_data);
} OwDirMonitorListener;

OwDirMonitor *ow_dir_monitor_new (const OwDirMonitorListener *listener, gpointer user_data,
                                  GError **error);
void ow_dir_monitor_free (OwDirMonitor *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwDirMonitor, ow_dir_monitor_free)

/* MASK: the inotify events this user needs; a directory's watch asks for its users' union. */
gboolean ow_dir_monitor_add (OwDirMonitor *self, int dir_fd, const char *dir, guint32 mask,
                             GError **error);
gboolean ow_dir_monitor_add_user (OwDirMonitor *self, const char *dir, guint32 mask);
void ow_dir_monitor_remove (OwDirMonitor *self, const char *dir);

G_END_DECLS
