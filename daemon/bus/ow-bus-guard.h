/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What one caller may make the daemon do before any of its work starts:
 * - the bus stream (ow-bus-stream.h) skips messages over its size limits unparsed, and
 *   answers such a method call with InvalidArgs;
 * - method calls and signals count against their sender's uid (not root's): a burst, then a
 *   steady rate; over it they are skipped unparsed and a call gets LimitExceeded. A sender
 *   whose uid is not known yet waits for it (ow-bus-wait.h): reconnecting buys nothing;
 * - once parsed, calls with fds, the wrong signature, a path no cgroup has, over
 *   OW_BUS_GUARD_MAX_BODY bytes or too many Watch() options are refused (ow-bus-checks.h) by a
 *   GDBus filter, before they are queued for the main loop.
 * Error answers count against a budget of their own, per uid: a flooder that never reads them
 * does not make the daemon write without end.
 * It also keeps the uid of each caller. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Method calls (and signals) per second a uid that is not root may send, after a burst. */
#define OW_BUS_GUARD_RATE 50
#define OW_BUS_GUARD_BURST 100

typedef struct _OwBusGuard OwBusGuard;

OwBusGuard *ow_bus_guard_new (void);
void ow_bus_guard_free (OwBusGuard *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwBusGuard, ow_bus_guard_free)

void ow_bus_guard_attach (OwBusGuard *self, GDBusConnection *connection);
void ow_bus_guard_detach (OwBusGuard *self);

void ow_bus_guard_set_uid (OwBusGuard *self, const char *name, guint32 uid);
gboolean ow_bus_guard_get_uid (OwBusGuard *self, const char *name, guint32 *uid);
void ow_bus_guard_forget (OwBusGuard *self, const char *name);

G_END_DECLS
