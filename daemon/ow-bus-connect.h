/* The daemon's own connection to a message bus, with the size filter of ow-bus-stream.h under
 * GDBus. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

GDBusConnection *ow_bus_connect (GBusType bus_type, GError **error);

G_END_DECLS
