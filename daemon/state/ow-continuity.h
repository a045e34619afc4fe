/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Continuity: what lets clients and the daemon itself be restarted without losing events.
 * Every signal gets a daemon-wide sequence number (ow-seq), is kept in a bounded history
 * (ow-history) that History() serves under the signals' privacy rules, counts towards the
 * metrics (ow-metrics), and moves the saved counters (ow-counter-store) from which a watch
 * made again after a restart reports what happened while the daemon was down. It is the
 * dispatcher's record stage (ow-continuity-record.c) and never calls back into the pipeline:
 * what a restart missed it hands over through its listener, as any producer does. */
#pragma once

#include "ow-hierarchy.h"
#include "ow-history.h"
#include "ow-inflight.h"
#include "ow-metrics.h"
#include "ow-registry.h"
#include "ow-seq.h"
#include "ow-victim.h"

#include <gio/gio.h>

G_BEGIN_DECLS

#define OW_DEFAULT_RUNTIME_DIR "/run/oomwatch"
#define OW_DEFAULT_HISTORY_SIZE 1024
#define OW_DEFAULT_METRICS_RETENTION 600 /* seconds */
/* Bounds memory (and a History() answer, well under the bus's message limit). */
#define OW_MAX_HISTORY_SIZE 65536u
#define OW_RECORD_DELAY_MS 2
/* Tests only: another delay, to hold records back across a SIGKILL. */
#define OW_RECORD_DELAY_ENV "OOMWATCH_TEST_RECORD_DELAY_MS"

typedef struct _OwContinuity OwContinuity;

typedef struct
{
  /* A watch made again found that CGROUP's EVENT (while_down set) happened while the daemon
   * was not running; told at an idle moment after the watch was made. */
  void (*missed) (const char *cgroup, const OwEvent *event, gpointer user_data);
} OwContinuityListener;

/* HIERARCHY and REGISTRY are borrowed and outlive it. */
OwContinuity *ow_continuity_new (const char *runtime_dir, const char *boot_id_path,
                                 OwHierarchy *hierarchy, OwRegistry *registry,
                                 const OwContinuityListener *listener, gpointer user_data,
                                 GError **error);
void ow_continuity_free (OwContinuity *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwContinuity, ow_continuity_free)

/* From oomwatch.conf: HistorySize= and MetricsFile= (NULL: no file). */
void ow_continuity_configure (OwContinuity *self, guint history_size, const char *metrics_file);
/* How long the series of a watch that ended stays in the metrics (0: not at all; -1: the
 * default). */
void ow_continuity_set_metrics_retention (OwContinuity *self, int seconds);

/* The number of the next signal. */
guint64 ow_continuity_next_seq (OwContinuity *self);
/* The history entry of the OomEvent numbered SEQ sent at TIME, with its complete DETAILS
 * (floating, or a reference the caller keeps; an a{sv}) and the uids that watch CGROUP now. */
OwHistoryEntry *ow_continuity_entry (OwContinuity *self, const char *cgroup, const OwEvent *event,
                                     OwVictim *victim, GVariant *details, guint64 seq,
                                     gint64 time);
/* Before the send of a kept EVENT numbered SEQ on CGROUP: marks it in flight (ow-inflight.h)
 * when it has a kernel counter's total, so that a run after a SIGKILL before its record tells
 * it again with SEQ, not anew. Returns the mark, for ow_continuity_record. */
guint ow_continuity_begin (OwContinuity *self, const char *cgroup, const OwEvent *event,
                           guint64 seq);
/* Records a signal sent: ENTRY (taken; NULL: not kept) kept in the history, its counters
 * saved, MARK (from ow_continuity_begin, or OW_INFLIGHT_NONE) cleared, and with LOG a journal
 * record. Done a moment later, in order, from one timer (OW_RECORD_DELAY_MS), so that it does
 * not take the CPU the bus and the receiving client need to deliver the signal; at once
 * whenever something reads what it writes (History(), the metrics, a WatchRemoved's entry, a
 * watch made or dropped, shutdown). */
void ow_continuity_record (OwContinuity *self, const char *cgroup, const OwEvent *event,
                           OwVictim *victim, OwHistoryEntry *entry, guint mark, gboolean log);
/* Does now what is recorded but not done. */
void ow_continuity_flush (OwContinuity *self);
/* A WatchRemoved numbered SEQ: recorded at once (after everything before it); returns its
 * details, floating. */
GVariant *ow_continuity_removed (OwContinuity *self, const char *cgroup, const char *reason,
                                 guint64 seq);

/* The registry made a kernel registration for WATCH / is about to close it. Both do what is
 * recorded first: what was sent counts on the watch it was sent for. */
void ow_continuity_watch_created (OwContinuity *self, OwWatch *watch);
void ow_continuity_watch_dropped (OwContinuity *self, const char *cgroup);

/* What History() returns to UID: (aa{sv} events, a{sv} info), floating; SINCE 0 and MAX 0:
 * no bound. */
GVariant *ow_continuity_query_history (OwContinuity *self, guint32 uid, guint64 after,
                                       guint64 since, guint32 max);
/* What Metrics() returns and the metrics file holds; newly allocated. */
char *ow_continuity_render_metrics (OwContinuity *self, OwMetricsFormat format);

guint64 ow_continuity_last_seq (OwContinuity *self);

G_END_DECLS
