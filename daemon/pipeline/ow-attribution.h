/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kill attribution: which victims the kernel log named go with a rise of a kill counter, and
 * which watched cgroups hear of a kill. Counts always come from the counters; a victim is
 * reported at most once per cgroup (the claim ledger). On cgroup v1 the kernel counts a kill
 * only in the victim's own cgroup, so watched ancestors get the same kills from here: exactly
 * when the victim's cgroup is watched, else from the kernel log alone. Pure bookkeeping: it
 * returns reports and the manager sends them. */
#pragma once

#include "ow-event.h"
#include "ow-victim.h"

G_BEGIN_DECLS

typedef struct
{
  char *cgroup;
  OwEvent event;
  OwVictim *victim; /* a reference, or NULL when the log did not name one */
} OwReport;

void ow_report_free (OwReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwReport, ow_report_free)

typedef struct
{
  gboolean (*is_watched) (const char *cgroup, gpointer user_data);
} OwAttributionLookup;

typedef struct _OwAttribution OwAttribution;

OwAttribution *ow_attribution_new (guint hierarchy, const OwAttributionLookup *lookup,
                                   gpointer user_data);
void ow_attribution_free (OwAttribution *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwAttribution, ow_attribution_free)

/* Remembers VICTIM (a reference) for a while, to go with the counter rise that follows. */
void ow_attribution_add_victim (OwAttribution *self, OwVictim *victim);
/* Forgets every victim (the kernel log is no longer read). */
void ow_attribution_clear (OwAttribution *self);

/* The reports for EVENT, a rise of CGROUP's kill counter: one per named victim, one for the
 * rest; on v1 also for the watched ancestors. */
GPtrArray *ow_attribution_kills (OwAttribution *self, const char *cgroup, const OwEvent *event);
/* v1: the reports of VICTIM's kill for watched ancestors of its cgroup that have not had it. */
GPtrArray *ow_attribution_victim_ancestors (OwAttribution *self, OwVictim *victim);

G_END_DECLS
