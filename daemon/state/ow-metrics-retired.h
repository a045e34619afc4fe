/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The metrics series of cgroups no longer watched (removed, or unwatched), kept a while so
 * that a scrape still sees a short-lived container's last count, then dropped: cardinality
 * stays bounded by the watches plus what ended within the retention (at most
 * OW_METRICS_RETIRED_MAX). Only series that counted something are kept. */
#pragma once

#include "ow-metrics.h"

G_BEGIN_DECLS

#define OW_METRICS_RETIRED_MAX 4096

typedef struct _OwMetricsRetired OwMetricsRetired;

OwMetricsRetired *ow_metrics_retired_new (void);
void ow_metrics_retired_free (OwMetricsRetired *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwMetricsRetired, ow_metrics_retired_free)

void ow_metrics_retired_set_retention (OwMetricsRetired *self, guint seconds);
void ow_metrics_retired_add (OwMetricsRetired *self, const char *cgroup,
                             const OomwatchContainerInfo *container, const guint64 *reported);
/* CGROUP is watched again: its live series replaces the kept one. */
void ow_metrics_retired_forget (OwMetricsRetired *self, const char *cgroup);
/* Drops what expired, appends a row for each series kept to ROWS (OwMetricsRow, valid until
 * the next change) and returns when the next one expires (monotonic µs; 0: none kept). */
gint64 ow_metrics_retired_rows (OwMetricsRetired *self, GArray *rows);

G_END_DECLS
