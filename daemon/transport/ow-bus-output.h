/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The output side of the daemon's bus socket, under GDBus: each write is tried at once with
 * send(2), and only a full socket waits for a source. GIO's default for a stream that is not
 * a socket's own made a task, a pollable source and an idle for each message written.
 * The daemon's own thread may also send a whole message now (ow_bus_output_send_now()), when
 * everything it gave GDBus is written. The stream writes to a duplicate of the socket's fd,
 * closed with the stream: a send after GDBus closed the connection never reaches another
 * file that took the number. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define OW_TYPE_BUS_OUTPUT (ow_bus_output_get_type ())
G_DECLARE_FINAL_TYPE (OwBusOutput, ow_bus_output, OW, BUS_OUTPUT, GOutputStream)

GOutputStream *ow_bus_output_new (int fd, GError **error);
gboolean ow_bus_output_send_now (OwBusOutput *self, GBytes *message, guint32 last_serial);
gboolean ow_bus_output_flush_now (OwBusOutput *self, int timeout_ms);

G_END_DECLS
