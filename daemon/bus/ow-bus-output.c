/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-bus-output.h"
#include "ow-bus-result.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/socket.h>

struct _OwBusOutput
{
  GOutputStream parent;
  int fd;
  /* The write in progress: one at a time (GOutputStream's pending flag). */
  const void *buffer;
  gsize count;
  GCancellable *cancellable;
  GAsyncReadyCallback callback;
  gpointer user_data;
  GSource *waiting; /* for room in the socket */
  /* What finish() returns. */
  gssize written;
  GError *error;
};

/* The stream is the result of its own writes (one at a time): no object made per write. */
G_DEFINE_FINAL_TYPE_WITH_CODE (OwBusOutput, ow_bus_output, G_TYPE_OUTPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_ASYNC_RESULT,
                                                      ow_bus_result_iface_init))

/* Sends what is asked, or fails; FALSE when the socket is full. */
static gboolean
try_send (OwBusOutput *self)
{
  gssize sent;
  int saved;

  g_clear_error (&self->error);
  self->written = -1;
  if (g_cancellable_set_error_if_cancelled (self->cancellable, &self->error))
    return TRUE;
  do
    sent = send (self->fd, self->buffer, self->count, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  saved = errno;
  if (sent < 0 && (saved == EAGAIN || saved == EWOULDBLOCK))
    return FALSE;
  if (sent < 0)
    g_set_error (&self->error, G_IO_ERROR, g_io_error_from_errno (saved),
                 "Error writing to the bus: %s", g_strerror (saved));
  self->written = sent;
  return TRUE;
}

static void
complete (OwBusOutput *self)
{
  GAsyncReadyCallback callback = self->callback;

  self->callback = NULL;
  g_clear_object (&self->cancellable);
  callback (G_OBJECT (self), G_ASYNC_RESULT (self), self->user_data);
}

static gboolean
on_room (int fd, GIOCondition condition, gpointer user_data)
{
  OwBusOutput *self = user_data;
  GSource *waited;

  if (!try_send (self))
    return G_SOURCE_CONTINUE;
  /* Taken first: the callback may start the next write, and wait again. */
  waited = g_steal_pointer (&self->waiting);
  complete (self);
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

  g_return_if_fail (self->callback == NULL);
  self->buffer = buffer;
  self->count = count;
  self->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  self->callback = callback;
  self->user_data = user_data;
  if (try_send (self))
    {
      complete (self);
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

/* The fd is the socket's, closed with it. */
static gboolean
ow_bus_output_close (GOutputStream *stream, GCancellable *cancellable, GError **error)
{
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
  g_clear_object (&self->cancellable);
  g_clear_error (&self->error);
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
  self->fd = -1;
}

/* Writes to FD, a non-blocking socket that stays its owner's. */
GOutputStream *
ow_bus_output_new (int fd)
{
  OwBusOutput *self = g_object_new (OW_TYPE_BUS_OUTPUT, NULL);

  self->fd = fd;
  return G_OUTPUT_STREAM (self);
}
