/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one event pipeline. Every producer hands its events here through its listener: the
 * kernel sources through the registry, memory pressure, systemd-oomd's kills, and what a
 * restart missed (continuity). Each event runs the same stages in one order:
 *   count      the registry counted its own cgroup; v1 ancestors told of a kill count here
 *   attribute  a kill counter's rise drains the kernel log and is split per named victim
 *   number     continuity gives it the next seq (one told again keeps its own) and marks it
 *              in flight
 *   send       the sender's signal to each recipient, with what each may see
 *   record     counters saved, history, journal: continuity, a moment after the send
 * Nothing below calls back into it: the stages return, and report only through listeners. */
#pragma once

#include "ow-continuity.h"
#include "ow-oomd.h"
#include "ow-registry.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _OwDispatcher OwDispatcher;

/* HIERARCHY is borrowed and must outlive it. */
OwDispatcher *ow_dispatcher_new (OwHierarchy *hierarchy, const char *kernel_log_path,
                                 OwKillWait *kill_wait);
/* The registry and continuity it was made as the listener of; borrowed, they outlive it. */
void ow_dispatcher_attach (OwDispatcher *self, OwRegistry *registry, OwContinuity *continuity);
void ow_dispatcher_free (OwDispatcher *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwDispatcher, ow_dispatcher_free)

/* The producers' listeners; USER_DATA is the dispatcher. */
extern const OwRegistryListener ow_dispatcher_registry_listener;
extern const OwContinuityListener ow_dispatcher_continuity_listener;
extern const OwOomdListener ow_dispatcher_oomd_listener;

/* Starts or stops reading the kernel log; TRUE when it is read now. */
gboolean ow_dispatcher_set_kernel_log (OwDispatcher *self, gboolean wanted);
void ow_dispatcher_set_connection (OwDispatcher *self, GDBusConnection *connection);
void ow_dispatcher_add_monitor (OwDispatcher *self, const char *name);
void ow_dispatcher_forget (OwDispatcher *self, const char *name);

G_END_DECLS
