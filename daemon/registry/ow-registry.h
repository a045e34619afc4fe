/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The registry of watches: which connection (and so which uid) watches which cgroups, plainly
 * or as part of a recursive watch; one event source per watched cgroup; the limits. It owns
 * the sources and the cgroup monitor, and knows nothing of D-Bus: it tells its listener of
 * events and removals, and the manager turns them into signals. */
#pragma once

#include "ow-pressure-level.h"
#include "ow-source.h"
#include "ow-victim.h"
#include "ow-watch.h"

G_BEGIN_DECLS

typedef struct
{
  guint client_watch_limit; /* watches all connections of one uid that is not root may hold */
  guint total_watch_limit;  /* cgroups the daemon watches at most */
} OwLimits;

typedef struct
{
  void (*event) (OwWatch *watch, const OwEvent *event, gpointer user_data);
  /* WATCH's cgroup is gone: told just before the watch is dropped with all its watchers. */
  void (*removed) (OwWatch *watch, gpointer user_data);
  /* Continuity: a kernel registration was made for WATCH (before its first sync) / is about
   * to be closed (not at the registry's own end: a daemon that stops keeps its saved
   * counters). Optional. */
  void (*created) (OwWatch *watch, gpointer user_data);
  void (*dropped) (const char *cgroup, gpointer user_data);
  /* CGROUP reached a memory pressure LEVEL: WATCHERS are the names that asked for it; DETAILS
   * is floating. Optional. */
  void (*pressure) (const char *cgroup, const char *level, GPtrArray *watchers, GVariant *details,
                    gpointer user_data);
} OwRegistryListener;

typedef struct _OwRegistry OwRegistry;

/* The client that holds the watches of the configuration file (as root). */
#define OW_PERSISTENT_CLIENT "(config)"

/* CONTEXT is borrowed and must outlive the registry. */
OwRegistry *ow_registry_new (const OwSourceContext *context, const OwLimits *limits,
                             const OwRegistryListener *listener, gpointer user_data);
void ow_registry_free (OwRegistry *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwRegistry, ow_registry_free)

/* With ASK (NULL: nothing more): a pressure level and memory.events kinds to report too. */
gboolean ow_registry_watch_full (OwRegistry *self, const char *client, guint32 uid,
                                 const char *cgroup, gboolean recursive, const OwWatchAsk *ask,
                                 GError **error);
static inline gboolean
ow_registry_watch (OwRegistry *self, const char *client, guint32 uid, const char *cgroup,
                   gboolean recursive, GError **error)
{
  return ow_registry_watch_full (self, client, uid, cgroup, recursive, NULL, error);
}
gboolean ow_registry_unwatch (OwRegistry *self, const char *client, const char *cgroup,
                              GError **error);
void ow_registry_drop_client (OwRegistry *self, const char *client);
void ow_registry_set_limits (OwRegistry *self, const OwLimits *limits);
void ow_registry_set_persistent (OwRegistry *self, const char *const *plain,
                                 const char *const *recursive);

gboolean ow_registry_get_client_uid (OwRegistry *self, const char *client, guint32 *uid);
guint ow_registry_count_for_uid (OwRegistry *self, guint32 uid);
OwWatch *ow_registry_lookup (OwRegistry *self, const char *cgroup);
const OwSourceContext *ow_registry_get_context (OwRegistry *self);
/* Reads CGROUP's counters again at the next idle moment (G_PRIORITY_DEFAULT_IDLE), if it is
 * watched: its source reports what rose, as at a wake-up; it may find the cgroup gone and drop
 * the watch. */
void ow_registry_sync_soon (OwRegistry *self, const char *cgroup);
guint ow_registry_count (OwRegistry *self);
/* The unit and container keys of EVENT on CGROUP: of the victim's (or killed) cgroup when it
 * names one. Borrowed from a watch, or made into *SCRATCH, which the caller frees. */
const OomwatchUnitInfo *ow_registry_units_for (OwRegistry *self, const char *cgroup,
                                               const OwEvent *event, const OwVictim *victim,
                                               OomwatchUnitInfo **scratch);
GVariant *ow_registry_describe (OwRegistry *self);

/* The directory-event entry points of the cgroup monitor, for tests. */
void ow_registry_cgroup_created (OwRegistry *self, const char *cgroup);
void ow_registry_cgroup_removed (OwRegistry *self, const char *cgroup);

G_END_DECLS
