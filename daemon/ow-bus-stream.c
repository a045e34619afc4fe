#include "ow-bus-stream.h"

#include <gio/gunixoutputstream.h>
#include <malloc.h>
#include <string.h>

#define FIXED_HEADER 16
#define FIELD_SENDER 7
#define READ_CHUNK 65536
/* A message this big that GDBus parsed leaves the heap grown: trim after it. */
#define TRIM_AFTER 16384
#define TRIM_INTERVAL_MS 100

typedef enum
{
  STATE_HEADER, /* collecting the fixed header (and, for a refused message, its fields) */
  STATE_EMIT,   /* handing out the collected header of a message that passes */
  STATE_PASS,   /* handing out the rest of that message */
  STATE_SKIP,   /* dropping the rest of a refused message */
  STATE_RAW,    /* not D-Bus: everything passes, GDBus reports the error */
  STATE_INJECT, /* handing out a message given to ow_bus_stream_inject() */
} State;

struct _OwBusStream
{
  GFilterInputStream parent;
  GIOStream *base_io; /* closed with this stream */
  GMutex lock;        /* the callback, set from the main thread */
  OwBusRefusedFunc refused_func;
  gpointer refused_data;
  guint64 refused;  /* messages skipped */
  GQueue injected;  /* GBytes: messages to hand out before the next one from the socket */
  gint n_injected;  /* its length, read without the lock */
  GSource *wake;    /* made ready when a message is injected while GDBus waits */
  GBytes *injecting;
  gsize inject_pos;
  gboolean last_injected; /* the last message handed out whole came from injected */
  State state;
  guint8 *in; /* READ_CHUNK bytes read from the socket, not yet handled */
  gsize in_pos, in_len;
  guint8 *header; /* room for the fixed header and the largest fields array */
  gsize header_len, header_want, header_out;
  guint64 remaining; /* of the current message, after what is in header */
  gboolean trim_due;
  gint64 last_trim;
  GSource *trim_source;
};

static void ow_bus_stream_pollable_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (OwBusStream, ow_bus_stream, G_TYPE_FILTER_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      ow_bus_stream_pollable_init))

static guint32
read_u32 (const guint8 *p, gboolean little)
{
  guint32 value;

  memcpy (&value, p, 4);
  return little ? GUINT32_FROM_LE (value) : GUINT32_FROM_BE (value);
}

/* The SENDER header field of HEADER (fixed part and fields), or NULL. Unknown value types
 * end the search: their size cannot be known without a full parser. */
static char *
find_sender (const guint8 *header, gsize len, gboolean little)
{
  gsize at = FIXED_HEADER;

  while (TRUE)
    {
      guint8 code, sig_len;
      char type;
      guint32 value_len;

      at = (at + 7) & ~(gsize)7;
      if (at + 3 > len)
        return NULL;
      code = header[at];
      sig_len = header[at + 1];
      if (sig_len != 1 || at + 4 > len)
        return NULL;
      type = (char)header[at + 2];
      at += 4; /* code, signature length, type, NUL */
      if (type == 'g')
        {
          if (at >= len)
            return NULL;
          at += 2 + (gsize)header[at];
          continue;
        }
      at = (at + 3) & ~(gsize)3;
      if (at + 4 > len)
        return NULL;
      value_len = read_u32 (header + at, little);
      at += 4;
      if (type == 'u')
        continue;
      if ((type != 's' && type != 'o') || value_len >= len - at)
        return NULL;
      if (code == FIELD_SENDER)
        return g_strndup ((const char *)header + at, value_len);
      at += (gsize)value_len + 1;
    }
}

static void
report (OwBusStream *self, gboolean little)
{
  g_autofree char *sender = NULL;
  OwBusRefusal refusal = { 0 };

  refusal.type = self->header[1];
  refusal.flags = self->header[2];
  refusal.serial = read_u32 (self->header + 8, little);
  refusal.size = self->header_len + self->remaining;
  if (self->header_len > FIXED_HEADER)
    sender = find_sender (self->header, self->header_len, little);
  refusal.sender = sender;
  g_mutex_lock (&self->lock);
  self->refused++;
  if (self->refused_func != NULL)
    self->refused_func (&refusal, self->refused_data);
  g_mutex_unlock (&self->lock);
}

/* The header collected so far is complete: pass the message, skip it, or read its fields. */
static void
decide (OwBusStream *self)
{
  gboolean little = self->header[0] == 'l';
  guint32 body_len, fields_len;
  guint64 total;

  if ((!little && self->header[0] != 'B') || self->header[3] != 1)
    {
      self->state = STATE_EMIT;
      self->remaining = G_MAXUINT64;
      return;
    }
  body_len = read_u32 (self->header + 4, little);
  fields_len = read_u32 (self->header + 12, little);
  total = FIXED_HEADER + (((guint64)fields_len + 7) & ~(guint64)7) + body_len;
  if (body_len <= OW_BUS_STREAM_MAX_BODY && fields_len <= OW_BUS_STREAM_MAX_FIELDS)
    {
      self->state = STATE_EMIT;
      self->last_injected = FALSE;
      self->remaining = total - self->header_len;
      self->trim_due |= total >= TRIM_AFTER;
      return;
    }
  /* Refused: read the fields, if they are small enough, to learn whom to answer. */
  if (fields_len <= OW_BUS_STREAM_MAX_FIELDS && self->header_len < FIXED_HEADER + fields_len)
    {
      self->header_want = FIXED_HEADER + fields_len;
      return;
    }
  self->remaining = total - self->header_len;
  report (self, little);
  self->state = STATE_SKIP;
}

static void
next_message (OwBusStream *self)
{
  self->state = STATE_HEADER;
  self->header_len = self->header_out = 0;
  self->header_want = FIXED_HEADER;
  self->remaining = 0;
}

/* At a message boundary: start handing out an injected message, if there is one. */
static gboolean
take_injected (OwBusStream *self)
{
  if (g_atomic_int_get (&self->n_injected) == 0)
    return FALSE;
  g_mutex_lock (&self->lock);
  self->injecting = g_queue_pop_head (&self->injected);
  g_atomic_int_set (&self->n_injected, (gint)self->injected.length);
  g_mutex_unlock (&self->lock);
  if (self->injecting == NULL)
    return FALSE;
  self->inject_pos = 0;
  self->last_injected = TRUE;
  self->state = STATE_INJECT;
  return TRUE;
}

static gsize
emit_injected (OwBusStream *self, guint8 *out, gsize count)
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
        if (self->header_len == 0 && take_injected (self))
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
        produced += emit_injected (self, out + produced, count - produced);
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
      case STATE_RAW:
        if (self->remaining == 0)
          {
            next_message (self);
            break;
          }
        if (self->in_pos == self->in_len)
          return produced;
        take = (gsize)MIN (self->remaining, (guint64)(self->in_len - self->in_pos));
        if (self->state != STATE_SKIP)
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

static gboolean
trim_later (gpointer user_data)
{
  OwBusStream *self = user_data;

  malloc_trim (0);
  self->last_trim = g_get_monotonic_time ();
  self->trim_due = FALSE;
  g_clear_pointer (&self->trim_source, g_source_unref);
  return G_SOURCE_REMOVE;
}

/* The socket went quiet: give back what parsing a large message left in the heap, at most
 * every TRIM_INTERVAL_MS (a flood of large messages would otherwise trim after each). */
static void
trim_when_quiet (OwBusStream *self)
{
  gint64 wait_ms;

  if (!self->trim_due || self->trim_source != NULL)
    return;
  wait_ms = TRIM_INTERVAL_MS - (g_get_monotonic_time () - self->last_trim) / 1000;
  if (wait_ms <= 0)
    {
      trim_later (self);
      return;
    }
  self->trim_source = g_timeout_source_new ((guint)wait_ms);
  g_source_set_callback (self->trim_source, trim_later, g_object_ref (self), g_object_unref);
  g_source_attach (self->trim_source, g_main_context_get_thread_default ());
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
            trim_when_quiet (self);
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
ow_bus_stream_read_nonblocking (GPollableInputStream *stream, void *buffer, gsize count,
                                GError **error)
{
  return filter_read (OW_BUS_STREAM (stream), buffer, count, FALSE, NULL, error);
}

static gboolean
ow_bus_stream_can_poll (GPollableInputStream *stream)
{
  GInputStream *base = G_FILTER_INPUT_STREAM (stream)->base_stream;

  return G_IS_POLLABLE_INPUT_STREAM (base)
         && g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (base));
}

/* Whether a read would hand something out without waiting for the socket. */
static gboolean
has_pending (OwBusStream *self)
{
  return self->in_pos < self->in_len || self->state == STATE_EMIT || self->state == STATE_INJECT
         || g_atomic_int_get (&self->n_injected) > 0;
}

static gboolean
ow_bus_stream_is_readable (GPollableInputStream *stream)
{
  OwBusStream *self = OW_BUS_STREAM (stream);

  return has_pending (self)
         || g_pollable_input_stream_is_readable (
             G_POLLABLE_INPUT_STREAM (G_FILTER_INPUT_STREAM (stream)->base_stream));
}

static gboolean
wake_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  g_source_set_ready_time (source, -1);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs wake_funcs = { .dispatch = wake_dispatch };

/* Ready when the socket is, or at once when something is pending, or when a message is
 * injected (from another thread) while GDBus waits. */
static GSource *
ow_bus_stream_create_source (GPollableInputStream *stream, GCancellable *cancellable)
{
  OwBusStream *self = OW_BUS_STREAM (stream);
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autoptr (GSource) base_source = NULL;
  GSource *source;

  if (has_pending (self))
    return g_pollable_source_new_full (stream, base_source = g_timeout_source_new (0),
                                       cancellable);
  base_source = g_pollable_input_stream_create_source (
      G_POLLABLE_INPUT_STREAM (G_FILTER_INPUT_STREAM (stream)->base_stream), NULL);
  source = g_pollable_source_new_full (stream, base_source, cancellable);
  g_clear_pointer (&self->wake, g_source_unref);
  self->wake = g_source_new (&wake_funcs, sizeof (GSource));
  g_source_add_child_source (source, self->wake);
  return source;
}

static gboolean
ow_bus_stream_close (GInputStream *stream, GCancellable *cancellable, GError **error)
{
  return g_io_stream_close (OW_BUS_STREAM (stream)->base_io, cancellable, error);
}

static void
ow_bus_stream_finalize (GObject *object)
{
  OwBusStream *self = OW_BUS_STREAM (object);

  g_clear_object (&self->base_io);
  g_queue_clear_full (&self->injected, (GDestroyNotify)g_bytes_unref);
  g_clear_pointer (&self->injecting, g_bytes_unref);
  g_clear_pointer (&self->wake, g_source_unref);
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
  input_class->close_fn = ow_bus_stream_close;
}

static void
ow_bus_stream_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = ow_bus_stream_can_poll;
  iface->is_readable = ow_bus_stream_is_readable;
  iface->create_source = ow_bus_stream_create_source;
  iface->read_nonblocking = ow_bus_stream_read_nonblocking;
}

static void
ow_bus_stream_init (OwBusStream *self)
{
  g_mutex_init (&self->lock);
  g_queue_init (&self->injected);
  self->in = g_malloc (READ_CHUNK);
  self->header = g_malloc (FIXED_HEADER + OW_BUS_STREAM_MAX_FIELDS);
  next_message (self);
}

/* BASE's input filtered; closing the result closes BASE. GDBus writes to a socket's own
 * output stream through the socket of the GIOStream it was given: a plain fd stream (a
 * socket is written like a pipe, and GIO ignores SIGPIPE) keeps it to the stream API. */
GIOStream *
ow_bus_stream_wrap (GSocketConnection *base)
{
  g_autoptr (OwBusStream) input = g_object_new (
      OW_TYPE_BUS_STREAM, "base-stream", g_io_stream_get_input_stream (G_IO_STREAM (base)),
      "close-base-stream", FALSE, NULL);
  g_autoptr (GOutputStream) output
      = g_unix_output_stream_new (g_socket_get_fd (g_socket_connection_get_socket (base)), FALSE);

  input->base_io = g_object_ref (G_IO_STREAM (base));
  return g_simple_io_stream_new (G_INPUT_STREAM (input), output);
}

/* The filter under CONNECTION, or NULL when it has none. */
OwBusStream *
ow_bus_stream_from_connection (GDBusConnection *connection)
{
  GInputStream *input = g_io_stream_get_input_stream (g_dbus_connection_get_stream (connection));

  return OW_IS_BUS_STREAM (input) ? OW_BUS_STREAM (input) : NULL;
}

/* FUNC is called for each refused message from now on, never after this returns with NULL. */
void
ow_bus_stream_set_refused_func (OwBusStream *self, OwBusRefusedFunc func, gpointer user_data)
{
  g_mutex_lock (&self->lock);
  self->refused_func = func;
  self->refused_data = user_data;
  g_mutex_unlock (&self->lock);
}

guint64
ow_bus_stream_get_refused (OwBusStream *self)
{
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  return self->refused;
}

/* MESSAGE (a whole message in wire format) is handed to GDBus as if it came next from the
 * socket, after the message being read. Any thread. */
void
ow_bus_stream_inject (OwBusStream *self, GBytes *message)
{
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  g_queue_push_tail (&self->injected, g_bytes_ref (message));
  g_atomic_int_set (&self->n_injected, (gint)self->injected.length);
  if (self->wake != NULL && !g_source_is_destroyed (self->wake))
    g_source_set_ready_time (self->wake, 0);
}

/* Whether the message GDBus read last came from ow_bus_stream_inject(): GDBus filters each
 * message in the reading thread before it reads the next. Reading thread only. */
gboolean
ow_bus_stream_last_was_injected (OwBusStream *self)
{
  return self->last_injected;
}
