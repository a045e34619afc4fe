#include "ow-bus-wait.h"

typedef struct
{
  GQueue parked;   /* GBytes, oldest first */
  guint in_flight; /* handed back to the stream, not read again yet */
  gboolean answered;
} Caller;

struct _OwBusWait
{
  GMutex lock;         /* everything below: callers come in GDBus's worker thread */
  GHashTable *callers; /* unique name → Caller, while its calls wait */
  gsize parked_bytes;
  GDBusConnection *connection;
  OwBusStream *stream;
  GCancellable *cancellable;
  guint asking; /* questions to the bus not answered yet */
  gboolean stopping;
  OwBusWaitLearnedFunc learned;
  gpointer learned_data;
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
caller_free (Caller *caller)
{
  g_queue_clear_full (&caller->parked, (GDestroyNotify)g_bytes_unref);
  g_free (caller);
}

/* Called with the lock held. */
static void
drop_caller (OwBusWait *self, const char *name, Caller *caller)
{
  for (GList *l = caller->parked.head; l != NULL; l = l->next)
    self->parked_bytes -= g_bytes_get_size (l->data);
  g_hash_table_remove (self->callers, name);
}

/* The caller's uid is known (or will never be): its calls go round again, in order. Called
 * with the lock held. */
static void
release (OwBusWait *self, const char *name, Caller *caller)
{
  GBytes *message;

  caller->answered = TRUE;
  while ((message = g_queue_pop_head (&caller->parked)) != NULL)
    {
      self->parked_bytes -= g_bytes_get_size (message);
      caller->in_flight++;
      if (self->stream != NULL)
        ow_bus_stream_inject (self->stream, message);
      g_bytes_unref (message);
    }
  if (caller->in_flight == 0)
    g_hash_table_remove (self->callers, name);
}

static void
on_answer (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Query *query = user_data;
  OwBusWait *self = query->wait;
  g_autoptr (GVariant) reply
      = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, NULL);
  guint32 uid = 0;
  Caller *caller;

  if (reply != NULL)
    g_variant_get (reply, "(u)", &uid);
  if (!self->stopping)
    self->learned (query->name, reply != NULL, uid, self->learned_data);
  g_mutex_lock (&self->lock);
  caller = g_hash_table_lookup (self->callers, query->name);
  if (caller != NULL)
    release (self, query->name, caller);
  if (--self->asking == 0 && self->stopping)
    g_main_loop_quit (self->loop);
  g_mutex_unlock (&self->lock);
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

/* What to do with the method call MESSAGE (run in GDBus's worker thread, from the bus
 * guard's filter). UID_KNOWN: whether its sender's uid is known. */
OwBusWaitVerdict
ow_bus_wait_check (OwBusWait *self, GDBusMessage *message, gboolean uid_known)
{
  const char *sender = g_dbus_message_get_sender (message);
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autoptr (GBytes) bytes = NULL;
  Caller *caller;
  guchar *blob;
  gsize size;

  if (sender == NULL || self->stream == NULL)
    return OW_BUS_WAIT_GO;
  caller = g_hash_table_lookup (self->callers, sender);
  if (ow_bus_stream_last_was_injected (self->stream))
    {
      if (caller != NULL && caller->in_flight > 0 && --caller->in_flight == 0
          && caller->parked.length == 0)
        g_hash_table_remove (self->callers, sender);
      return OW_BUS_WAIT_GO;
    }
  if (caller == NULL && uid_known)
    return OW_BUS_WAIT_GO;
  blob = g_dbus_message_to_blob (message, &size, G_DBUS_CAPABILITY_FLAGS_NONE, NULL);
  if (blob == NULL)
    return OW_BUS_WAIT_GO;
  bytes = g_bytes_new_take (blob, size);
  if (caller == NULL)
    {
      caller = g_new0 (Caller, 1);
      g_queue_init (&caller->parked);
      g_hash_table_insert (self->callers, g_strdup (sender), caller);
      start_asking (self, sender);
    }
  /* Behind the caller's calls that were sent round already. */
  if (caller->answered)
    {
      caller->in_flight++;
      ow_bus_stream_inject (self->stream, bytes);
      return OW_BUS_WAIT_TAKEN;
    }
  if (caller->parked.length >= OW_BUS_WAIT_PER_CALLER
      || self->parked_bytes + size > OW_BUS_WAIT_BYTES)
    return OW_BUS_WAIT_FULL;
  self->parked_bytes += size;
  g_queue_push_tail (&caller->parked, g_steal_pointer (&bytes));
  return OW_BUS_WAIT_TAKEN;
}

/* NAME left the bus: what it left waiting is dropped. */
void
ow_bus_wait_forget (OwBusWait *self, const char *name)
{
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  Caller *caller = g_hash_table_lookup (self->callers, name);

  if (caller != NULL)
    drop_caller (self, name, caller);
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
  g_hash_table_remove_all (self->callers);
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
ow_bus_wait_new (OwBusWaitLearnedFunc learned, gpointer user_data)
{
  OwBusWait *self = g_new0 (OwBusWait, 1);

  g_mutex_init (&self->lock);
  self->callers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify)caller_free);
  self->learned = learned;
  self->learned_data = user_data;
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
  g_hash_table_unref (self->callers);
  g_mutex_clear (&self->lock);
  g_free (self);
}
