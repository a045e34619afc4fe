/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-test-oomd.h"
#include "oomwatch-names.h"

#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_TIMEOUT_MS 15000

/* A connection that owns org.freedesktop.oom1 (OWN_NAME), or one that only pretends to. */
GDBusConnection *
ow_test_oomd_connect (OwTestEnv *env, gboolean own_name)
{
  GDBusConnection *connection = ow_test_env_connect (env);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  guint32 result = 0;

  if (!own_name)
    return connection;
  reply = g_dbus_connection_call_sync (
      connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "RequestName", g_variant_new ("(su)", OOMWATCH_OOMD_BUS_NAME, 0), G_VARIANT_TYPE ("(u)"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &result);
  g_assert_cmpuint (result, ==, 1); /* DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER */
  return connection;
}

/* What systemd-oomd sends: a broadcast Killed(s cgroup, s reason). */
void
ow_test_oomd_emit_killed (GDBusConnection *connection, const char *cgroup, const char *reason)
{
  g_autoptr (GError) error = NULL;

  g_dbus_connection_emit_signal (connection, NULL, OOMWATCH_OOMD_OBJECT_PATH,
                                 OOMWATCH_OOMD_INTERFACE, OOMWATCH_OOMD_KILLED_SIGNAL,
                                 g_variant_new ("(ss)", cgroup, reason), &error);
  g_assert_no_error (error);
  g_dbus_connection_flush_sync (connection, NULL, &error);
  g_assert_no_error (error);
}

guint
ow_test_oomd_log_count (OwTestEnv *env, const char *needle)
{
  g_autofree char *log = NULL;
  guint n = 0;

  if (!g_file_get_contents (env->daemon_log, &log, NULL, NULL))
    return 0;
  for (const char *p = strstr (log, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

void
ow_test_oomd_log_wait (OwTestEnv *env, const char *needle, guint at_least)
{
  for (int i = 0; i < LOG_TIMEOUT_MS / 10 && ow_test_oomd_log_count (env, needle) < at_least; i++)
    ow_test_env_iterate (10);
  g_assert_cmpuint (ow_test_oomd_log_count (env, needle), >=, at_least);
}

/* The daemon logs "Following systemd-oomd" right after asking the bus for the match rule of
 * the new owner's Killed (AddMatch, not waited for). A call answered after that log line was
 * answered after the AddMatch left, and the bus handles one connection's messages in order:
 * once the reply is here, a Killed is matched. */
void
ow_test_oomd_wait_following (OwTestEnv *env, guint following)
{
  g_autoptr (GVariant) watches = NULL;
  g_autoptr (GError) error = NULL;

  ow_test_oomd_log_wait (env, "Following systemd-oomd", following);
  oomwatch_manager_call_list_watches_sync (env->manager, G_DBUS_CALL_FLAGS_NONE, -1, &watches,
                                           NULL, &error);
  g_assert_no_error (error);
}

/* systemd-oomd's DumpByFileDescriptor: a file holding TEXT, read from its start. */
static void
on_dump_call (GDBusConnection *connection, const char *sender, const char *path,
              const char *interface, const char *method, GVariant *parameters,
              GDBusMethodInvocation *invocation, gpointer user_data)
{
  const char *text = user_data;
  g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *name = NULL;
  int fd = g_file_open_tmp ("ow-test-oomd-dump-XXXXXX", &name, &error);

  g_assert_no_error (error);
  g_unlink (name);
  g_assert_cmpint (write (fd, text, strlen (text)), ==, (ssize_t) strlen (text));
  g_assert_cmpint (lseek (fd, 0, SEEK_SET), ==, 0);
  g_unix_fd_list_append (fds, fd, &error);
  g_assert_no_error (error);
  close (fd);
  g_dbus_method_invocation_return_value_with_unix_fd_list (invocation, g_variant_new ("(h)", 0),
                                                           fds);
}

guint
ow_test_oomd_serve_dump (GDBusConnection *connection, const char *text)
{
  static const char xml[]
      = "<node><interface name='" OOMWATCH_OOMD_INTERFACE "'><method name='"
        OOMWATCH_OOMD_DUMP_METHOD "'><arg type='h' direction='out'/></method>"
        "</interface></node>";
  static const GDBusInterfaceVTable vtable = { on_dump_call, NULL, NULL, { NULL } };
  g_autoptr (GDBusNodeInfo) node = g_dbus_node_info_new_for_xml (xml, NULL);
  g_autoptr (GError) error = NULL;
  guint id;

  g_assert_nonnull (node);
  id = g_dbus_connection_register_object (connection, OOMWATCH_OOMD_OBJECT_PATH,
                                          node->interfaces[0], &vtable, (gpointer) text, NULL,
                                          &error);
  g_assert_no_error (error);
  return id;
}
