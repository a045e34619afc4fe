/* The daemon's one manager object: the D-Bus Manager interface, the clients, and the
 * registry of watched cgroups. */
#pragma once

#include "ow-hierarchy.h"
#include "oomwatch-generated.h"

G_BEGIN_DECLS

#define OW_TYPE_MANAGER (ow_manager_get_type ())
G_DECLARE_FINAL_TYPE (OwManager, ow_manager, OW, MANAGER, OomwatchManagerSkeleton)

typedef struct
{
  guint client_watch_limit; /* for connections that are not root */
  guint total_watch_limit;
} OwLimits;

OwManager *ow_manager_new (OwHierarchy *hierarchy, const OwLimits *limits);
gboolean ow_manager_export (OwManager *self, GDBusConnection *connection, GError **error);
void ow_manager_unexport (OwManager *self);

G_END_DECLS
