/* The registry of watches: which connection watches which cgroups (plainly or as part of a
 * recursive watch), one event source per watched cgroup, and the limits. It knows nothing of
 * D-Bus; the manager turns its callbacks into signals. */
#pragma once

#include "ow-hierarchy.h"
#include "ow-watch.h"

G_BEGIN_DECLS

typedef struct
{
  guint client_watch_limit; /* for connections that are not root */
  guint total_watch_limit;
} OwLimits;

typedef struct
{
  void (*event) (OwWatch *watch, const OwEvent *event, gpointer user_data);
  /* The cgroup is gone; every watch on it has been dropped. */
  void (*removed) (const char *cgroup, gpointer user_data);
  /* nogaps hooks: a kernel registration was made for WATCH / is about to be closed (not at
   * the registry's own end: a daemon that stops keeps its saved counters). */
  void (*created) (OwWatch *watch, gpointer user_data);
  void (*dropped) (const char *cgroup, gpointer user_data);
} OwRegistryCallbacks;

typedef struct _OwRegistry OwRegistry;

/* The client that holds the watches of the configuration file. */
#define OW_PERSISTENT_CLIENT "(config)"

OwRegistry *ow_registry_new (OwHierarchy *hierarchy,
                             const OwLimits *limits,
                             const OwRegistryCallbacks *callbacks,
                             gpointer user_data);
void ow_registry_free (OwRegistry *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwRegistry, ow_registry_free)

gboolean ow_registry_get_client_uid (OwRegistry *self, const char *client, guint32 *uid);
void ow_registry_set_client_uid (OwRegistry *self, const char *client, guint32 uid);

gboolean ow_registry_watch (OwRegistry *self, const char *client, const char *cgroup,
                            gboolean recursive, GError **error);
gboolean ow_registry_unwatch (OwRegistry *self, const char *client, const char *cgroup,
                              GError **error);
void ow_registry_drop_client (OwRegistry *self, const char *client);
void ow_registry_set_limits (OwRegistry *self, const OwLimits *limits);
void ow_registry_set_persistent (OwRegistry *self, const char *const *plain,
                                 const char *const *recursive);

OwWatch *ow_registry_lookup (OwRegistry *self, const char *cgroup);
guint ow_registry_count (OwRegistry *self);
GVariant *ow_registry_describe (OwRegistry *self);

G_END_DECLS
