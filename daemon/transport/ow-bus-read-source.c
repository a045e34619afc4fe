/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-bus-read-source.h"

/* Reads called back from one dispatch before the context's other sources (GDBus's writes)
 * get their turn: a message is two reads. */
#define CALLS_PER_DISPATCH 8

struct _OwBusReadSource
{
  GSource source;
  GMainContext *context; /* attached to */
  gpointer fd_tag;
  gboolean polling; /* the fd is in the poll set: a read waits, or waited last */
  OwBusReadTry try_read;
  gint woken;            /* atomic: try again, the fd quiet or not */
  GCancellable *watched; /* whose cancellation wakes the source (GDBus uses one) */
  gulong watched_id;
  /* The read in progress, from start() to its callback; the dispatching thread only. */
  GObject *stream;
  GAsyncResult *result;
  void *buffer;
  gsize count;
  GCancellable *cancellable;
  GAsyncReadyCallback callback;
  gpointer user_data;
  gboolean done;
  /* What finish() returns. */
  gssize got;
  GError *error;
};

/* Whether the dispatch has something to do without the fd. */
static gboolean
ready (OwBusReadSource *self)
{
  return self->done || g_atomic_int_get (&self->woken)
         || (self->callback != NULL && g_cancellable_is_cancelled (self->cancellable));
}

static void
set_polling (OwBusReadSource *self, gboolean polling)
{
  if (self->polling == polling)
    return;
  self->polling = polling;
  g_source_modify_unix_fd (&self->source, self->fd_tag, polling ? G_IO_IN : 0);
}

static void
attempt (OwBusReadSource *self)
{
  g_autoptr (GError) error = NULL;
  gssize got;

  if (g_cancellable_set_error_if_cancelled (self->cancellable, &error))
    got = -1;
  else
    got = self->try_read (self->stream, self->buffer, self->count, &error);
  if (got < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    {
      set_polling (self, TRUE);
      return;
    }
  self->done = TRUE;
  self->got = got;
  g_clear_error (&self->error);
  self->error = g_steal_pointer (&error);
}

static void
deliver (OwBusReadSource *self)
{
  g_autoptr (GObject) stream = g_steal_pointer (&self->stream);
  g_autoptr (GAsyncResult) result = g_steal_pointer (&self->result);
  GAsyncReadyCallback callback = self->callback;

  g_clear_object (&self->cancellable);
  self->callback = NULL;
  self->done = FALSE;
  callback (stream, result, self->user_data);
}

static gboolean
read_prepare (GSource *source, int *timeout)
{
  *timeout = -1;
  return ready ((OwBusReadSource *)source);
}

static gboolean
read_check (GSource *source)
{
  OwBusReadSource *self = (OwBusReadSource *)source;

  return ready (self) || (self->polling && g_source_query_unix_fd (source, self->fd_tag) != 0);
}

static gboolean
read_dispatch (GSource *source, GSourceFunc unused, gpointer unused_data)
{
  OwBusReadSource *self = (OwBusReadSource *)source;

  g_atomic_int_set (&self->woken, 0);
  for (guint i = 0; i < CALLS_PER_DISPATCH && !g_source_is_destroyed (source); i++)
    {
      if (self->callback == NULL)
        {
          /* No read waits (GDBus stopped reading): a readable fd must not spin the loop. */
          set_polling (self, FALSE);
          break;
        }
      if (!self->done)
        attempt (self);
      if (!self->done)
        break;
      deliver (self);
    }
  return G_SOURCE_CONTINUE;
}

static void
read_finalize (GSource *source)
{
  OwBusReadSource *self = (OwBusReadSource *)source;

  g_clear_error (&self->error);
  g_main_context_unref (self->context);
}

static GSourceFuncs read_funcs = {
  .prepare = read_prepare,
  .check = read_check,
  .dispatch = read_dispatch,
  .finalize = read_finalize,
};

OwBusReadSource *
ow_bus_read_source_new (int fd, OwBusReadTry try_read)
{
  OwBusReadSource *self = (OwBusReadSource *)g_source_new (&read_funcs, sizeof (OwBusReadSource));

  self->try_read = try_read;
  self->polling = TRUE;
  self->fd_tag = g_source_add_unix_fd (&self->source, fd, G_IO_IN);
  g_source_set_static_name (&self->source, "[oomwatchd] bus read");
  self->context = g_main_context_ref_thread_default ();
  g_source_attach (&self->source, self->context);
  return self;
}

/* No read may be in progress: each holds a reference to the stream that owns SELF. */
void
ow_bus_read_source_free (OwBusReadSource *self)
{
  if (self == NULL)
    return;
  g_assert (self->callback == NULL);
  if (self->watched != NULL)
    g_cancellable_disconnect (self->watched, self->watched_id);
  g_clear_object (&self->watched);
  g_source_destroy (&self->source);
  g_source_unref (&self->source);
}

static void
on_cancelled (GCancellable *cancellable, gpointer user_data)
{
  ow_bus_read_source_wake (user_data);
}

void
ow_bus_read_source_start (OwBusReadSource *self, GObject *stream, GAsyncResult *result,
                          void *buffer, gsize count, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (self->callback == NULL);
  self->stream = g_object_ref (stream);
  self->result = g_object_ref (result);
  self->buffer = buffer;
  self->count = count;
  self->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  self->callback = callback;
  self->user_data = user_data;
  self->done = FALSE;
  if (cancellable != NULL && cancellable != self->watched)
    {
      if (self->watched != NULL)
        g_cancellable_disconnect (self->watched, self->watched_id);
      g_set_object (&self->watched, cancellable);
      self->watched_id = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled), self, NULL);
    }
  attempt (self);
  /* From the dispatch or another source of the context, its next iteration sees it ready. */
  if (self->done && !g_main_context_is_owner (self->context))
    g_main_context_wakeup (self->context);
}

gssize
ow_bus_read_source_finish (OwBusReadSource *self, GError **error)
{
  if (self->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&self->error));
      return -1;
    }
  return self->got;
}

void
ow_bus_read_source_wake (OwBusReadSource *self)
{
  g_atomic_int_set (&self->woken, 1);
  g_main_context_wakeup (self->context);
}
