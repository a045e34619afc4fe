/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The parts of a D-Bus message header (spec, "Message Format") the daemon decides on before
 * GDBus parses anything: read from the raw bytes. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define OW_BUS_HEADER_FIXED 16

typedef struct
{
  guint8 type; /* G_DBUS_MESSAGE_TYPE_* */
  guint8 flags;
  guint32 serial;
  guint32 body_len, fields_len;
  guint64 size;   /* the whole message */
  char *sender;   /* the SENDER field, when the fields were read and have one */
  gboolean valid; /* a D-Bus header at all */
} OwBusHeader;

void ow_bus_header_read_fixed (const guint8 *data, OwBusHeader *header);
void ow_bus_header_read_fields (const guint8 *data, gsize len, OwBusHeader *header);
void ow_bus_header_clear (OwBusHeader *header);

G_END_DECLS
