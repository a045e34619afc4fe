/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The send stage: OomEvent, MemoryPressure and WatchRemoved, unicast: once to each connection
 * that watches the cgroup and to each root Monitor() caller, never broadcast. A recipient gets
 * the victim's identity (pid, comm, uid) only when it is root or the victim's own uid, the
 * same as what it could read from the kernel itself. */
#pragma once

#include "ow-cgroup-memory.h"
#include "ow-registry.h"
#include "ow-victim.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _OwSender OwSender;

/* One OomEvent as the earlier stages made it: the same for every copy sent and for History(). */
typedef struct
{
  const char *cgroup;
  const OwEvent *event;
  OwVictim *victim; /* NULL: the kernel log did not name one */
  const OomwatchUnitInfo *units;
  const OwCgroupMemory *memory;
  guint64 seq;
  gint64 time;
} OwOomSignal;

/* REGISTRY (each watcher's uid and what it asked for) is borrowed and must outlive it. */
OwSender *ow_sender_new (OwRegistry *registry, guint hierarchy);
void ow_sender_free (OwSender *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwSender, ow_sender_free)

void ow_sender_set_connection (OwSender *self, GDBusConnection *connection);
void ow_sender_add_monitor (OwSender *self, const char *name);
void ow_sender_forget (OwSender *self, const char *name);

/* The names that get KIND's signals on CGROUP: its watchers and the monitors, opt-in kinds
 * only to the watchers who asked for them; empty without a connection. Borrowed names. */
GPtrArray *ow_sender_recipients (OwSender *self, const char *cgroup, OwEventKind kind);
/* Sends SIGNAL to NAMES. Returns the complete details when a copy carried them (with the
 * victim's identity, or one without a victim: a reference), else NULL. */
GVariant *ow_sender_oom_event (OwSender *self, GPtrArray *names, const OwOomSignal *signal);
/* The details of SIGNAL, with the victim's identity or without it; floating. */
GVariant *ow_sender_details (OwSender *self, const OwOomSignal *signal, gboolean identity);
/* MemoryPressure (s cgroup, s level, a{sv} details) to WATCHERS (names that asked for the
 * level) and the monitors; DETAILS is floating or owned and consumed. */
void ow_sender_pressure (OwSender *self, const char *cgroup, const char *level,
                         GPtrArray *watchers, GVariant *details, guint64 seq);
/* WatchRemoved to the watchers of CGROUP and the monitors; DETAILS is floating. */
void ow_sender_removed (OwSender *self, const char *cgroup, GVariant *details);

G_END_DECLS
