/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-bus-guard.h"
#include "ow-cgroup-path.h"
#include "oomwatch-error.h"
#include "oomwatch-generated.h"
#include "oomwatch-names.h"

#include <malloc.h>
#include <string.h>

typedef struct
{
  double tokens;
  gint64 updated;
} Bucket;

struct _OwBusGuard
{
  gint ref_count;
  GMutex lock;         /* everything below: the filter runs in GDBus's worker thread */
  GHashTable *uids;    /* unique name → uid */
  GHashTable *buckets; /* "uid:N" or the unique name → Bucket */
  GHashTable *asking;  /* unique names whose uid the bus is being asked for */
  GDBusConnection *connection;
  GMainContext *context; /* the main loop's, where the bus is asked */
  guint filter_id;
};

static OwBusGuard *
guard_ref (OwBusGuard *self)
{
  g_atomic_int_inc (&self->ref_count);
  return self;
}

static void guard_unref (OwBusGuard *self);

/* A caller's uid is asked of the bus as soon as it first calls, whatever it calls, so that
 * its per-uid budget (or root's exemption) applies from its next calls on. */
typedef struct
{
  OwBusGuard *guard;
  char *name;
} UidQuery;

static void
uid_query_free (UidQuery *query)
{
  guard_unref (query->guard);
  g_free (query->name);
  g_free (query);
}

static void
on_uid_reply (GObject *object, GAsyncResult *result, gpointer user_data)
{
  UidQuery *query = user_data;
  g_autoptr (GVariant) reply
      = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, NULL);
  guint32 uid;

  if (reply != NULL)
    {
      g_variant_get (reply, "(u)", &uid);
      ow_bus_guard_set_uid (query->guard, query->name, uid);
    }
  g_mutex_lock (&query->guard->lock);
  g_hash_table_remove (query->guard->asking, query->name);
  g_mutex_unlock (&query->guard->lock);
  uid_query_free (query);
}

static gboolean
ask_uid (gpointer user_data)
{
  UidQuery *query = user_data;

  if (query->guard->connection == NULL)
    {
      uid_query_free (query);
      return G_SOURCE_REMOVE;
    }
  g_dbus_connection_call (query->guard->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetConnectionUnixUser",
                          g_variant_new ("(s)", query->name), G_VARIANT_TYPE ("(u)"),
                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_uid_reply, query);
  return G_SOURCE_REMOVE;
}

/* Called with the lock held, from the worker thread. */
static void
start_asking (OwBusGuard *self, const char *sender)
{
  UidQuery *query;

  if (self->context == NULL || !g_hash_table_add (self->asking, g_strdup (sender)))
    return;
  query = g_new0 (UidQuery, 1);
  query->guard = guard_ref (self);
  query->name = g_strdup (sender);
  /* ask_uid owns the query from here (it frees it, or hands it to the bus call). */
  g_main_context_invoke (self->context, ask_uid, query);
  /* cppcheck-suppress memleak */
}

static gboolean
take_token (OwBusGuard *self, const char *key)
{
  Bucket *bucket = g_hash_table_lookup (self->buckets, key);
  gint64 now = g_get_monotonic_time ();

  if (bucket == NULL)
    {
      bucket = g_new0 (Bucket, 1);
      bucket->tokens = OW_BUS_GUARD_BURST;
      bucket->updated = now;
      g_hash_table_insert (self->buckets, g_strdup (key), bucket);
    }
  bucket->tokens
      = MIN (OW_BUS_GUARD_BURST,
             bucket->tokens + (double)(now - bucket->updated) * OW_BUS_GUARD_RATE / G_USEC_PER_SEC);
  bucket->updated = now;
  if (bucket->tokens < 1)
    return FALSE;
  bucket->tokens -= 1;
  return TRUE;
}

/* Whether SENDER may make one more call now. Root is never limited. */
static gboolean
within_rate (OwBusGuard *self, const char *sender)
{
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  gpointer uid;
  g_autofree char *key = NULL;

  if (g_hash_table_lookup_extended (self->uids, sender, NULL, &uid))
    {
      if (GPOINTER_TO_UINT (uid) == 0)
        return TRUE;
      key = g_strdup_printf ("uid:%u", GPOINTER_TO_UINT (uid));
    }
  else
    start_asking (self, sender);
  return take_token (self, key != NULL ? key : sender);
}

static const char *
expected_signature (const char *interface, const char *member)
{
  static const struct
  {
    const char *interface, *member, *signature;
  } standard[] = {
    { "org.freedesktop.DBus.Properties", "Get", "ss" },
    { "org.freedesktop.DBus.Properties", "GetAll", "s" },
    { "org.freedesktop.DBus.Properties", "Set", "ssv" },
    { "org.freedesktop.DBus.Introspectable", "Introspect", "" },
    { "org.freedesktop.DBus.Peer", "Ping", "" },
    { "org.freedesktop.DBus.Peer", "GetMachineId", "" },
  };
  static GHashTable *ours; /* member → in-signature of our interface, built once */
  static gsize ours_ready;

  if (g_once_init_enter (&ours_ready))
    {
      GDBusInterfaceInfo *info = oomwatch_manager_interface_info ();
      GHashTable *table = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);

      for (guint i = 0; info->methods[i] != NULL; i++)
        {
          GString *signature = g_string_new (NULL);
          GDBusArgInfo **args = info->methods[i]->in_args;

          for (guint j = 0; args != NULL && args[j] != NULL; j++)
            g_string_append (signature, args[j]->signature);
          g_hash_table_insert (table, info->methods[i]->name, g_string_free (signature, FALSE));
        }
      ours = table;
      g_once_init_leave (&ours_ready, 1);
    }
  if (g_strcmp0 (interface, OOMWATCH_MANAGER_INTERFACE) == 0)
    return g_hash_table_lookup (ours, member);
  for (gsize i = 0; i < G_N_ELEMENTS (standard); i++)
    if (g_strcmp0 (interface, standard[i].interface) == 0
        && g_strcmp0 (member, standard[i].member) == 0)
      return standard[i].signature;
  return NULL;
}

/* Why MESSAGE is refused before any work (a D-Bus error name and text), or FALSE. */
static gboolean
refuse (OwBusGuard *self, GDBusMessage *message, const char **error_name, char **text)
{
  const char *interface = g_dbus_message_get_interface (message);
  const char *member = g_dbus_message_get_member (message);
  const char *signature = g_dbus_message_get_signature (message);
  const char *expected = expected_signature (interface, member);
  GVariant *body = g_dbus_message_get_body (message);
  g_autoptr (GVariant) options = NULL;
  g_autoptr (GVariant) path = NULL;

  if (g_dbus_message_get_num_unix_fds (message) > 0
      || g_dbus_message_get_unix_fd_list (message) != NULL)
    {
      *error_name = "org.freedesktop.DBus.Error.InvalidArgs";
      *text = g_strdup ("oomwatchd does not accept file descriptors");
      return TRUE;
    }
  if (expected != NULL && g_strcmp0 (signature ?: "", expected) != 0)
    {
      *error_name = "org.freedesktop.DBus.Error.InvalidArgs";
      *text = g_strdup_printf ("%s.%s takes (%s)", interface, member, expected);
      return TRUE;
    }
  /* Our methods that take a path take it first: a path longer than any cgroup's is refused as
   * the methods themselves would, only earlier. */
  if (g_strcmp0 (interface, OOMWATCH_MANAGER_INTERFACE) == 0 && expected != NULL
      && expected[0] == 's' && (path = g_variant_get_child_value (body, 0)) != NULL
      && g_variant_get_size (path) > OW_CGROUP_PATH_MAX + 1)
    {
      *error_name = OOMWATCH_ERROR_PREFIX "InvalidCgroup";
      *text = g_strdup_printf ("Invalid cgroup path: longer than %d bytes", OW_CGROUP_PATH_MAX);
      return TRUE;
    }
  if (body != NULL && g_variant_get_size (body) > OW_BUS_GUARD_MAX_BODY)
    {
      *error_name = "org.freedesktop.DBus.Error.InvalidArgs";
      *text = g_strdup_printf ("Calls to oomwatchd are at most %d bytes", OW_BUS_GUARD_MAX_BODY);
      return TRUE;
    }
  if (g_strcmp0 (interface, OOMWATCH_MANAGER_INTERFACE) == 0 && g_strcmp0 (member, "Watch") == 0
      && (options = g_variant_get_child_value (body, 1)) != NULL
      && g_variant_n_children (options) > OW_BUS_GUARD_MAX_OPTIONS)
    {
      *error_name = "org.freedesktop.DBus.Error.InvalidArgs";
      *text = g_strdup_printf ("Watch takes at most %d options", OW_BUS_GUARD_MAX_OPTIONS);
      return TRUE;
    }
  if (!within_rate (self, g_dbus_message_get_sender (message)))
    {
      *error_name = OOMWATCH_ERROR_PREFIX "LimitExceeded";
      *text = g_strdup_printf ("Too many calls: callers that are not root may make %d per "
                               "second (rate limit)",
                               OW_BUS_GUARD_RATE);
      return TRUE;
    }
  return FALSE;
}

/* A huge message leaves the heap grown by what its parsing took: give that back as soon as
 * GDBus has freed it. Object data is dropped last when the message is finalized, after its
 * body, so this runs right after the free, in the thread that freed it. */
static void
trim_heap (gpointer data)
{
  malloc_trim (0);
}

static GDBusMessage *
filter (GDBusConnection *connection, GDBusMessage *message, gboolean incoming, gpointer user_data)
{
  OwBusGuard *self = user_data;
  g_autoptr (GDBusMessage) reply = NULL;
  g_autofree char *text = NULL;
  const char *error_name = NULL;
  gboolean large;

  if (!incoming || g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_METHOD_CALL
      || !refuse (self, message, &error_name, &text))
    return message;
  large = g_dbus_message_get_body (message) != NULL
          && g_variant_get_size (g_dbus_message_get_body (message)) > OW_BUS_GUARD_MAX_BODY;
  if (!(g_dbus_message_get_flags (message) & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED))
    {
      reply = g_dbus_message_new_method_error_literal (message, error_name, text);
      g_dbus_connection_send_message (connection, reply, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL,
                                      NULL);
    }
  if (large)
    g_object_set_data_full (G_OBJECT (message), "oomwatch-trim", message, trim_heap);
  g_object_unref (message); /* closes its fds; GDBus frees the body after the filters */
  return NULL;
}

void
ow_bus_guard_attach (OwBusGuard *self, GDBusConnection *connection)
{
  ow_bus_guard_detach (self);
  self->connection = g_object_ref (connection);
  self->context = g_main_context_ref_thread_default ();
  self->filter_id = g_dbus_connection_add_filter (connection, filter, self, NULL);
}

void
ow_bus_guard_detach (OwBusGuard *self)
{
  if (self->connection == NULL)
    return;
  g_dbus_connection_remove_filter (self->connection, self->filter_id);
  g_clear_object (&self->connection);
  /* The filter may still be running in the worker thread (GDBus says so). */
  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_mutex_unlock (&self->lock);
}

void
ow_bus_guard_set_uid (OwBusGuard *self, const char *name, guint32 uid)
{
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  g_hash_table_insert (self->uids, g_strdup (name), GUINT_TO_POINTER (uid));
  g_hash_table_remove (self->buckets, name);
}

gboolean
ow_bus_guard_get_uid (OwBusGuard *self, const char *name, guint32 *uid)
{
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  gpointer value;

  if (!g_hash_table_lookup_extended (self->uids, name, NULL, &value))
    return FALSE;
  *uid = GPOINTER_TO_UINT (value);
  return TRUE;
}

void
ow_bus_guard_forget (OwBusGuard *self, const char *name)
{
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  g_hash_table_remove (self->uids, name);
  g_hash_table_remove (self->buckets, name);
}

OwBusGuard *
ow_bus_guard_new (void)
{
  OwBusGuard *self = g_new0 (OwBusGuard, 1);

  self->ref_count = 1;
  g_mutex_init (&self->lock);
  self->asking = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->uids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->buckets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return self;
}

static void
guard_unref (OwBusGuard *self)
{
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_hash_table_unref (self->asking);
  g_hash_table_unref (self->uids);
  g_hash_table_unref (self->buckets);
  g_mutex_clear (&self->lock);
  g_free (self);
}

/* Queries still on their way keep what they need of the guard until they return. */
void
ow_bus_guard_free (OwBusGuard *self)
{
  if (self == NULL)
    return;
  ow_bus_guard_detach (self);
  guard_unref (self);
}
