/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-bus-send.h"
#include "ow-bus-marshal.h"
#include "ow-bus-output.h"

/* Serials of the messages written directly: GDBus counts up from 1, these have the top bit
 * set, so no two messages of the connection share one. Nothing answers a signal or a reply,
 * so nothing else needs them to be in order with GDBus's. */
#define OWN_SERIAL_BIT 0x80000000u

static guint32
next_serial (void)
{
  static gint counter;

  return OWN_SERIAL_BIT | ((guint32)g_atomic_int_add (&counter, 1) & ~OWN_SERIAL_BIT);
}

/* HEADER and BODY in wire form, with a serial of our own; NULL, with ERROR set, for a body
 * D-Bus cannot carry: GDBus would refuse it or write what the bus would drop us for. */
static GBytes *
marshal (OwBusHeader *header, GVariant *body, GError **error)
{
  GBytes *bytes;

  header->serial = next_serial ();
  bytes = ow_bus_marshal (header, body);
  if (bytes == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "D-Bus cannot carry a body of type %s",
                 body != NULL ? g_variant_get_type_string (body) : "()");
  return bytes;
}

/* TRUE when BYTES were written directly. */
static gboolean
send_now (GDBusConnection *connection, GBytes *bytes)
{
  GOutputStream *output = g_io_stream_get_output_stream (g_dbus_connection_get_stream (connection));

  return OW_IS_BUS_OUTPUT (output)
         && ow_bus_output_send_now (OW_BUS_OUTPUT (output), bytes,
                                    g_dbus_connection_get_last_serial (connection));
}

gboolean
ow_bus_emit_signal (GDBusConnection *connection, const char *destination, const char *path,
                    const char *interface, const char *name, GVariant *parameters, GError **error)
{
  g_autoptr (GVariant) body = parameters != NULL ? g_variant_ref_sink (parameters) : NULL;
  /* As g_dbus_message_new_signal() makes it. */
  OwBusHeader header = { .type = G_DBUS_MESSAGE_TYPE_SIGNAL,
                         .flags = G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED,
                         .path = path,
                         .interface = interface,
                         .member = name,
                         .destination = destination };
  g_autoptr (GBytes) bytes = marshal (&header, body, error);
  g_autoptr (GDBusMessage) message = NULL;

  if (bytes == NULL)
    return FALSE;
  if (send_now (connection, bytes))
    return TRUE;
  message = g_dbus_message_new_signal (path, interface, name);
  g_dbus_message_set_destination (message, destination);
  g_dbus_message_set_body (message, body);
  return g_dbus_connection_send_message (connection, message, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL,
                                         error);
}

/* As g_dbus_method_invocation_return_value() (PARAMETERS may be floating), without its check
 * of the value against the introspection data. */
void
ow_bus_return_value (GDBusMethodInvocation *invocation, GVariant *parameters)
{
  GDBusConnection *connection = g_dbus_method_invocation_get_connection (invocation);
  GDBusMessage *call = g_dbus_method_invocation_get_message (invocation);
  g_autoptr (GVariant) body = g_variant_ref_sink (parameters);
  /* As g_dbus_message_new_method_reply() makes it. */
  OwBusHeader header = { .type = G_DBUS_MESSAGE_TYPE_METHOD_RETURN,
                         .flags = G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED,
                         .reply_serial = g_dbus_message_get_serial (call),
                         .destination = g_dbus_message_get_sender (call) };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GDBusMessage) reply = NULL;

  if ((g_dbus_message_get_flags (call) & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED) != 0)
    {
      g_object_unref (invocation);
      return;
    }
  bytes = marshal (&header, body, &error);
  if (bytes == NULL)
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return;
    }
  if (!send_now (connection, bytes))
    {
      reply = g_dbus_message_new_method_reply (call);
      g_dbus_message_set_body (reply, body);
      g_dbus_connection_send_message (connection, reply, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL,
                                      NULL);
    }
  g_object_unref (invocation);
}

/* As g_dbus_connection_flush_sync(), and what is left of a message written directly (for a
 * second at most): at the end, when the main loop no longer runs the output's source. */
void
ow_bus_flush_sync (GDBusConnection *connection)
{
  GOutputStream *output = g_io_stream_get_output_stream (g_dbus_connection_get_stream (connection));

  g_dbus_connection_flush_sync (connection, NULL, NULL);
  if (OW_IS_BUS_OUTPUT (output))
    ow_bus_output_flush_now (OW_BUS_OUTPUT (output), 1000);
}
