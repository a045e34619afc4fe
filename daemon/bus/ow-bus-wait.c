/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-bus-wait.h"
#include "ow-str-hash.h"

typedef struct
{
  GQueue parked;   /* GBytes, oldest first */
  guint in_flight; /* admitted, not handed to GDBus yet */
  gboolean answered;
} Sender;

typedef struct
{
  char *name;
  GBytes *message;
} Ready;

struct _OwBusWait
{
  GMutex lock;         /* everything below: messages come in GDBus's worker thread */
  GHashTable *senders; /* unique name → Sender, while its messages wait */
  GQueue ready;        /* Ready: admitted messages, in order */
  gint n_ready;        /* its length, read without the lock */
  gsize parked_bytes;
  GDBusConnection *connection;
  OwBusStream *stream;
  GCancellable *cancellable;
  guint asking; /* questions to the bus not answered yet */
  gboolean stopping;
  const OwBusWaitFuncs *funcs;
  gpointer funcs_data;
  GMainContext *context; /* the asking thread's */
  GMainLoop *loop;
  GThread *thread;
};

typedef struct
{
  OwBusWait *wait;
  char *name;
  GDBusConnection *connection;
  GCancellable *cancellable;
} Query;

static void
sender_free (Sender *sender)
{
  g_queue_clear_full (&sender->parked, (GDestroyNotify)g_bytes_unref);
  g_free (sender);
}

static void
ready_free (Ready *ready)
{
  g_free (ready->name);
  g_bytes_unref (ready->message);
  g_free (ready);
}

/* Called with the lock held. */
static void
drop_sender (OwBusWait *self, const char *name, Sender *sender)
{
  for (GList *l = sender->parked.head; l != NULL; l = l->next)
    self->parked_bytes -= g_bytes_get_size (l->data);
  g_hash_table_remove (self->senders, name);
}

/* MESSAGE from NAME goes to GDBus after the ready ones, if admitted. Lock held. */
static void
admit (OwBusWait *self, const char *name, Sender *sender, GBytes *message)
{
  OwBusHeader header;
  gsize size;
  const guint8 *data = g_bytes_get_data (message, &size);
  Ready *ready;

  ow_bus_header_read_fixed (data, &header);
  ow_bus_header_read_fields (data, MIN (size, OW_BUS_HEADER_FIXED + header.fields_len), &header);
  if (self->funcs->admit (&header, self->funcs_data))
    {
      ready = g_new0 (Ready, 1);
      ready->name = g_strdup (name);
      ready->message = g_bytes_ref (message);
      g_queue_push_tail (&self->ready, ready);
      g_atomic_int_set (&self->n_ready, (gint)self->ready.length);
      sender->in_flight++;
    }
  ow_bus_header_clear (&header);
}

/* NAME's uid is settled (known, or never will be): what it left waiting is admitted or
 * refused, in order. Lock held. */
static void
release (OwBusWait *self, const char *name, Sender *sender)
{
  GBytes *message;

  sender->answered = TRUE;
  while ((message = g_queue_pop_head (&sender->parked)) != NULL)
    {
      self->parked_bytes -= g_bytes_get_size (message);
      admit (self, name, sender, message);
      g_bytes_unref (message);
    }
  if (sender->in_flight == 0)
    g_hash_table_remove (self->senders, name);
}

static void
on_answer (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Query *query = user_data;
  OwBusWait *self = query->wait;
  g_autoptr (GVariant) reply
      = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, NULL);
  g_autoptr (OwBusStream) stream = NULL;
  guint32 uid = 0;
  Sender *sender;

  if (reply != NULL)
    g_variant_get (reply, "(u)", &uid);
  if (!self->stopping)
    self->funcs->learned (query->name, reply != NULL, uid, self->funcs_data);
  g_mutex_lock (&self->lock);
  sender = g_hash_table_lookup (self->senders, query->name);
  if (sender != NULL)
    release (self, query->name, sender);
  if (self->stream != NULL && self->ready.length > 0)
    stream = g_object_ref (self->stream);
  if (--self->asking == 0 && self->stopping)
    g_main_loop_quit (self->loop);
  g_mutex_unlock (&self->lock);
  if (stream != NULL)
    ow_bus_stream_wake (stream);
  g_object_unref (query->connection);
  g_object_unref (query->cancellable);
  g_free (query->name);
  g_free (query);
}

static gboolean
ask (gpointer user_data)
{
  Query *query = user_data;

  g_dbus_connection_call (query->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetConnectionUnixUser",
                          g_variant_new ("(s)", query->name), G_VARIANT_TYPE ("(u)"),
                          G_DBUS_CALL_FLAGS_NONE, -1, query->cancellable, on_answer, query);
  return G_SOURCE_REMOVE;
}

/* Called with the lock held, in GDBus's worker thread. */
static void
start_asking (OwBusWait *self, const char *name)
{
  Query *query = g_new0 (Query, 1);

  query->wait = self;
  query->name = g_strdup (name);
  query->connection = g_object_ref (self->connection);
  query->cancellable = g_object_ref (self->cancellable);
  self->asking++;
  /* ask() owns the query from here: on_answer() frees it. */
  g_main_context_invoke (self->context, ask, query);
  /* cppcheck-suppress memleak */
}

/* Whether NAME has messages waiting or admitted but not handed out: its next ones must wait
 * behind them. */
gboolean
ow_bus_wait_waiting (OwBusWait *self, const char *name)
{
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  return g_hash_table_contains (self->senders, name);
}

/* Keeps MESSAGE (from HEADER->sender) until its sender's uid is settled, asking the bus for it
 * first; FALSE when there is no room (the caller refuses it). In GDBus's worker thread. */
gboolean
ow_bus_wait_keep (OwBusWait *self, const OwBusHeader *header, GBytes *message)
{
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  Sender *sender;

  if (header->sender == NULL || self->connection == NULL)
    return FALSE;
  sender = g_hash_table_lookup (self->senders, header->sender);
  if (sender == NULL)
    {
      sender = g_new0 (Sender, 1);
      g_queue_init (&sender->parked);
      g_hash_table_insert (self->senders, g_strdup (header->sender), sender);
      start_asking (self, header->sender);
    }
  if (sender->answered)
    {
      admit (self, header->sender, sender, message);
      if (sender->in_flight == 0)
        g_hash_table_remove (self->senders, header->sender);
      return TRUE;
    }
  if (sender->parked.length >= OW_BUS_WAIT_PER_SENDER
      || self->parked_bytes + g_bytes_get_size (message) > OW_BUS_WAIT_BYTES)
    return FALSE;
  self->parked_bytes += g_bytes_get_size (message);
  g_queue_push_tail (&sender->parked, g_bytes_ref (message));
  return TRUE;
}

/* The next admitted message, for GDBus to read, or NULL. In GDBus's worker thread. */
GBytes *
ow_bus_wait_next (OwBusWait *self)
{
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = NULL;
  Ready *ready;
  Sender *sender;
  GBytes *message;

  if (g_atomic_int_get (&self->n_ready) == 0)
    return NULL;
  locker = g_mutex_locker_new (&self->lock);
  ready = g_queue_pop_head (&self->ready);
  g_atomic_int_set (&self->n_ready, (gint)self->ready.length);
  if (ready == NULL)
    return NULL;
  sender = g_hash_table_lookup (self->senders, ready->name);
  if (sender != NULL && sender->in_flight > 0 && --sender->in_flight == 0 && sender->answered
      && sender->parked.length == 0)
    g_hash_table_remove (self->senders, ready->name);
  message = g_bytes_ref (ready->message);
  ready_free (ready);
  return message;
}

/* NAME left the bus: what it left waiting is dropped. */
void
ow_bus_wait_forget (OwBusWait *self, const char *name)
{
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  Sender *sender = g_hash_table_lookup (self->senders, name);

  if (sender != NULL)
    drop_sender (self, name, sender);
}

void
ow_bus_wait_attach (OwBusWait *self, GDBusConnection *connection, OwBusStream *stream)
{
  ow_bus_wait_detach (self);
  g_mutex_lock (&self->lock);
  self->connection = g_object_ref (connection);
  self->stream = g_object_ref (stream);
  self->cancellable = g_cancellable_new ();
  g_mutex_unlock (&self->lock);
}

void
ow_bus_wait_detach (OwBusWait *self)
{
  g_autoptr (GCancellable) cancellable = NULL;

  g_mutex_lock (&self->lock);
  cancellable = g_steal_pointer (&self->cancellable);
  g_clear_object (&self->connection);
  g_clear_object (&self->stream);
  g_hash_table_remove_all (self->senders);
  g_queue_clear_full (&self->ready, (GDestroyNotify)ready_free);
  g_atomic_int_set (&self->n_ready, 0);
  self->parked_bytes = 0;
  g_mutex_unlock (&self->lock);
  if (cancellable != NULL)
    g_cancellable_cancel (cancellable);
}

static gpointer
run_asking_thread (gpointer user_data)
{
  OwBusWait *self = user_data;

  g_main_context_push_thread_default (self->context);
  g_main_loop_run (self->loop);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

OwBusWait *
ow_bus_wait_new (const OwBusWaitFuncs *funcs, gpointer user_data)
{
  OwBusWait *self = g_new0 (OwBusWait, 1);

  g_mutex_init (&self->lock);
  self->senders
      = g_hash_table_new_full (ow_str_hash, g_str_equal, g_free, (GDestroyNotify)sender_free);
  g_queue_init (&self->ready);
  self->funcs = funcs;
  self->funcs_data = user_data;
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  self->thread = g_thread_new ("oomwatchd-uid", run_asking_thread, self);
  return self;
}

/* In the asking thread: stop once every question was answered (or cancelled). */
static gboolean
stop_when_answered (gpointer user_data)
{
  OwBusWait *self = user_data;
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  self->stopping = TRUE;
  if (self->asking == 0)
    g_main_loop_quit (self->loop);
  return G_SOURCE_REMOVE;
}

void
ow_bus_wait_free (OwBusWait *self)
{
  if (self == NULL)
    return;
  ow_bus_wait_detach (self);
  g_main_context_invoke (self->context, stop_when_answered, self);
  g_thread_join (self->thread);
  g_main_loop_unref (self->loop);
  g_main_context_unref (self->context);
  g_hash_table_unref (self->senders);
  g_mutex_clear (&self->lock);
  g_free (self);
}
