/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One watched cgroup: its event source, the connections watching it, and its counts. */
#pragma once

#include "ow-event.h"
#include "ow-source.h"
#include "oomwatch-unit.h"

#include <gio/gio.h>

G_BEGIN_DECLS

/* What a watched cgroup's children have told of, against its hierarchical counters: lets
 * the registry tell a child removed before its last events were read what they were
 * (ow-registry-ledger.c). */
typedef struct
{
  gboolean open;     /* BASE holds: the children's events are accounted from here on */
  gboolean refused;  /* a child is not watched, or the counters do not add up: never again */
  gboolean settling; /* reading the children; a child that dies meanwhile is not told */
  gboolean unwatched_child; /* closed for a child not watched: not retried until one goes */
  guint died_meanwhile;
  guint64 base[OW_N_COUNTERS];     /* the descendants' share when the ledger opened */
  guint64 reported[OW_N_COUNTERS]; /* told on the children since */
} OwChildLedger;

typedef struct
{
  char *cgroup;
  OwSource *source;
  /* NULL until a watcher asks for pressure or events (ow-pressure.h); the registry frees it */
  struct _OwPressure *pressure;
  GHashTable *watchers; /* unique bus names (and the persistent pseudo-client) */
  guint64 oom_count;
  guint64 oom_kill_count;
  gint64 since;
  gboolean children_followed; /* new child cgroups are followed (recursive watches) */
  gboolean removal_watched;
  /* The unit and app keys of cgroup, parsed at first use (ow_watch_units): most watches never
   * have an event. Until then the container, where known, waits in container. */
  OomwatchUnitInfo *units;
  OomwatchContainerInfo *container;
  OwChildLedger *ledger;      /* NULL until it is a parent to the ledger (ow_watch_ledger) */
} OwWatch;

OwWatch *ow_watch_new (const char *cgroup);
void ow_watch_free (OwWatch *watch);
OwChildLedger *ow_watch_ledger (OwWatch *watch);
OomwatchUnitInfo *ow_watch_units (OwWatch *watch);
OomwatchContainerInfo *ow_watch_container (OwWatch *watch);
OomwatchContainerInfo *ow_watch_steal_container (OwWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwWatch, ow_watch_free)

void ow_watch_count (OwWatch *watch, const OwEvent *event);

G_END_DECLS
