/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Messages from the daemon's thread written onto the bus socket at once when nothing before
 * them waits in GDBus (ow-bus-output.h), else sent through GDBus: the direct way skips GDBus's
 * hand-over to its worker thread, which was half of an OomEvent's latency. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

gboolean ow_bus_emit_signal (GDBusConnection *connection, const char *destination,
                             const char *path, const char *interface, const char *name,
                             GVariant *parameters, GError **error);
void ow_bus_return_value (GDBusMethodInvocation *invocation, GVariant *parameters);
void ow_bus_flush_sync (GDBusConnection *connection);

G_END_DECLS
