/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Prometheus metrics of the watched cgroups, for node_exporter's textfile collector and for
 * `oomctl metrics`: oomwatch_ooms_total, oomwatch_oom_kills_total,
 * oomwatch_oom_group_kills_total{cgroup,unit} (and, where known, the labels of
 * kube-state-metrics and cAdvisor: namespace, pod, container, container_id) and the gauge
 * oomwatch_watches. */
#pragma once

#include "ow-counters.h"
#include "oomwatch-container.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  const char *cgroup;
  const guint64 *reported;                /* OW_N_COUNTERS event counts */
  const OomwatchContainerInfo *container; /* NULL: none */
} OwMetricsRow;

typedef enum
{
  OW_METRICS_PROMETHEUS,  /* text format 0.0.4: what the textfile collector reads */
  OW_METRICS_OPENMETRICS, /* OpenMetrics 1.0: families without _total, "# EOF" */
} OwMetricsFormat;

/* ROWS sorted by cgroup. */
char *ow_metrics_render (const OwMetricsRow *rows, guint n_rows, guint watches,
                         OwMetricsFormat format);
/* Writes TEXT to PATH through a temporary file in the same directory and a rename, so that a
 * scrape never reads half a file. */
gboolean ow_metrics_write (const char *path, const char *text, GError **error);

/* The systemd unit a cgroup belongs to: its nearest enclosing *.service or *.scope, or "".
 * One place, so the unit parser of the appnames work can replace it. */
char *ow_metrics_unit_of (const char *cgroup);

G_END_DECLS
