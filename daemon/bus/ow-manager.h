/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's one manager object: the D-Bus Manager interface. It owns the hierarchy, the
 * registry of watches and the reporter, answers the methods, and keeps the bus guard. */
#pragma once

#include "ow-config.h"
#include "ow-hierarchy.h"
#include "oomwatch-generated.h"

G_BEGIN_DECLS

#define OW_TYPE_MANAGER (ow_manager_get_type ())
G_DECLARE_FINAL_TYPE (OwManager, ow_manager, OW, MANAGER, OomwatchManagerSkeleton)

typedef struct
{
  const char *config_path;     /* oomwatch.conf; a missing file means the defaults */
  const char *kernel_log_path; /* /dev/kmsg */
  const OwConfig *overrides;   /* from the command line: win over the file */
  guint fd_watch_limit;        /* what RLIMIT_NOFILE allows */
  const char *runtime_dir;     /* continuity: seq and saved counters; NULL: /run/oomwatch */
} OwManagerSettings;

OwManager *ow_manager_new (OwHierarchy *hierarchy, const OwManagerSettings *settings,
                           GError **error);
gboolean ow_manager_reload (OwManager *self, GError **error);
gboolean ow_manager_export (OwManager *self, GDBusConnection *connection, GError **error);
void ow_manager_unexport (OwManager *self);

G_END_DECLS
