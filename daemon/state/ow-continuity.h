/* SPDX-License-Identifier: GPL-2.0-or-later */
/* No gaps: what lets clients and the daemon itself be restarted without losing events.
 * Every signal gets a daemon-wide sequence number (ow-seq), is kept in a bounded history
 * (ow-history) that History() serves under the signals' privacy rules, counts towards the
 * metrics (ow-metrics), and moves the saved counters (ow-counter-store) from which a watch
 * made again after a restart reports what happened while the daemon was down. The manager
 * calls in here from its emit path and from the registry's watch creation and removal. */
#pragma once

#include "ow-hierarchy.h"
#include "ow-history.h"
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

typedef struct _OwContinuity OwContinuity;

/* How it tells the pipeline above it (the signal emitter sets it): REPLAY sends what a
 * restart missed (ow_continuity_in_while_down is TRUE meanwhile); FLUSH finishes the work after
 * every signal sent so far, before a watch's counters change hands. */
typedef struct
{
  void (*replay) (const char *cgroup, const OwEvent *event, gpointer user_data);
  void (*flush) (gpointer user_data);
} OwContinuityListener;

/* HIERARCHY and REGISTRY are borrowed and outlive it. */
OwContinuity *ow_continuity_new (const char *runtime_dir, const char *boot_id_path,
                                 OwHierarchy *hierarchy, OwRegistry *registry, GError **error);
void ow_continuity_set_listener (OwContinuity *self, const OwContinuityListener *listener,
                                 gpointer user_data);
void ow_continuity_free (OwContinuity *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwContinuity, ow_continuity_free)

/* From oomwatch.conf: HistorySize= and MetricsFile= (NULL: no file). */
void ow_continuity_configure (OwContinuity *self, guint history_size, const char *metrics_file);
/* How long the series of a watch that ended stays in the metrics (0: not at all; -1: the
 * default). */
void ow_continuity_set_metrics_retention (OwContinuity *self, int seconds);

/* The emit path (the signal emitter; every function takes SELF NULL and then does nothing):
 * an OomEvent gets its seq (ow_continuity_event), each variant of its details gets seq and
 * while-down (ow_continuity_add_keys); once sent, its counts are saved (ow_continuity_sent:
 * a file write, after the signal so that no client waits for it, see ow-after-send.h; a crash
 * in between repeats the event after the restart rather than losing it; WHILE_DOWN as
 * ow_continuity_in_while_down said when it was sent) and it is kept: its history entry made
 * when it is sent (ow_continuity_entry: seq and watchers as they are then; with the complete
 * DETAILS, a floating or owned a{sv}; NULL when SELF is), kept later (ow_continuity_keep, which
 * takes it). A WatchRemoved's details. */
void ow_continuity_event (OwContinuity *self, const char *cgroup, const OwEvent *event);
gboolean ow_continuity_in_while_down (OwContinuity *self);
void ow_continuity_sent (OwContinuity *self, const char *cgroup, const OwEvent *event,
                         gboolean while_down);
void ow_continuity_add_keys (OwContinuity *self, GVariantDict *details);
OwHistoryEntry *ow_continuity_entry (OwContinuity *self, const char *cgroup, const OwEvent *event,
                                     OwVictim *victim, GVariant *details);
void ow_continuity_keep (OwContinuity *self, OwHistoryEntry *entry);
/* A signal not kept in the history (MemoryPressure: frequent) still gets its seq. */
void ow_continuity_unkept_keys (OwContinuity *self, GVariantDict *details);
/* Returns a floating a{sv}. */
GVariant *ow_continuity_removed (OwContinuity *self, const char *cgroup, const char *reason);

/* The registry made a kernel registration for WATCH / is about to close it. */
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
