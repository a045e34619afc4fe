/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's own bus connection on a private dbus-daemon: signals written from this thread
 * (ow_bus_emit_signal) and through GDBus (g_dbus_connection_emit_signal), numbered in one
 * sequence, big enough to fill the socket now and then, reach a receiver each once, in order
 * and whole, and the bus keeps the sender connected (a message written into another's bytes
 * would have it dropped). */
#include "ow-bus-connect.h"
#include "ow-bus-send.h"

#include <string.h>

#define SIGNALS 3000
#define BODY_BYTES 8192
#define PATH "/org/oomwatch/Test"
#define INTERFACE "org.oomwatch.Test"
#define WAIT_S 120

typedef struct
{
  GDBusConnection *connection;
  GMutex lock;
  GCond ready;
  gboolean subscribed;
  guint received;   /* in order and whole */
  char *failure;    /* the first thing wrong */
} Receiver;

static void
on_seq (GDBusConnection *connection, const char *sender, const char *path, const char *interface,
        const char *name, GVariant *parameters, gpointer user_data)
{
  Receiver *receiver = user_data;
  guint32 seq;
  const char *body;

  g_variant_get (parameters, "(u&s)", &seq, &body);
  if (receiver->failure != NULL)
    return;
  if (seq != receiver->received)
    receiver->failure = g_strdup_printf ("signal %u after %u", seq, receiver->received);
  else if (strlen (body) != BODY_BYTES || strspn (body, "abcdefghijklmnopqrstuvwxyz") != BODY_BYTES
           || body[0] != (char)('a' + seq % 26) || body[BODY_BYTES - 1] != (char)('a' + seq % 26))
    receiver->failure = g_strdup_printf ("signal %u's body changed", seq);
  else
    receiver->received++;
}

static gpointer
receive (gpointer user_data)
{
  Receiver *receiver = user_data;
  g_autoptr (GMainContext) context = g_main_context_new ();
  gint64 until = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;

  g_main_context_push_thread_default (context);
  g_dbus_connection_signal_subscribe (receiver->connection, NULL, INTERFACE, "Seq", PATH, NULL,
                                      G_DBUS_SIGNAL_FLAGS_NONE, on_seq, receiver, NULL);
  g_mutex_lock (&receiver->lock);
  receiver->subscribed = TRUE;
  g_cond_signal (&receiver->ready);
  g_mutex_unlock (&receiver->lock);
  while (receiver->received < SIGNALS && receiver->failure == NULL
         && g_get_monotonic_time () < until)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  return NULL;
}

static GVariant *
body_of (guint32 seq)
{
  g_autofree char *text = g_strnfill (BODY_BYTES, (char)('a' + seq % 26));

  return g_variant_new ("(us)", seq, text);
}

static void
test_order (void)
{
  g_autoptr (GTestDBus) bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) sender = NULL;
  g_autoptr (GVariant) id = NULL;
  Receiver receiver = { 0 };
  const char *destination;
  GThread *thread;

  g_test_dbus_up (bus);
  sender = ow_bus_connect (G_BUS_TYPE_SESSION, &error);
  g_assert_no_error (error);
  receiver.connection = g_dbus_connection_new_for_address_sync (
      g_test_dbus_get_bus_address (bus),
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);
  destination = g_dbus_connection_get_unique_name (receiver.connection);
  g_mutex_init (&receiver.lock);
  g_cond_init (&receiver.ready);
  thread = g_thread_new ("receiver", receive, &receiver);
  g_mutex_lock (&receiver.lock);
  while (!receiver.subscribed)
    g_cond_wait (&receiver.ready, &receiver.lock);
  g_mutex_unlock (&receiver.lock);

  for (guint32 seq = 0; seq < SIGNALS; seq++)
    {
      /* Every fifth through GDBus, the next after it is written or not. The others go
       * directly when nothing of GDBus's waits, and through it when the socket is full. */
      if (seq % 5 != 0)
        g_assert_true (
            ow_bus_emit_signal (sender, destination, PATH, INTERFACE, "Seq", body_of (seq), &error));
      else
        g_assert_true (g_dbus_connection_emit_signal (sender, destination, PATH, INTERFACE, "Seq",
                                                      body_of (seq), &error));
      if (seq % 10 == 0)
        g_assert_true (g_dbus_connection_flush_sync (sender, NULL, &error));
      g_assert_no_error (error);
      if (seq % 64 == 0)
        while (g_main_context_iteration (NULL, FALSE))
          ;
    }
  ow_bus_flush_sync (sender);
  g_thread_join (thread);
  if (receiver.failure != NULL)
    g_test_message ("%s", receiver.failure);
  g_assert_null (receiver.failure);
  g_assert_cmpuint (receiver.received, ==, SIGNALS);

  /* Still connected: the bus read nothing it could not parse. */
  id = g_dbus_connection_call_sync (sender, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                    "org.freedesktop.DBus", "GetId", NULL, G_VARIANT_TYPE ("(s)"),
                                    G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (g_dbus_connection_is_closed (sender));

  g_clear_object (&receiver.connection);
  g_free (receiver.failure);
  g_mutex_clear (&receiver.lock);
  g_cond_clear (&receiver.ready);
  g_dbus_connection_close_sync (sender, NULL, NULL);
  g_test_dbus_down (bus);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bus-send/order", test_order);
  return g_test_run ();
}
