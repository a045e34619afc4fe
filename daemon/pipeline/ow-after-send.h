/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What follows an OomEvent and no client waits for: its counters saved, its history entry and
 * its journal record. Done right after the send, on two cores this work took the CPU the bus
 * and the receiving client needed to deliver the signal (bench/sched-trace --alone: the
 * daemon's signal arrived later than its sendmsg alone explains). So it is queued and done a
 * moment later (OW_AFTER_SEND_MS), in order, from one timer; and at once whenever something
 * reads what it writes (History(), the metrics, a WatchRemoved's entry, shutdown). A SIGKILL in
 * between makes the next run tell the event again (while-down), as before, never lose it. */
#pragma once
#include "ow-continuity.h"
#include "ow-event.h"
#include "ow-registry.h"
#include "ow-victim.h"

G_BEGIN_DECLS

#define OW_AFTER_SEND_MS 2

typedef struct _OwAfterSend OwAfterSend;

/* REGISTRY is borrowed (unit names of a watched cgroup) and must outlive the queue. */
OwAfterSend *ow_after_send_new (OwRegistry *registry);
/* Does what is queued, then frees. */
void ow_after_send_free (OwAfterSend *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwAfterSend, ow_after_send_free)

/* Borrowed; NULL: no counters or history, only the journal. */
void ow_after_send_set_continuity (OwAfterSend *self, OwContinuity *continuity);
/* After EVENT's signal on CGROUP: its counters; with ENTRY (ow_continuity_entry, taken) kept
 * in the history; with LOG a journal record. WHILE_DOWN: it was a report of the time the daemon
 * was not running (ow_continuity_sent). */
void ow_after_send_add (OwAfterSend *self, const char *cgroup, const OwEvent *event,
                        OwVictim *victim, OwHistoryEntry *entry, gboolean log, gboolean while_down);
void ow_after_send_flush (OwAfterSend *self);

G_END_DECLS
