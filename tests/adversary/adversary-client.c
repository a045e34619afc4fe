/* SPDX-License-Identifier: GPL-2.0-or-later */
/* adversary-client: one D-Bus client of the adversary suite, run as any uid (setpriv). Talks to
 * the bus in DBUS_SYSTEM_BUS_ADDRESS and reports on stdout, one line each:
 *   adversary-client watch       subscribes to the daemon's signals, then takes commands on
 *                                stdin:
 *       watch CGROUP | rwatch CGROUP | unwatch CGROUP | monitor | sync
 *     answered "ok CMD MS [RESULT]" or "error CMD MS ERROR-NAME MESSAGE" (MS: the call's
 *     latency), "synced" after a round trip to the daemon (every signal it sent before is then
 *     printed).
 *   adversary-client listen      the same, and also asks the bus for everyone's signals
 *                                (eavesdrop=true).
 *   adversary-client latency CGROUP N INTERVAL_MS DEADLINE_S
 *     N × (Watch + Unwatch), one pair every INTERVAL_MS, for at most DEADLINE_S seconds;
 *     "latency n=… p50=… p90=… max=… errors=…" in ms.
 *   adversary-client hold CONNECTIONS CGROUP…
 *     Watches the cgroups round-robin over CONNECTIONS connections and holds them until stdin
 *     closes: "held ok=N refused=N".
 * Every signal this connection receives (addressed to it or not) is printed as
 * "event\tOomEvent\tCGROUP\tKIND\tCOUNT\tDETAILS" or "event\tWatchRemoved\tCGROUP\tREASON". */
#include "oomwatch-names.h"

#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static GMainLoop *loop;
static GDBusConnection *bus;

static void say (const char *format, ...) G_GNUC_PRINTF (1, 2);

static void
say (const char *format, ...)
{
  static GMutex lock;
  va_list args;

  g_mutex_lock (&lock);
  va_start (args, format);
  vprintf (format, args);
  va_end (args);
  putchar ('\n');
  fflush (stdout);
  g_mutex_unlock (&lock);
}

/* A filter sees every message the bus delivers, whichever match rule let it through. */
static GDBusMessage *
on_message (GDBusConnection *connection, GDBusMessage *message, gboolean incoming,
            gpointer user_data)
{
  GVariant *body = g_dbus_message_get_body (message);
  const char *member = g_dbus_message_get_member (message);

  if (!incoming || g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_SIGNAL
      || g_strcmp0 (g_dbus_message_get_interface (message), OOMWATCH_MANAGER_INTERFACE) != 0
      || body == NULL)
    return message;
  if (g_strcmp0 (member, "OomEvent") == 0
      && g_variant_is_of_type (body, G_VARIANT_TYPE ("(ssta{sv})")))
    {
      const char *cgroup, *kind;
      guint64 count;
      g_autoptr (GVariant) details = NULL;
      g_autofree char *shown = NULL;

      g_variant_get (body, "(&s&st@a{sv})", &cgroup, &kind, &count, &details);
      shown = g_variant_print (details, TRUE);
      say ("event\tOomEvent\t%s\t%s\t%" G_GUINT64_FORMAT "\t%s", cgroup, kind, count, shown);
    }
  else if (g_strcmp0 (member, "WatchRemoved") == 0
           && g_variant_is_of_type (body, G_VARIANT_TYPE ("(ssa{sv})")))
    {
      const char *cgroup, *reason;

      g_variant_get (body, "(&s&s@a{sv})", &cgroup, &reason, NULL);
      say ("event\tWatchRemoved\t%s\t%s", cgroup, reason);
    }
  return message;
}

/* The filter prints signals; a subscription only makes the bus send them. */
static void
on_signal (GDBusConnection *connection, const char *sender, const char *path, const char *interface,
           const char *member, GVariant *parameters, gpointer user_data)
{
}

static GVariant *
manager_call (const char *method, GVariant *parameters, const GVariantType *reply_type, double *ms,
              GError **error)
{
  gint64 start = g_get_monotonic_time ();
  GVariant *reply = g_dbus_connection_call_sync (
      bus, OOMWATCH_BUS_NAME, OOMWATCH_OBJECT_PATH, OOMWATCH_MANAGER_INTERFACE, method, parameters,
      reply_type, G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);

  *ms = (g_get_monotonic_time () - start) / 1000.0;
  return reply;
}

static GVariant *
watch_parameters (const char *cgroup, gboolean recursive)
{
  g_auto (GVariantDict) options = G_VARIANT_DICT_INIT (NULL);

  if (recursive)
    g_variant_dict_insert (&options, OOMWATCH_KEY_RECURSIVE, "b", TRUE);
  return g_variant_new ("(s@a{sv})", cgroup, g_variant_dict_end (&options));
}

static void
run_command (const char *line)
{
  g_auto (GStrv) words = g_strsplit (line, " ", 2);
  const char *verb = words[0], *arg = words[1] != NULL ? words[1] : "";
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *result = NULL;
  double ms = 0;

  if (g_str_equal (verb, "watch") || g_str_equal (verb, "rwatch"))
    reply = manager_call ("Watch", watch_parameters (arg, verb[0] == 'r'), G_VARIANT_TYPE ("(s)"),
                          &ms, &error);
  else if (g_str_equal (verb, "unwatch"))
    reply = manager_call ("Unwatch", g_variant_new ("(s)", arg), NULL, &ms, &error);
  else if (g_str_equal (verb, "monitor"))
    reply = manager_call ("Monitor", NULL, NULL, &ms, &error);
  else if (g_str_equal (verb, "sync"))
    {
      /* Replies and signals from the daemon arrive in the order it sent them. */
      g_autoptr (GVariant) pong = g_dbus_connection_call_sync (
          bus, OOMWATCH_BUS_NAME, OOMWATCH_OBJECT_PATH, "org.freedesktop.DBus.Peer", "Ping", NULL,
          NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);

      if (pong != NULL)
        say ("synced");
      else
        say ("error sync 0 %s", error->message);
      return;
    }
  else
    {
      say ("error %s 0 unknown-command -", verb);
      return;
    }
  if (error != NULL)
    {
      g_autofree char *name = g_dbus_error_get_remote_error (error);

      g_dbus_error_strip_remote_error (error);
      say ("error %s %.3f %s %s", verb, ms, name != NULL ? name : "local", error->message);
      return;
    }
  if (g_variant_is_of_type (reply, G_VARIANT_TYPE ("(s)")))
    g_variant_get (reply, "(s)", &result);
  say ("ok %s %.3f %s", verb, ms, result != NULL ? result : "");
}

static void
on_line (GObject *object, GAsyncResult *result, gpointer user_data)
{
  GDataInputStream *input = G_DATA_INPUT_STREAM (object);
  g_autofree char *line = g_data_input_stream_read_line_finish (input, result, NULL, NULL);

  if (line == NULL)
    {
      g_main_loop_quit (loop);
      return;
    }
  run_command (line);
  g_data_input_stream_read_line_async (input, G_PRIORITY_DEFAULT, NULL, on_line, NULL);
}

static int
serve (gboolean eavesdrop)
{
  g_autoptr (GInputStream) stdin_stream = g_unix_input_stream_new (0, FALSE);
  g_autoptr (GDataInputStream) input = g_data_input_stream_new (stdin_stream);

  /* The match rule an ordinary client adds; and one asking for everyone's signals. */
  g_dbus_connection_signal_subscribe (bus, OOMWATCH_BUS_NAME, OOMWATCH_MANAGER_INTERFACE, NULL,
                                      NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_signal, NULL, NULL);
  if (eavesdrop)
    g_dbus_connection_call_sync (
        bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch",
        g_variant_new ("(s)",
                       "type='signal',eavesdrop=true,interface='" OOMWATCH_MANAGER_INTERFACE "'"),
        NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  say ("ready %s", g_dbus_connection_get_unique_name (bus));
  g_data_input_stream_read_line_async (input, G_PRIORITY_DEFAULT, NULL, on_line, NULL);
  g_main_loop_run (loop);
  return 0;
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

static int
latency (const char *cgroup, guint n, guint interval_ms, guint deadline_s)
{
  g_autoptr (GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
  gint64 deadline = g_get_monotonic_time () + (gint64)deadline_s * G_USEC_PER_SEC;
  guint errors = 0;

  for (guint i = 0; i < n && g_get_monotonic_time () < deadline; i++)
    {
      gint64 next = g_get_monotonic_time () + (gint64)interval_ms * G_TIME_SPAN_MILLISECOND;
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) watched = NULL, unwatched = NULL;
      double watch_ms = 0, unwatch_ms = 0, total;

      watched = manager_call ("Watch", watch_parameters (cgroup, FALSE), NULL, &watch_ms, &error);
      if (watched != NULL)
        unwatched
            = manager_call ("Unwatch", g_variant_new ("(s)", cgroup), NULL, &unwatch_ms, &error);
      (void)unwatched; /* its error, if any, is in ERROR */
      total = watch_ms + unwatch_ms;
      g_array_append_val (times, total);
      if (error != NULL)
        {
          errors++;
          say ("error latency %.3f %s", total, error->message);
        }
      while (g_get_monotonic_time () < next)
        g_usleep (1000);
    }
  if (times->len == 0)
    {
      say ("latency n=0");
      return 1;
    }
  g_array_sort (times, compare_doubles);
  say ("latency n=%u p50=%.3f p90=%.3f max=%.3f errors=%u", times->len,
       g_array_index (times, double, times->len / 2),
       g_array_index (times, double, times->len * 9 / 10),
       g_array_index (times, double, times->len - 1), errors);
  return 0;
}

static int
hold (guint n_connections, char **cgroups)
{
  g_autoptr (GPtrArray) connections = g_ptr_array_new_with_free_func (g_object_unref);
  guint ok = 0, refused = 0;
  char buf[64];

  for (guint i = 0; i < n_connections; i++)
    {
      g_autoptr (GError) error = NULL;
      GDBusConnection *connection = g_dbus_connection_new_for_address_sync (
          g_getenv ("DBUS_SYSTEM_BUS_ADDRESS"),
          G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
              | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
          NULL, NULL, &error);

      if (connection == NULL)
        g_error ("connection %u: %s", i, error->message);
      g_ptr_array_add (connections, connection);
    }
  for (guint i = 0; cgroups[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
          g_ptr_array_index (connections, i % n_connections), OOMWATCH_BUS_NAME,
          OOMWATCH_OBJECT_PATH, OOMWATCH_MANAGER_INTERFACE, "Watch",
          watch_parameters (cgroups[i], FALSE), NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);

      if (reply != NULL)
        ok++;
      else
        refused++;
    }
  say ("held ok=%u refused=%u", ok, refused);
  while (fgets (buf, sizeof buf, stdin) != NULL)
    ;
  return 0;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;

  if (argc < 2)
    {
      g_printerr ("usage: adversary-client listen|watch|latency|hold …\n");
      return 2;
    }
  loop = g_main_loop_new (NULL, FALSE);
  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (bus == NULL)
    {
      say ("error connect 0 %s", error->message);
      return 1;
    }
  g_dbus_connection_add_filter (bus, on_message, NULL, NULL);
  if (g_str_equal (argv[1], "listen") || g_str_equal (argv[1], "watch"))
    return serve (g_str_equal (argv[1], "listen"));
  if (g_str_equal (argv[1], "latency") && argc == 6)
    return latency (argv[2], (guint)atoi (argv[3]), (guint)atoi (argv[4]), (guint)atoi (argv[5]));
  if (g_str_equal (argv[1], "hold") && argc >= 4)
    return hold ((guint)atoi (argv[2]), argv + 3);
  g_printerr ("adversary-client: bad arguments\n");
  return 2;
}
