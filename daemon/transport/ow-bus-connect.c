/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-bus-connect.h"
#include "ow-bus-output.h"
#include "ow-bus-stream.h"

#include <string.h>
#include <unistd.h>

#define AUTH_LINE_MAX 256

/* SASL EXTERNAL (D-Bus spec, "Authentication Protocol"): the bus knows our uid from the
 * socket. GDBus would do this itself only on a socket it reads directly, which would bypass
 * the filter. The bus says nothing after OK until BEGIN, so no message byte is read here. */
static gboolean
authenticate (GIOStream *stream, GError **error)
{
  GOutputStream *out = g_io_stream_get_output_stream (stream);
  GInputStream *in = g_io_stream_get_input_stream (stream);
  g_autofree char *uid = g_strdup_printf ("%u", (guint)getuid ());
  g_autoptr (GString) request = g_string_new (NULL);
  char line[AUTH_LINE_MAX] = { 0 };
  gsize len = 0;

  g_string_append_c (request, '\0');
  g_string_append (request, "AUTH EXTERNAL ");
  for (const char *p = uid; *p != '\0'; p++)
    g_string_append_printf (request, "%02x", (guchar)*p);
  g_string_append (request, "\r\n");
  if (!g_output_stream_write_all (out, request->str, request->len, NULL, NULL, error))
    return FALSE;
  while (len < sizeof line - 1 && (len < 2 || line[len - 2] != '\r' || line[len - 1] != '\n'))
    {
      gssize got = g_input_stream_read (in, line + len, 1, NULL, error);

      if (got < 0)
        return FALSE;
      if (got == 0)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                               "The bus closed the connection while authenticating");
          return FALSE;
        }
      len++;
    }
  line[len] = '\0';
  if (!g_str_has_prefix (line, "OK "))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "The bus refused to authenticate uid %s: %s", uid, g_strchomp (line));
      return FALSE;
    }
  return g_output_stream_write_all (out, "BEGIN\r\n", strlen ("BEGIN\r\n"), NULL, NULL, error);
}

/* BASE's input filtered (ow-bus-stream.h); closing the result closes BASE. GDBus writes to a
 * socket's own output stream through the socket of the GIOStream it was given, which is not
 * a socket here: its own output stream (ow-bus-output.h) keeps it to the stream API. */
static GIOStream *
wrap (GSocketConnection *base, GError **error)
{
  g_autoptr (GInputStream) input = ow_bus_stream_new (base);
  g_autoptr (GOutputStream) output
      = ow_bus_output_new (g_socket_get_fd (g_socket_connection_get_socket (base)), error);

  return output == NULL ? NULL : g_simple_io_stream_new (input, output);
}

/* The filter under CONNECTION, or NULL when it has none. */
OwBusStream *
ow_bus_connect_get_stream (GDBusConnection *connection)
{
  GInputStream *input = g_io_stream_get_input_stream (g_dbus_connection_get_stream (connection));

  return OW_IS_BUS_STREAM (input) ? OW_BUS_STREAM (input) : NULL;
}

/* Connects synchronously, before the main loop runs: nothing else waits on it then. */
GDBusConnection *
ow_bus_connect (GBusType bus_type, GError **error)
{
  g_autofree char *address = g_dbus_address_get_for_bus_sync (bus_type, NULL, error);
  g_autoptr (GIOStream) base = NULL;
  g_autoptr (GIOStream) filtered = NULL;

  if (address == NULL)
    return NULL;
  base = g_dbus_address_get_stream_sync (address, NULL, NULL, error);
  if (base == NULL || !authenticate (base, error))
    return NULL;
  if (!G_IS_SOCKET_CONNECTION (base))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "The bus address %s is not a socket", address);
      return NULL;
    }
  /* GDBus makes the socket non-blocking only when it reads it itself. */
  g_socket_set_blocking (g_socket_connection_get_socket (G_SOCKET_CONNECTION (base)), FALSE);
  filtered = wrap (G_SOCKET_CONNECTION (base), error);
  if (filtered == NULL)
    return NULL;
  return g_dbus_connection_new_sync (filtered, NULL, G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                     NULL, NULL, error);
}
