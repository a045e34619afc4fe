/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What one caller may make the daemon do before any of its work starts. A GDBus filter, run
 * in GDBus's worker thread as each message arrives (so a busy main loop cannot make hostile
 * messages pile up):
 * - method calls carrying unix fds are refused and their fds closed at once;
 * - calls over OW_BUS_GUARD_MAX_BODY bytes, Watch() options beyond OW_BUS_GUARD_MAX_OPTIONS
 *   entries, and calls to our interfaces with the wrong signature, are refused before they
 *   are queued, and the heap they grew is given back;
 * - callers that are not root are rate-limited per uid (per connection until its uid is
 *   known): a flood costs the flooding user, not the others.
 * It also keeps the uid of each caller, learnt once on the main loop. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define OW_BUS_GUARD_MAX_OPTIONS 8
/* No call of ours needs more: a path is at most 4 KiB. */
#define OW_BUS_GUARD_MAX_BODY 65536
/* Method calls per second a uid that is not root may make, after a burst. */
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
