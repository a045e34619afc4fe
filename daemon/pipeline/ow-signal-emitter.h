/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sends OomEvent and WatchRemoved, unicast: once to each connection that watches the cgroup
 * and to each root Monitor() caller, never broadcast. A recipient gets the victim's identity
 * (pid, comm, uid) only when it is root or the victim's own uid, the same as what it could
 * read from the kernel itself. The signal goes out first; its counters, history entry and
 * journal record a moment after it (ow-after-send.h). */
#pragma once

#include "ow-continuity.h"
#include "ow-hierarchy.h"
#include "ow-registry.h"
#include "ow-victim.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _OwSignalEmitter OwSignalEmitter;

/* REGISTRY (it knows each watcher's uid) and HIERARCHY (the cgroups' memory files) are
 * borrowed and must outlive the emitter. */
OwSignalEmitter *ow_signal_emitter_new (OwRegistry *registry, OwHierarchy *hierarchy);
void ow_signal_emitter_free (OwSignalEmitter *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwSignalEmitter, ow_signal_emitter_free)

void ow_signal_emitter_set_connection (OwSignalEmitter *self, GDBusConnection *connection);
/* continuity: seq, history, counters and metrics of every signal; borrowed, may be NULL. */
void ow_signal_emitter_set_continuity (OwSignalEmitter *self, OwContinuity *continuity);
void ow_signal_emitter_add_monitor (OwSignalEmitter *self, const char *name);
void ow_signal_emitter_forget (OwSignalEmitter *self, const char *name);

void ow_signal_emitter_event (OwSignalEmitter *self, const char *cgroup, const OwEvent *event,
                              OwVictim *victim);
/* Does now what follows the signals sent so far (ow-after-send.h). */
void ow_signal_emitter_flush (OwSignalEmitter *self);
/* MemoryPressure (s cgroup, s level, a{sv} details) to WATCHERS (names that asked for the
 * level) and the monitors; DETAILS is floating or owned and consumed. */
void ow_signal_emitter_pressure (OwSignalEmitter *self, const char *cgroup, const char *level,
                                 GPtrArray *watchers, GVariant *details);
void ow_signal_emitter_removed (OwSignalEmitter *self, OwWatch *watch);

G_END_DECLS
