/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-bus-output.h"
#include "ow-bus-result.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Where a message's serial is in its fixed header (D-Bus spec, "Message Format"). */
#define HEADER_SERIAL_OFFSET 8

struct _OwBusOutput
{
  GOutputStream parent;
  /* The socket is written from GDBus's worker thread and by ow_bus_output_send_now() from
   * the daemon's own: everything below is used with the lock held. */
  GMutex lock;
  int fd; /* our duplicate; -1 once closed */
  /* GDBus's write in progress: one at a time (GOutputStream's pending flag). */
  const void *buffer;
  gsize count;
  GCancellable *cancellable;
  GAsyncReadyCallback callback;
  gpointer user_data;
  GSource *waiting; /* for room in the socket */
  /* What finish() returns. */
  gssize written;
  GError *error;
  /* GDBus writes one message per write, the rest of it in the next when the socket took part. */
  gboolean mid_message;
  guint32 message_serial;
  guint32 written_serial; /* the last of GDBus's messages written whole */
  /* The part of a message sent now that the socket did not take: written before anything. */
  GBytes *residue;
  gsize residue_sent;
  GSource *flushing;
};

/* The stream is the result of its own writes (one at a time): no object made per write. */
G_DEFINE_FINAL_TYPE_WITH_CODE (OwBusOutput, ow_bus_output, G_TYPE_OUTPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_ASYNC_RESULT,
                                                      ow_bus_result_iface_init))

/* send(2) without blocking or SIGPIPE: bytes sent, or -1 with errno. */
static gssize
send_some (int fd, const void *buffer, gsize count)
{
  gssize sent;

  do
    sent = send (fd, buffer, count, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  return sent;
}

static gboolean
is_full (int saved_errno)
{
  return saved_errno == EAGAIN || saved_errno == EWOULDBLOCK;
}

/* Sends what is left of the residue: TRUE when none is left (sent, or dropped on an error). */
static gboolean
flush_residue (OwBusOutput *self)
{
  gsize size;
  const guint8 *data;
  gssize sent;

  if (self->residue == NULL)
    return TRUE;
  data = g_bytes_get_data (self->residue, &size);
  sent = self->fd < 0 ? -1 : send_some (self->fd, data + self->residue_sent,
                                        size - self->residue_sent);
  if (sent < 0 && self->fd >= 0 && is_full (errno))
    return FALSE;
  if (sent >= 0)
    self->residue_sent += (gsize)sent;
  if (sent >= 0 && self->residue_sent < size)
    return FALSE;
  g_clear_pointer (&self->residue, g_bytes_unref);
  return TRUE;
}

static void
note_sent (OwBusOutput *self, gsize sent)
{
  if (!self->mid_message && self->count > HEADER_SERIAL_OFFSET + sizeof (guint32))
    {
      const guint8 *header = self->buffer;
      guint32 serial;

      memcpy (&serial, header + HEADER_SERIAL_OFFSET, sizeof serial);
      self->message_serial = header[0] == 'B' ? GUINT32_FROM_BE (serial) : GUINT32_FROM_LE (serial);
    }
  self->mid_message = sent < self->count;
  if (!self->mid_message)
    self->written_serial = self->message_serial;
}

/* Sends what GDBus asked, or fails; FALSE when the socket is full. Lock held. */
static gboolean
try_send (OwBusOutput *self)
{
  gssize sent;
  int saved;

  g_clear_error (&self->error);
  self->written = -1;
  if (g_cancellable_set_error_if_cancelled (self->cancellable, &self->error))
    return TRUE;
  if (self->fd < 0)
    {
      g_set_error_literal (&self->error, G_IO_ERROR, G_IO_ERROR_CLOSED, "The bus stream is closed");
      return TRUE;
    }
  if (!flush_residue (self))
    return FALSE;
  sent = send_some (self->fd, self->buffer, self->count);
  saved = errno;
  if (sent < 0 && is_full (saved))
    return FALSE;
  if (sent < 0)
    g_set_error (&self->error, G_IO_ERROR, g_io_error_from_errno (saved),
                 "Error writing to the bus: %s", g_strerror (saved));
  else
    note_sent (self, (gsize)sent);
  self->written = sent;
  return TRUE;
}

/* Ends GDBus's write: called with the lock held, which it releases before calling back. */
static void
complete_unlock (OwBusOutput *self)
{
  GAsyncReadyCallback callback = g_steal_pointer (&self->callback);
  gpointer user_data = self->user_data;

  g_clear_object (&self->cancellable);
  g_mutex_unlock (&self->lock);
  callback (G_OBJECT (self), G_ASYNC_RESULT (self), user_data);
}

static gboolean
on_room (int fd, GIOCondition condition, gpointer user_data)
{
  OwBusOutput *self = user_data;
  GSource *waited;

  g_mutex_lock (&self->lock);
  if (!try_send (self))
    {
      g_mutex_unlock (&self->lock);
      return G_SOURCE_CONTINUE;
    }
  /* Taken first: the callback may start the next write, and wait again. */
  waited = g_steal_pointer (&self->waiting);
  complete_unlock (self);
  g_source_unref (waited);
  return G_SOURCE_REMOVE;
}

/* Called back at once when the socket takes it: GOutputStream's own task around every write
 * still completes GDBus's call in a later iteration. */
static void
ow_bus_output_write_async (GOutputStream *stream, const void *buffer, gsize count, int io_priority,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  OwBusOutput *self = OW_BUS_OUTPUT (stream);

  g_mutex_lock (&self->lock);
  self->buffer = buffer;
  self->count = count;
  self->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  self->callback = callback;
  self->user_data = user_data;
  if (try_send (self))
    {
      complete_unlock (self);
      return;
    }
  self->waiting = g_unix_fd_source_new (self->fd, G_IO_OUT);
  if (cancellable != NULL)
    {
      g_autoptr (GSource) cancelled = g_cancellable_source_new (cancellable);

      g_source_set_dummy_callback (cancelled);
      g_source_add_child_source (self->waiting, cancelled);
    }
  g_source_set_callback (self->waiting, G_SOURCE_FUNC (on_room), g_object_ref (self),
                         g_object_unref);
  g_source_set_static_name (self->waiting, "[oomwatchd] bus write");
  g_source_attach (self->waiting, g_main_context_get_thread_default ());
  g_mutex_unlock (&self->lock);
}

static gssize
ow_bus_output_write_finish (GOutputStream *stream, GAsyncResult *result, GError **error)
{
  OwBusOutput *self = OW_BUS_OUTPUT (stream);

  g_return_val_if_fail (result == G_ASYNC_RESULT (self), -1);
  if (self->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&self->error));
      return -1;
    }
  return self->written;
}

static gboolean
on_flush_room (int fd, GIOCondition condition, gpointer user_data)
{
  OwBusOutput *self = user_data;
  gboolean done;

  g_mutex_lock (&self->lock);
  done = flush_residue (self);
  if (done)
    g_clear_pointer (&self->flushing, g_source_unref);
  g_mutex_unlock (&self->lock);
  return done ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

/* Lock held. */
static void
close_fd (OwBusOutput *self)
{
  if (self->flushing != NULL)
    {
      g_source_destroy (self->flushing);
      g_clear_pointer (&self->flushing, g_source_unref);
    }
  g_clear_pointer (&self->residue, g_bytes_unref);
  if (self->fd >= 0)
    close (self->fd);
  self->fd = -1;
}

/* Sends MESSAGE, a whole message, from the caller's thread when nothing GDBus was given is
 * still to be written: no write of its in progress and its messages written up to LAST_SERIAL
 * (the caller's thread's last, so the caller's messages keep their order). What the socket
 * does not take at once goes before anything else, from a source of the caller's context.
 * FALSE, nothing written: GDBus must send it. */
gboolean
ow_bus_output_send_now (OwBusOutput *self, GBytes *message, guint32 last_serial)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (message, &size);
  gssize sent;

  g_return_val_if_fail (OW_IS_BUS_OUTPUT (self), FALSE);
  g_mutex_lock (&self->lock);
  if (self->fd < 0 || self->callback != NULL || self->mid_message || self->residue != NULL
      || (gint32)(self->written_serial - last_serial) < 0) /* GDBus's serials wrap */
    {
      g_mutex_unlock (&self->lock);
      return FALSE;
    }
  sent = send_some (self->fd, data, size);
  if (sent <= 0)
    {
      g_mutex_unlock (&self->lock);
      return FALSE;
    }
  if ((gsize)sent < size)
    {
      self->residue = g_bytes_ref (message);
      self->residue_sent = (gsize)sent;
      /* The last residue's source may still be there, when GDBus's thread wrote it. */
      if (self->flushing == NULL)
        {
          self->flushing = g_unix_fd_source_new (self->fd, G_IO_OUT);
          g_source_set_callback (self->flushing, G_SOURCE_FUNC (on_flush_room),
                                 g_object_ref (self), g_object_unref);
          g_source_set_static_name (self->flushing, "[oomwatchd] bus write (own)");
          g_source_attach (self->flushing, g_main_context_get_thread_default ());
        }
    }
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/* Writes out what is left of a message sent now, waiting up to TIMEOUT_MS for room: for the
 * end, when no main loop runs its source any more. FALSE when some is left. */
gboolean
ow_bus_output_flush_now (OwBusOutput *self, int timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;
  gboolean done;

  g_return_val_if_fail (OW_IS_BUS_OUTPUT (self), FALSE);
  for (;;)
    {
      GPollFD poll_fd = { .events = G_IO_OUT };
      gint64 left;

      g_mutex_lock (&self->lock);
      done = flush_residue (self);
      poll_fd.fd = self->fd;
      g_mutex_unlock (&self->lock);
      left = (deadline - g_get_monotonic_time ()) / 1000;
      if (done || left <= 0)
        return done;
      g_poll (&poll_fd, 1, (int)left);
    }
}

static gboolean
ow_bus_output_close (GOutputStream *stream, GCancellable *cancellable, GError **error)
{
  OwBusOutput *self = OW_BUS_OUTPUT (stream);

  g_mutex_lock (&self->lock);
  close_fd (self);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static void
ow_bus_output_finalize (GObject *object)
{
  OwBusOutput *self = OW_BUS_OUTPUT (object);

  if (self->waiting != NULL)
    {
      g_source_destroy (self->waiting);
      g_source_unref (self->waiting);
    }
  close_fd (self);
  g_clear_object (&self->cancellable);
  g_clear_error (&self->error);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (ow_bus_output_parent_class)->finalize (object);
}

static void
ow_bus_output_class_init (OwBusOutputClass *klass)
{
  GOutputStreamClass *output_class = G_OUTPUT_STREAM_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = ow_bus_output_finalize;
  output_class->write_async = ow_bus_output_write_async;
  output_class->write_finish = ow_bus_output_write_finish;
  output_class->close_fn = ow_bus_output_close;
}

static void
ow_bus_output_init (OwBusOutput *self)
{
  g_mutex_init (&self->lock);
  self->fd = -1;
}

GOutputStream *
ow_bus_output_new (int fd, GError **error)
{
  g_autoptr (OwBusOutput) self = g_object_new (OW_TYPE_BUS_OUTPUT, NULL);

  self->fd = fcntl (fd, F_DUPFD_CLOEXEC, 3);
  if (self->fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Cannot duplicate the bus socket: %s", g_strerror (saved));
      return NULL;
    }
  return G_OUTPUT_STREAM (g_steal_pointer (&self));
}
