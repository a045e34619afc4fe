/* The input side of the daemon's bus socket, under GDBus: reads each message's fixed header
 * (D-Bus spec, "Message Format") before GDBus sees a byte of it. A message over the limits
 * below is skipped as it streams in, never buffered nor parsed, and reported to a callback
 * (which answers a method call). Messages within them pass through unchanged; after a large
 * one the heap is trimmed once the socket goes quiet. Messages may also be handed back to be
 * read again (ow-bus-wait.h). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The largest body the daemon reads. Its own calls carry a cgroup path (at most 4 KiB) and a
 * few options; systemd-oomd's Killed signal a cgroup path and a reason; the bus's replies and
 * signals a name or two. Twice the bus guard's limit on a call, so that a call just over that
 * is still read and gets the specific error (a path too long, say). docs/bus-limits.md. */
#define OW_BUS_STREAM_MAX_BODY 131072
/* The largest header fields array: path, interface, member, names and signature. */
#define OW_BUS_STREAM_MAX_FIELDS 16384

typedef struct
{
  guint8 type; /* G_DBUS_MESSAGE_TYPE_* */
  guint8 flags;
  guint32 serial;
  const char *sender; /* NULL when the header fields were not read */
  guint64 size;       /* the whole message, in bytes */
} OwBusRefusal;

/* Called in the thread that reads the socket (GDBus's worker). */
typedef void (*OwBusRefusedFunc) (const OwBusRefusal *refusal, gpointer user_data);

#define OW_TYPE_BUS_STREAM (ow_bus_stream_get_type ())
G_DECLARE_FINAL_TYPE (OwBusStream, ow_bus_stream, OW, BUS_STREAM, GFilterInputStream)

GIOStream *ow_bus_stream_wrap (GSocketConnection *base);
OwBusStream *ow_bus_stream_from_connection (GDBusConnection *connection);
void ow_bus_stream_set_refused_func (OwBusStream *self, OwBusRefusedFunc func, gpointer user_data);
guint64 ow_bus_stream_get_refused (OwBusStream *self);
void ow_bus_stream_inject (OwBusStream *self, GBytes *message);
gboolean ow_bus_stream_last_was_injected (OwBusStream *self);

G_END_DECLS
