/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Messages whose sender's uid is not known yet wait here, as bytes, while the bus is asked for
 * it; then each is admitted (counted against that uid) or refused, and the admitted ones are
 * handed to GDBus in their order (ow-bus-stream.h's next()). The bus is asked at once, from a
 * thread of its own: the answer never queues behind the work it is meant to limit. Only the
 * waiting is bounded: per sender and in all (OW_BUS_WAIT_PER_SENDER, OW_BUS_WAIT_BYTES). */
#pragma once

#include "ow-bus-stream.h"

G_BEGIN_DECLS

#define OW_BUS_WAIT_PER_SENDER 16
#define OW_BUS_WAIT_BYTES ((gsize)4 * 1024 * 1024)

typedef struct
{
  /* The bus's answer for NAME (KNOWN is FALSE if it had none); in the asking thread. */
  void (*learned) (const char *name, gboolean known, guint32 uid, gpointer user_data);
  /* Whether a message that waited goes on, its sender's uid now settled; when not, it is
   * dropped (the function answers it). */
  gboolean (*admit) (const OwBusHeader *header, gpointer user_data);
} OwBusWaitFuncs;

typedef struct _OwBusWait OwBusWait;

OwBusWait *ow_bus_wait_new (const OwBusWaitFuncs *funcs, gpointer user_data);
void ow_bus_wait_free (OwBusWait *self);

void ow_bus_wait_attach (OwBusWait *self, GDBusConnection *connection, OwBusStream *stream);
void ow_bus_wait_detach (OwBusWait *self);
gboolean ow_bus_wait_waiting (OwBusWait *self, const char *name);
gboolean ow_bus_wait_keep (OwBusWait *self, const OwBusHeader *header, GBytes *message);
GBytes *ow_bus_wait_next (OwBusWait *self);
void ow_bus_wait_forget (OwBusWait *self, const char *name);

G_END_DECLS
