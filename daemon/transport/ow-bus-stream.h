/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The input side of the daemon's bus socket, under GDBus: reads each message's header before
 * GDBus sees a byte of it, and lets a set of functions decide, per method call or signal,
 * whether GDBus gets it now, never (its bytes are skipped as they stream in, never buffered
 * nor parsed), or later (it is kept as bytes and handed out again by next()). Messages over
 * the size limits below are always skipped. After a large message that passed, the heap is
 * trimmed once the socket goes quiet. */
#pragma once

#include "ow-bus-header.h"

#include <gio/gio.h>

G_BEGIN_DECLS

/* The largest body the daemon reads. Its own calls carry a cgroup path (at most 4 KiB) and a
 * few options; systemd-oomd's Killed signal a cgroup path and a reason; the bus's replies and
 * signals a name or two. Twice the bus guard's limit on a call, so that a call just over that
 * is still read and gets the specific error (a path too long, say). docs/bus-limits.md. */
#define OW_BUS_STREAM_MAX_BODY 131072
/* The largest header fields array: path, interface, member, names and signature. */
#define OW_BUS_STREAM_MAX_FIELDS 16384

typedef enum
{
  OW_BUS_PASS, /* GDBus reads it now */
  OW_BUS_WAIT, /* kept: wait() gets its bytes */
  OW_BUS_DROP, /* skipped */
} OwBusVerdict;

/* Called in the thread that reads the socket (GDBus's worker), one message at a time. */
typedef struct
{
  /* A method call or signal whose SENDER is not the bus; HEADER->size over the limits: the
   * message is dropped whatever this returns. */
  OwBusVerdict (*classify) (const OwBusHeader *header, gboolean too_big, gpointer user_data);
  void (*wait) (const OwBusHeader *header, GBytes *message, gpointer user_data);
  /* A kept message to hand out before the next one from the socket, or NULL. */
  GBytes *(*next) (gpointer user_data);
} OwBusStreamFuncs;

#define OW_TYPE_BUS_STREAM (ow_bus_stream_get_type ())
G_DECLARE_FINAL_TYPE (OwBusStream, ow_bus_stream, OW, BUS_STREAM, GFilterInputStream)

GInputStream *ow_bus_stream_new (GSocketConnection *base_io);
void ow_bus_stream_set_funcs (OwBusStream *self, const OwBusStreamFuncs *funcs,
                              gpointer user_data);
void ow_bus_stream_wake (OwBusStream *self);

G_END_DECLS
