/* Method calls whose caller's uid is not known yet wait here, as bytes, while the bus is asked
 * for it; then they are read again (ow_bus_stream_inject()), in their order, and counted
 * against that uid. The bus is asked at once, from a thread of its own: the answer never
 * queues behind the work it is meant to limit. Only the waiting is bounded: per caller and
 * in all (OW_BUS_WAIT_PER_CALLER, OW_BUS_WAIT_BYTES). */
#pragma once

#include "ow-bus-stream.h"

G_BEGIN_DECLS

#define OW_BUS_WAIT_PER_CALLER 16
#define OW_BUS_WAIT_BYTES (4 * 1024 * 1024)

typedef enum
{
  OW_BUS_WAIT_GO,    /* go on with the call */
  OW_BUS_WAIT_TAKEN, /* kept, or sent round again behind the caller's earlier calls */
  OW_BUS_WAIT_FULL,  /* would wait, but no room is left: refuse it */
} OwBusWaitVerdict;

/* The bus's answer for NAME (KNOWN is FALSE if it had none); in the asking thread. */
typedef void (*OwBusWaitLearnedFunc) (const char *name, gboolean known, guint32 uid,
                                      gpointer user_data);

typedef struct _OwBusWait OwBusWait;

OwBusWait *ow_bus_wait_new (OwBusWaitLearnedFunc learned, gpointer user_data);
void ow_bus_wait_free (OwBusWait *self);

void ow_bus_wait_attach (OwBusWait *self, GDBusConnection *connection, OwBusStream *stream);
void ow_bus_wait_detach (OwBusWait *self);
OwBusWaitVerdict ow_bus_wait_check (OwBusWait *self, GDBusMessage *message, gboolean uid_known);
void ow_bus_wait_forget (OwBusWait *self, const char *name);

G_END_DECLS
