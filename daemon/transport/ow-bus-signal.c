/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-bus-signal.h"
#include "ow-bus-output.h"

/* Serials of the messages written directly: GDBus counts up from 1, these have the top bit
 * set, so no two messages of the connection share one. Nothing answers a signal, so nothing
 * else needs them to be in order with GDBus's. */
#define OWN_SERIAL_BIT 0x80000000u

static guint32
next_serial (void)
{
  static gint counter;

  return OWN_SERIAL_BIT | ((guint32)g_atomic_int_add (&counter, 1) & ~OWN_SERIAL_BIT);
}

/* TRUE when MESSAGE was written directly. */
static gboolean
send_now (GDBusConnection *connection, GDBusMessage *message)
{
  GOutputStream *output = g_io_stream_get_output_stream (g_dbus_connection_get_stream (connection));
  g_autoptr (GBytes) bytes = NULL;
  guchar *blob;
  gsize size;

  if (!OW_IS_BUS_OUTPUT (output))
    return FALSE;
  g_dbus_message_set_serial (message, next_serial ());
  blob = g_dbus_message_to_blob (message, &size, g_dbus_connection_get_capabilities (connection),
                                 NULL);
  if (blob == NULL)
    return FALSE;
  bytes = g_bytes_new_take (blob, size);
  return ow_bus_output_send_now (OW_BUS_OUTPUT (output), bytes,
                                 g_dbus_connection_get_last_serial (connection));
}

gboolean
ow_bus_emit_signal (GDBusConnection *connection, const char *destination, const char *path,
                    const char *interface, const char *name, GVariant *parameters, GError **error)
{
  g_autoptr (GDBusMessage) message = g_dbus_message_new_signal (path, interface, name);

  g_dbus_message_set_destination (message, destination);
  g_dbus_message_set_body (message, parameters);
  if (send_now (connection, message))
    return TRUE;
  /* GDBus gives it a serial of its own. */
  return g_dbus_connection_send_message (connection, message, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL,
                                         error);
}
