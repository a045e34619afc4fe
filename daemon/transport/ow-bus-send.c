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

/* True when BYTES were written directly. */
static gboolean
send_now (GDBusConnection *connection, GBytes *bytes)
{
  GOutputStream *output = g_io_stream_get_output_stream (g_dbus_connection_get_stream (connection));

  return OW_IS_BUS_OUTPUT (output)
         && ow_bus_output_send_now (OW_BUS_OUTPUT (output), bytes,
                                    g_dbus_connection_get_last_serial (connection));
}

/* HEADER and BODY marshalled once, with a serial of our own, and written directly or else
 * handed to GDBus (which gives it its own serial). A body D-Bus cannot carry is not sent:
 * GDBus would refuse it or write what the bus would drop us for. */
static gboolean
send (GDBusConnection *connection, OwBusHeader *header, GVariant *body, GError **error)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GDBusMessage) message = NULL;
  gsize size;
  const guchar *data;

  header->serial = next_serial ();
  bytes = ow_bus_marshal (header, body);
  if (bytes == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "D-Bus cannot carry a body of type %s",
                   body != NULL ? g_variant_get_type_string (body) : "()");
      return FALSE;
    }
  if (send_now (connection, bytes))
    return TRUE;
  data = g_bytes_get_data (bytes, &size);
  message = g_dbus_message_new_from_blob ((guchar *)data, size,
                                          g_dbus_connection_get_capabilities (connection), error);
  return message != NULL
         && g_dbus_connection_send_message (connection, message, G_DBUS_SEND_MESSAGE_FLAGS_NONE,
                                            NULL, error);
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

  return send (connection, &header, body, error);
}

/* As g_dbus_method_invocation_return_value() (PARAMETERS may be floating), without its check
 * of the value against the introspection data. */
void
ow_bus_return_value (GDBusMethodInvocation *invocation, GVariant *parameters)
{
  GDBusMessage *call = g_dbus_method_invocation_get_message (invocation);
  g_autoptr (GVariant) body = g_variant_ref_sink (parameters);
  /* As g_dbus_message_new_method_reply() makes it. */
  OwBusHeader header = { .type = G_DBUS_MESSAGE_TYPE_METHOD_RETURN,
                         .flags = G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED,
                         .reply_serial = g_dbus_message_get_serial (call),
                         .destination = g_dbus_message_get_sender (call) };
  g_autoptr (GError) error = NULL;

  /* A reply that cannot be sent is an error reply, which GDBus drops if the connection is gone. */
  if ((g_dbus_message_get_flags (call) & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED) != 0
      || send (g_dbus_method_invocation_get_connection (invocation), &header, body, &error))
    g_object_unref (invocation);
  else
    g_dbus_method_invocation_return_gerror (invocation, error);
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
