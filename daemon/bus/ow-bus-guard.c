/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-bus-guard.h"
#include "ow-str-hash.h"
#include "ow-bus-checks.h"
#include "ow-bus-connect.h"
#include "ow-bus-stream.h"
#include "ow-bus-wait.h"
#include "oomwatch-error.h"
#include "oomwatch-names.h"

#include <malloc.h>

/* The budget of every sender whose uid could not be learnt. */
#define UNKNOWN_UID_KEY "unknown"
#define REPLY_PREFIX "replies:"

typedef struct
{
  double tokens;
  gint64 updated;
} Bucket;

typedef enum
{
  CHARGE_OK,
  CHARGE_OVER,
  CHARGE_UNKNOWN, /* the uid is not known yet: the message waits */
} Charge;

struct _OwBusGuard
{
  GMutex lock;         /* uids, buckets, connection: used from several threads */
  GHashTable *uids;    /* unique name → uid */
  GHashTable *buckets; /* "uid:N", UNKNOWN_UID_KEY, or either after REPLY_PREFIX → Bucket */
  GDBusConnection *connection;
  OwBusStream *stream; /* under the connection, when it has the size filter */
  OwBusWait *wait;     /* messages waiting for their sender's uid */
  guint filter_id;
};

/* Called with the lock held. */
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

/* The budget SENDER's messages count against, or NULL for root's (none). SETTLED: the bus has
 * answered for SENDER, so an unknown uid shares UNKNOWN_UID_KEY. Lock held. */
static Charge
budget_key (OwBusGuard *self, const char *sender, gboolean settled, char **key)
{
  gpointer uid;

  *key = NULL;
  if (sender != NULL && g_hash_table_lookup_extended (self->uids, sender, NULL, &uid))
    {
      if (GPOINTER_TO_UINT (uid) != 0)
        *key = g_strdup_printf ("uid:%u", GPOINTER_TO_UINT (uid));
      return CHARGE_OK;
    }
  if (!settled)
    return CHARGE_UNKNOWN;
  *key = g_strdup (UNKNOWN_UID_KEY);
  return CHARGE_OK;
}

/* Counts one message from SENDER. */
static Charge
charge (OwBusGuard *self, const char *sender, gboolean settled)
{
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autofree char *key = NULL;

  if (budget_key (self, sender, settled, &key) == CHARGE_UNKNOWN)
    return CHARGE_UNKNOWN;
  return key == NULL || take_token (self, key) ? CHARGE_OK : CHARGE_OVER;
}

/* Answers the method call HEADER with an error, within its sender's budget for answers. */
static void
answer_error (OwBusGuard *self, const OwBusHeader *header, const char *error_name,
              const char *text)
{
  g_autoptr (GDBusConnection) connection = NULL;
  g_autoptr (GDBusMessage) reply = NULL;
  g_autofree char *key = NULL;
  g_autofree char *reply_key = NULL;

  if (header->type != G_DBUS_MESSAGE_TYPE_METHOD_CALL || header->sender == NULL
      || (header->flags & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED))
    return;
  g_mutex_lock (&self->lock);
  budget_key (self, header->sender, TRUE, &key);
  reply_key = g_strconcat (REPLY_PREFIX, key ?: "root", NULL);
  if (self->connection != NULL && (key == NULL || take_token (self, reply_key)))
    connection = g_object_ref (self->connection);
  g_mutex_unlock (&self->lock);
  if (connection == NULL)
    return;
  reply = g_dbus_message_new ();
  g_dbus_message_set_message_type (reply, G_DBUS_MESSAGE_TYPE_ERROR);
  g_dbus_message_set_flags (reply, G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED);
  g_dbus_message_set_reply_serial (reply, header->serial);
  g_dbus_message_set_destination (reply, header->sender);
  g_dbus_message_set_error_name (reply, error_name);
  g_dbus_message_set_body (reply, g_variant_new ("(s)", text));
  g_dbus_connection_send_message (connection, reply, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, NULL);
}

static void
answer_over_rate (OwBusGuard *self, const OwBusHeader *header)
{
  g_autofree char *text = g_strdup_printf ("Too many calls: callers that are not root may make "
                                           "%d per second (rate limit)",
                                           OW_BUS_GUARD_RATE);

  answer_error (self, header, OOMWATCH_ERROR_PREFIX "LimitExceeded", text);
}

/* The stream's functions, in GDBus's worker thread. */
static OwBusVerdict
stream_classify (const OwBusHeader *header, gboolean too_big, gpointer user_data)
{
  OwBusGuard *self = user_data;

  if (too_big)
    {
      g_autofree char *text
          = g_strdup_printf ("Calls to oomwatchd are at most %d bytes", OW_BUS_GUARD_MAX_BODY);

      g_debug ("Skipped a message of %" G_GUINT64_FORMAT " bytes from %s", header->size,
               header->sender ?: "an unknown sender");
      answer_error (self, header, "org.freedesktop.DBus.Error.InvalidArgs", text);
      return OW_BUS_DROP;
    }
  if (header->sender == NULL)
    return OW_BUS_PASS;
  if (ow_bus_wait_waiting (self->wait, header->sender))
    return OW_BUS_WAIT;
  switch (charge (self, header->sender, FALSE))
    {
    case CHARGE_UNKNOWN:
      return OW_BUS_WAIT;
    case CHARGE_OVER:
      answer_over_rate (self, header);
      return OW_BUS_DROP;
    case CHARGE_OK:
    default:
      return OW_BUS_PASS;
    }
}

static void
stream_wait (const OwBusHeader *header, GBytes *message, gpointer user_data)
{
  OwBusGuard *self = user_data;

  if (!ow_bus_wait_keep (self->wait, header, message))
    answer_error (self, header, OOMWATCH_ERROR_PREFIX "LimitExceeded",
                  "Too many calls before the bus said who the caller is");
}

static GBytes *
stream_next (gpointer user_data)
{
  return ow_bus_wait_next (((OwBusGuard *)user_data)->wait);
}

static const OwBusStreamFuncs stream_funcs = { stream_classify, stream_wait, stream_next };

/* The waiting room's functions, in its asking thread. */
static void
wait_learned (const char *name, gboolean known, guint32 uid, gpointer user_data)
{
  if (known)
    ow_bus_guard_set_uid (user_data, name, uid);
}

static gboolean
wait_admit (const OwBusHeader *header, gpointer user_data)
{
  OwBusGuard *self = user_data;

  if (charge (self, header->sender, TRUE) == CHARGE_OK)
    return TRUE;
  answer_over_rate (self, header);
  return FALSE;
}

static const OwBusWaitFuncs wait_funcs = { wait_learned, wait_admit };

/* A huge message leaves the heap grown by what its parsing took: give that back as soon as
 * GDBus has freed it. Object data is dropped last when the message is finalized, after its
 * body, so this runs right after the free, in the thread that freed it. */
static void
trim_heap (gpointer data)
{
  malloc_trim (0);
}

/* What the stream let through, parsed: refused here if its contents are wrong. Without the
 * stream (a connection the daemon did not make) calls count against their budget here. */
static GDBusMessage *
filter (GDBusConnection *connection, GDBusMessage *message, gboolean incoming, gpointer user_data)
{
  OwBusGuard *self = user_data;
  g_autoptr (GDBusMessage) reply = NULL;
  g_autofree char *text = NULL;
  const char *error_name = NULL;
  GVariant *body;

  if (!incoming || g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_METHOD_CALL)
    return message;
  if (!ow_bus_checks_refuse (message, &error_name, &text))
    {
      if (self->stream != NULL
          || charge (self, g_dbus_message_get_sender (message), TRUE) == CHARGE_OK)
        return message;
      error_name = OOMWATCH_ERROR_PREFIX "LimitExceeded";
      text = g_strdup_printf ("Too many calls: callers that are not root may make %d per second "
                              "(rate limit)",
                              OW_BUS_GUARD_RATE);
    }
  if (!(g_dbus_message_get_flags (message) & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED))
    {
      reply = g_dbus_message_new_method_error_literal (message, error_name, text);
      g_dbus_connection_send_message (connection, reply, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL,
                                      NULL);
    }
  body = g_dbus_message_get_body (message);
  if (body != NULL && g_variant_get_size (body) > OW_BUS_GUARD_MAX_BODY)
    g_object_set_data_full (G_OBJECT (message), "oomwatch-trim", message, trim_heap);
  g_object_unref (message); /* closes its fds; GDBus frees the body after the filters */
  return NULL;
}

void
ow_bus_guard_attach (OwBusGuard *self, GDBusConnection *connection)
{
  ow_bus_guard_detach (self);
  g_mutex_lock (&self->lock);
  self->connection = g_object_ref (connection);
  g_mutex_unlock (&self->lock);
  self->stream = ow_bus_connect_get_stream (connection);
  if (self->stream != NULL)
    {
      g_object_ref (self->stream);
      ow_bus_wait_attach (self->wait, connection, self->stream);
      ow_bus_stream_set_funcs (self->stream, &stream_funcs, self);
    }
  self->filter_id = g_dbus_connection_add_filter (connection, filter, self, NULL);
}

void
ow_bus_guard_detach (OwBusGuard *self)
{
  if (self->connection == NULL)
    return;
  g_dbus_connection_remove_filter (self->connection, self->filter_id);
  if (self->stream != NULL)
    ow_bus_stream_set_funcs (self->stream, NULL, NULL);
  ow_bus_wait_detach (self->wait);
  g_clear_object (&self->stream);
  g_mutex_lock (&self->lock);
  g_clear_object (&self->connection);
  g_mutex_unlock (&self->lock);
}

void
ow_bus_guard_set_uid (OwBusGuard *self, const char *name, guint32 uid)
{
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  g_hash_table_insert (self->uids, g_strdup (name), GUINT_TO_POINTER (uid));
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
  g_mutex_lock (&self->lock);
  g_hash_table_remove (self->uids, name);
  g_mutex_unlock (&self->lock);
  ow_bus_wait_forget (self->wait, name);
}

OwBusGuard *
ow_bus_guard_new (void)
{
  OwBusGuard *self = g_new0 (OwBusGuard, 1);

  g_mutex_init (&self->lock);
  self->uids = g_hash_table_new_full (ow_str_hash, g_str_equal, g_free, NULL);
  self->buckets = g_hash_table_new_full (ow_str_hash, g_str_equal, g_free, g_free);
  self->wait = ow_bus_wait_new (&wait_funcs, self);
  return self;
}

void
ow_bus_guard_free (OwBusGuard *self)
{
  if (self == NULL)
    return;
  ow_bus_guard_detach (self);
  g_clear_pointer (&self->wait, ow_bus_wait_free);
  g_hash_table_unref (self->uids);
  g_hash_table_unref (self->buckets);
  g_mutex_clear (&self->lock);
  g_free (self);
}
