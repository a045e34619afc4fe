/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-bus-stream.h"
#include "ow-bus-read-source.h"
#include "ow-bus-result.h"
#include "ow-heap-trim.h"

#include <string.h>

#define READ_CHUNK 65536
/* A message this big that GDBus parsed leaves the heap grown: trim after it. */
#define TRIM_AFTER 16384
#define BUS_DRIVER "org.freedesktop.DBus"

typedef enum
{
  STATE_HEADER,  /* collecting the fixed header, then the fields when a decision needs them */
  STATE_EMIT,    /* handing out the collected header of a message that passes */
  STATE_PASS,    /* handing out the rest of that message */
  STATE_SKIP,    /* dropping the rest of a message */
  STATE_COLLECT, /* keeping the rest of a message that waits */
  STATE_INJECT,  /* handing out a kept message */
  STATE_RAW,     /* not D-Bus: everything passes, GDBus reports the error */
} State;

struct _OwBusStream
{
  GFilterInputStream parent;
  GSocketConnection *base_io; /* closed with this stream */
  GMutex lock;                /* funcs, set from the main thread; the reader */
  const OwBusStreamFuncs *funcs;
  gpointer funcs_data;
  OwBusReadSource *reader; /* GDBus's reads, made at the first; woken when a kept message is due */
  State state;
  guint8 *in; /* READ_CHUNK bytes read from the socket, not yet handled */
  gsize in_pos, in_len;
  guint8 *header; /* the fixed header and, when needed, the fields */
  gsize header_len, header_want, header_out;
  OwBusHeader current;
  guint64 remaining;      /* of the current message, after what is in header */
  GByteArray *collected;  /* STATE_COLLECT */
  GBytes *injecting;      /* STATE_INJECT */
  gsize inject_pos;
  OwHeapTrim *trim;
};

/* The stream is the result of its own reads (one at a time): no object made per read. */
G_DEFINE_FINAL_TYPE_WITH_CODE (OwBusStream, ow_bus_stream, G_TYPE_FILTER_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_ASYNC_RESULT,
                                                      ow_bus_result_iface_init))

static void
next_message (OwBusStream *self)
{
  self->state = STATE_HEADER;
  self->header_len = self->header_out = 0;
  self->header_want = OW_BUS_HEADER_FIXED;
  self->remaining = 0;
  ow_bus_header_clear (&self->current);
}

static OwBusVerdict
classify (OwBusStream *self, gboolean too_big)
{
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  if (self->funcs == NULL)
    return too_big ? OW_BUS_DROP : OW_BUS_PASS;
  return self->funcs->classify (&self->current, too_big, self->funcs_data);
}

/* The header collected so far is complete: pass the message, skip it, keep it, or read its
 * fields first (for a method call, a signal, or a message to refuse). */
static void
decide (OwBusStream *self)
{
  OwBusHeader *h = &self->current;
  gboolean too_big, decided;
  OwBusVerdict verdict = OW_BUS_PASS;

  if (self->header_len == OW_BUS_HEADER_FIXED)
    {
      ow_bus_header_read_fixed (self->header, h);
      if (!h->valid)
        {
          self->state = STATE_EMIT;
          self->remaining = G_MAXUINT64;
          return;
        }
    }
  too_big = h->body_len > OW_BUS_STREAM_MAX_BODY || h->fields_len > OW_BUS_STREAM_MAX_FIELDS;
  decided = too_big || h->type == G_DBUS_MESSAGE_TYPE_METHOD_CALL
            || h->type == G_DBUS_MESSAGE_TYPE_SIGNAL;
  if (decided && h->fields_len <= OW_BUS_STREAM_MAX_FIELDS
      && self->header_len < OW_BUS_HEADER_FIXED + h->fields_len)
    {
      self->header_want = OW_BUS_HEADER_FIXED + h->fields_len;
      return;
    }
  self->remaining = h->size - self->header_len;
  if (decided)
    {
      ow_bus_header_read_fields (self->header, self->header_len, h);
      if (too_big || g_strcmp0 (h->sender, BUS_DRIVER) != 0)
        verdict = classify (self, too_big);
    }
  if (too_big || verdict == OW_BUS_DROP)
    self->state = STATE_SKIP;
  else if (verdict == OW_BUS_WAIT)
    {
      self->state = STATE_COLLECT;
      self->collected = g_byte_array_sized_new ((guint)h->size);
      g_byte_array_append (self->collected, self->header, (guint)self->header_len);
    }
  else
    {
      self->state = STATE_EMIT;
      if (h->size >= TRIM_AFTER)
        ow_heap_trim_due (self->trim);
    }
}

static void
collected (OwBusStream *self)
{
  g_autoptr (GBytes) message = g_byte_array_free_to_bytes (g_steal_pointer (&self->collected));
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  if (self->funcs != NULL)
    self->funcs->wait (&self->current, message, self->funcs_data);
}

/* At a message boundary: start handing out a kept message, if one is due. */
static gboolean
take_kept (OwBusStream *self)
{
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  if (self->funcs == NULL || (self->injecting = self->funcs->next (self->funcs_data)) == NULL)
    return FALSE;
  self->inject_pos = 0;
  self->state = STATE_INJECT;
  return TRUE;
}

static gsize
emit_kept (OwBusStream *self, guint8 *out, gsize count)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (self->injecting, &size);
  gsize take = MIN (size - self->inject_pos, count);

  memcpy (out, data + self->inject_pos, take);
  self->inject_pos += take;
  if (self->inject_pos == size)
    {
      g_clear_pointer (&self->injecting, g_bytes_unref);
      next_message (self);
    }
  return take;
}

/* Handles buffered input, writing what passes to OUT; 0 means more input is needed. */
static gsize
step (OwBusStream *self, guint8 *out, gsize count)
{
  gsize produced = 0, take;

  while (produced < count)
    switch (self->state)
      {
      case STATE_HEADER:
        if (self->header_len == 0 && take_kept (self))
          break;
        if (self->header_len == self->header_want)
          {
            decide (self);
            break;
          }
        if (self->in_pos == self->in_len)
          return produced;
        take = MIN (self->header_want - self->header_len, self->in_len - self->in_pos);
        memcpy (self->header + self->header_len, self->in + self->in_pos, take);
        self->header_len += take;
        self->in_pos += take;
        break;
      case STATE_INJECT:
        produced += emit_kept (self, out + produced, count - produced);
        break;
      case STATE_EMIT:
        take = MIN (self->header_len - self->header_out, count - produced);
        memcpy (out + produced, self->header + self->header_out, take);
        self->header_out += take;
        produced += take;
        if (self->header_out == self->header_len)
          self->state = self->remaining == G_MAXUINT64 ? STATE_RAW : STATE_PASS;
        break;
      case STATE_PASS:
      case STATE_SKIP:
      case STATE_COLLECT:
      case STATE_RAW:
      default:
        if (self->remaining == 0)
          {
            if (self->state == STATE_COLLECT)
              collected (self);
            next_message (self);
            break;
          }
        if (self->in_pos == self->in_len)
          return produced;
        take = (gsize)MIN (self->remaining, (guint64)(self->in_len - self->in_pos));
        if (self->state == STATE_COLLECT)
          g_byte_array_append (self->collected, self->in + self->in_pos, (guint)take);
        else if (self->state != STATE_SKIP)
          {
            take = MIN (take, count - produced);
            memcpy (out + produced, self->in + self->in_pos, take);
            produced += take;
          }
        self->in_pos += take;
        if (self->state != STATE_RAW)
          self->remaining -= take;
        break;
      }
  return produced;
}

static gssize
filter_read (OwBusStream *self, void *buffer, gsize count, gboolean blocking,
             GCancellable *cancellable, GError **error)
{
  GInputStream *base = G_FILTER_INPUT_STREAM (self)->base_stream;

  while (TRUE)
    {
      gsize produced = step (self, buffer, count);
      gssize got;

      if (produced > 0 || count == 0)
        return (gssize)produced;
      if (blocking)
        got = g_input_stream_read (base, self->in, READ_CHUNK, cancellable, error);
      else
        got = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (base), self->in,
                                                        READ_CHUNK, cancellable, error);
      if (got <= 0)
        {
          if (got < 0 && error != NULL && g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            ow_heap_trim_when_quiet (self->trim);
          return got;
        }
      self->in_pos = 0;
      self->in_len = (gsize)got;
    }
}

static gssize
ow_bus_stream_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
                    GError **error)
{
  return filter_read (OW_BUS_STREAM (stream), buffer, count, TRUE, cancellable, error);
}

static gssize
try_read (GObject *stream, void *buffer, gsize count, GError **error)
{
  return filter_read (OW_BUS_STREAM (stream), buffer, count, FALSE, NULL, error);
}

static void
ow_bus_stream_read_async (GInputStream *stream, void *buffer, gsize count, int io_priority,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  OwBusStream *self = OW_BUS_STREAM (stream);

  if (self->reader == NULL)
    {
      int fd = g_socket_get_fd (g_socket_connection_get_socket (self->base_io));
      G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

      self->reader = ow_bus_read_source_new (fd, try_read);
    }
  ow_bus_read_source_start (self->reader, G_OBJECT (self), G_ASYNC_RESULT (self), buffer, count,
                            cancellable, callback, user_data);
}

static gssize
ow_bus_stream_read_finish (GInputStream *stream, GAsyncResult *result, GError **error)
{
  OwBusStream *self = OW_BUS_STREAM (stream);

  g_return_val_if_fail (result == G_ASYNC_RESULT (self) && self->reader != NULL, -1);
  return ow_bus_read_source_finish (self->reader, error);
}

static gboolean
ow_bus_stream_close (GInputStream *stream, GCancellable *cancellable, GError **error)
{
  return g_io_stream_close (G_IO_STREAM (OW_BUS_STREAM (stream)->base_io), cancellable, error);
}

static void
ow_bus_stream_finalize (GObject *object)
{
  OwBusStream *self = OW_BUS_STREAM (object);

  g_clear_object (&self->base_io);
  ow_bus_header_clear (&self->current);
  if (self->collected != NULL)
    g_byte_array_unref (self->collected);
  g_clear_pointer (&self->injecting, g_bytes_unref);
  g_clear_pointer (&self->reader, ow_bus_read_source_free);
  g_clear_pointer (&self->trim, ow_heap_trim_free);
  g_free (self->in);
  g_free (self->header);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (ow_bus_stream_parent_class)->finalize (object);
}

static void
ow_bus_stream_class_init (OwBusStreamClass *klass)
{
  GInputStreamClass *input_class = G_INPUT_STREAM_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = ow_bus_stream_finalize;
  input_class->read_fn = ow_bus_stream_read;
  input_class->read_async = ow_bus_stream_read_async;
  input_class->read_finish = ow_bus_stream_read_finish;
  input_class->close_fn = ow_bus_stream_close;
}

static void
ow_bus_stream_init (OwBusStream *self)
{
  g_mutex_init (&self->lock);
  self->in = g_malloc (READ_CHUNK);
  self->header = g_malloc (OW_BUS_HEADER_FIXED + OW_BUS_STREAM_MAX_FIELDS);
  self->trim = ow_heap_trim_new ();
  next_message (self);
}

/* Reads BASE_IO's input; closing it closes BASE_IO. */
GInputStream *
ow_bus_stream_new (GSocketConnection *base_io)
{
  OwBusStream *self = g_object_new (OW_TYPE_BUS_STREAM, "base-stream",
                                    g_io_stream_get_input_stream (G_IO_STREAM (base_io)),
                                    "close-base-stream", FALSE, NULL);

  self->base_io = g_object_ref (base_io);
  return G_INPUT_STREAM (self);
}

/* FUNCS (static) decide from now on; none is called any more once this returns with NULL. */
void
ow_bus_stream_set_funcs (OwBusStream *self, const OwBusStreamFuncs *funcs, gpointer user_data)
{
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  self->funcs = funcs;
  self->funcs_data = user_data;
}

/* A kept message is due: GDBus reads it even if the socket stays quiet. Any thread, but not
 * from inside the funcs. */
void
ow_bus_stream_wake (OwBusStream *self)
{
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  if (self->reader != NULL)
    ow_bus_read_source_wake (self->reader);
}
