/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's own connection to a message bus, with the size filter of ow-bus-stream.h under
 * GDBus. */
#pragma once

#include "ow-bus-stream.h"

G_BEGIN_DECLS

GDBusConnection *ow_bus_connect (GBusType bus_type, GError **error);
OwBusStream *ow_bus_connect_get_stream (GDBusConnection *connection);

G_END_DECLS
