/* The daemon's one manager object: the D-Bus Manager interface. It owns the hierarchy, the
 * registry of watches and the kernel-log reader, and turns their events into signals. */
#pragma once

#include "ow-hierarchy.h"
#include "ow-registry.h"
#include "oomwatch-generated.h"

G_BEGIN_DECLS

#define OW_TYPE_MANAGER (ow_manager_get_type ())
G_DECLARE_FINAL_TYPE (OwManager, ow_manager, OW, MANAGER, OomwatchManagerSkeleton)

/* KERNEL_LOG: the path of /dev/kmsg, or NULL not to name victims. */
OwManager *ow_manager_new (OwHierarchy *hierarchy, const OwLimits *limits, const char *kernel_log);
gboolean ow_manager_export (OwManager *self, GDBusConnection *connection, GError **error);
void ow_manager_unexport (OwManager *self);

G_END_DECLS
