/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A signal to one destination, written onto the bus socket from the caller's thread when
 * nothing before it waits in GDBus (ow-bus-output.h), else sent through GDBus. The direct
 * way skips GDBus's hand-over to its worker thread, which was half of an OomEvent's latency. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

gboolean ow_bus_emit_signal (GDBusConnection *connection, const char *destination,
                             const char *path, const char *interface, const char *name,
                             GVariant *parameters, GError **error);

G_END_DECLS
