/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The insides of the continuity object, shared by ow-continuity.c (numbers, life),
 * ow-continuity-restart.c (what a watch made again is owed), ow-continuity-record.c (the record
 * queue) and ow-continuity-metrics.c (the metrics file, what History() and Metrics() return). */
#pragma once

#include "ow-continuity.h"
#include "ow-counter-store.h"
#include "ow-history-file.h"
#include "ow-metrics-retired.h"

G_BEGIN_DECLS

struct _OwContinuity
{
  OwHierarchy *hierarchy; /* borrowed */
  OwRegistry *registry;   /* borrowed */
  const OwContinuityListener *listener;
  gpointer listener_data;
  GQueue recorded; /* what ow_continuity_record queued, oldest first */
  guint record_timeout_id;
  guint record_delay_ms;
  OwInflight *inflight; /* NULL: marks not kept (cannot map the file) */
  OwSeq *seq;
  OwHistory *history;
  OwHistoryFile *history_file; /* NULL: kept in memory only */
  OwCounterStore *store;
  GHashTable *owed; /* cgroup → OwOwed: what a new watch found missed, to report */
  guint owed_idle_id;
  guint forget_idle_id;
  char *metrics_file;
  char *metrics_written; /* what the file holds now */
  guint metrics_idle_id;
  OwMetricsRetired *retired; /* series of watches that ended */
  guint retired_timeout_id;
};

void ow_continuity_metrics_changed (OwContinuity *self);
void ow_continuity_sent (OwContinuity *self, const char *cgroup, const OwEvent *event);
void ow_continuity_keep (OwContinuity *self, OwHistoryEntry *entry);
gboolean ow_continuity_watched_by (const char *cgroup, guint32 uid, gpointer user_data);
/* ow-continuity-restart.c: the table of what watches made again are owed; an idle callback
 * (USER_DATA: the continuity) dropping the saved state of cgroups removed meanwhile. */
GHashTable *ow_continuity_owed_new (void);
gboolean ow_continuity_forget_removed (gpointer user_data);

G_END_DECLS
