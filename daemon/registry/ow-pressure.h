/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the watchers of one cgroup asked for besides OOM events: a memory pressure level
 * and (v2) memory.events high/max. Held by the OwWatch of that cgroup.
 *
 * Sharing: a watcher asking for level L gets L and every level above it, so the cgroup has
 * one kernel registration (one fd) for each level from the lowest any watcher asked for up
 * to critical: low costs 3 fds, medium 2, critical 1. They are needed apart because neither
 * kernel interface says which level fired (v1 signals a "low" eventfd at every level; a PSI
 * trigger has one threshold). Each report goes to the watchers whose level is at or below
 * the level that fired. */
#pragma once

#include "ow-event.h"
#include "ow-pressure-level.h"
#include "ow-pressure-source.h"

G_BEGIN_DECLS

typedef struct _OwPressure OwPressure;

typedef struct
{
  /* CGROUP reached LEVEL: WATCHERS are the names that asked for it; DETAILS is floating. */
  void (*report) (const char *cgroup, const char *level, GPtrArray *watchers, GVariant *details,
                  gpointer user_data);
} OwPressureListener;

/* HIERARCHY and MUX are borrowed and outlive it. */
OwPressure *ow_pressure_new (OwHierarchy *hierarchy, OwFdMux *mux, const char *cgroup,
                             const OwPressureListener *listener, gpointer user_data);
void ow_pressure_free (OwPressure *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwPressure, ow_pressure_free)

/* Sets what NAME asks for here (nothing: forgets it), arming or disarming the kernel as
 * needed; on failure nothing changes. */
gboolean ow_pressure_set (OwPressure *self, const char *name, const OwWatchAsk *ask,
                          GError **error);
void ow_pressure_get (OwPressure *self, const char *name, OwWatchAsk *ask);
/* The fds the kernel registrations hold now (SELF may be NULL), and how many more ASK would
 * need at most. */
guint ow_pressure_fd_count (OwPressure *self);
guint ow_pressure_fds_needed (OwPressure *self, const OwWatchAsk *ask);
gboolean ow_pressure_wants_event (OwPressure *self, const char *name, OwEventKind kind);
void ow_pressure_describe (OwPressure *self, GVariantDict *dict);

G_END_DECLS
