/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A message in D-Bus's wire form (little-endian; D-Bus spec, "Message Protocol"), made
 * straight from its header fields and body: what g_dbus_message_to_blob() makes, without
 * a GDBusMessage and its table of header values (the header fields may come in another order).
 * A signal or a method return only; NULL for a body D-Bus cannot carry (a maybe, an empty
 * tuple inside it, a signature over 255 bytes), which then is not to be sent at all. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  GDBusMessageType type;
  GDBusMessageFlags flags;
  guint32 serial;
  guint32 reply_serial; /* 0: none */
  const char *path;     /* each NULL: none */
  const char *interface;
  const char *member;
  const char *destination;
} OwBusHeader;

GBytes *ow_bus_marshal (const OwBusHeader *header, GVariant *body);

G_END_DECLS
