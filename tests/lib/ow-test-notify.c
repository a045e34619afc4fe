/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-test-notify.h"
#include "ow-test-continuity.h"
#include "ow-test-wait.h"

#include <glib/gstdio.h>

static gboolean
imports_dbusmock (const char *python)
{
  const char *argv[] = { python, "-c", "import dbusmock", NULL };
  int status = -1;

  return g_file_test (python, G_FILE_TEST_IS_EXECUTABLE)
         && g_spawn_sync (NULL, (char **)argv, NULL,
                          G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL,
                          NULL, &status, NULL)
         && g_spawn_check_wait_status (status, NULL);
}

/* The first python3 on PATH that can import dbusmock, wherever pip or the distribution put
 * it (a pyenv or venv python3 may come first and lack it), or NULL. */
char *
ow_notify_find_python (void)
{
  g_auto (GStrv) dirs = g_strsplit (g_getenv ("PATH") ?: "/usr/bin", ":", -1);

  for (gsize i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *python = g_build_filename (dirs[i], "python3", NULL);

      if (dirs[i][0] == '/' && imports_dbusmock (python))
        return g_steal_pointer (&python);
    }
  return NULL;
}

static gboolean
has_notification_server (gpointer user_data)
{
  OwNotifySession *session = user_data;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      session->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "NameHasOwner", g_variant_new ("(s)", "org.freedesktop.Notifications"),
      G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  gboolean has = FALSE;

  if (reply != NULL)
    g_variant_get (reply, "(b)", &has);
  return has;
}

void
ow_notify_session_start (OwNotifySession *session)
{
  const char *bus_argv[] = { "dbus-daemon", "--session", "--nofork", "--print-address=1", NULL };
  g_autofree char *python = ow_notify_find_python ();
  const char *mock_argv[] = { python, "-m", "dbusmock", "--template", "notification_daemon", NULL };
  g_autoptr (GDataInputStream) out = NULL;
  g_autoptr (GError) error = NULL;

  session->bus = ow_test_spawn_tied (bus_argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (session->bus));
  session->address = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", session->address, TRUE);
  session->mock = ow_test_spawn_tied (mock_argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  session->connection = g_dbus_connection_new_for_address_sync (
      session->address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);
  if (!ow_test_wait_until (has_notification_server, session, 20000))
    g_error ("the mock notification server did not start");
}

void
ow_notify_session_stop (OwNotifySession *session)
{
  g_clear_object (&session->connection);
  g_subprocess_force_exit (session->mock);
  ow_test_env_wait_process (session->mock);
  g_subprocess_force_exit (session->bus);
  ow_test_env_wait_process (session->bus);
  g_clear_object (&session->mock);
  g_clear_object (&session->bus);
  g_free (session->address);
}

/* The Notify calls the mock server received. */

static void
notification_clear (gpointer data)
{
  OwNotification *n = data;

  g_free (n->icon);
  g_free (n->summary);
  g_free (n->body);
  g_free (n->desktop_entry);
  g_free (n->category);
  g_strfreev (n->actions);
}

/* Argument I of a call the mock recorded (an av) */
static GVariant *
unboxed_arg (GVariant *args, gsize i)
{
  g_autoptr (GVariant) boxed = g_variant_get_child_value (args, i);

  return g_variant_get_variant (boxed);
}

GArray *
ow_notify_received (OwNotifySession *session)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      session->connection, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
      "org.freedesktop.DBus.Mock", "GetMethodCalls", g_variant_new ("(s)", "Notify"), NULL,
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_autoptr (GVariant) calls = NULL;
  GArray *notifications = g_array_new (FALSE, TRUE, sizeof (OwNotification));
  GVariantIter iter;
  GVariant *args;
  guint64 timestamp;

  g_array_set_clear_func (notifications, notification_clear);
  g_assert_no_error (error);
  calls = g_variant_get_child_value (reply, 0);
  g_variant_iter_init (&iter, calls);
  while (g_variant_iter_next (&iter, "(t@av)", &timestamp, &args))
    {
      OwNotification n = { 0 };
      g_autoptr (GVariant) replaces = unboxed_arg (args, 1);
      g_autoptr (GVariant) icon = unboxed_arg (args, 2);
      g_autoptr (GVariant) summary = unboxed_arg (args, 3);
      g_autoptr (GVariant) body = unboxed_arg (args, 4);
      g_autoptr (GVariant) actions = unboxed_arg (args, 5);
      g_autoptr (GVariant) hints = unboxed_arg (args, 6);

      n.replaces_id = g_variant_get_uint32 (replaces);
      n.icon = g_variant_dup_string (icon, NULL);
      n.summary = g_variant_dup_string (summary, NULL);
      n.body = g_variant_dup_string (body, NULL);
      g_variant_lookup (hints, "urgency", "y", &n.urgency);
      g_variant_lookup (hints, "desktop-entry", "s", &n.desktop_entry);
      g_variant_lookup (hints, "category", "s", &n.category);
      n.actions = g_variant_dup_strv (actions, NULL);
      g_array_append_val (notifications, n);
      g_variant_unref (args);
    }
  return notifications;
}

/* How many kills a notification's summary counts. */
guint
ow_notify_summary_count (const OwNotification *n)
{
  return g_str_has_prefix (n->summary, "A process")
             ? 1
             : (guint)g_ascii_strtoull (n->summary, NULL, 10);
}

typedef struct
{
  OwNotifySession *session;
  guint at_least; /* notifications */
  guint counting; /* kills the last one counts, at least */
} OwNotificationsWait;

static gboolean
has_notifications (gpointer user_data)
{
  OwNotificationsWait *wait = user_data;
  g_autoptr (GArray) got = ow_notify_received (wait->session);

  return got->len >= wait->at_least
         && ow_notify_summary_count (&g_array_index (got, OwNotification, got->len - 1)) >= wait->counting;
}

/* Waits (bounded) until at least AT_LEAST notifications came, the last counting at least
 * COUNTING kills; returns all that came. */
GArray *
ow_notify_wait (OwNotifySession *session, guint at_least, guint counting)
{
  OwNotificationsWait wait = { session, at_least, counting };

  ow_test_wait_until (has_notifications, &wait, EVENT_TIMEOUT_MS);
  return ow_notify_received (session);
}

void
ow_notify_write_desktop_file (const char *data_dir, const char *id, const char *name)
{
  g_autofree char *dir = g_build_filename (data_dir, "applications", NULL);
  g_autofree char *file = g_strdup_printf ("%s/%s.desktop", dir, id);
  g_autofree char *contents = g_strdup_printf ("[Desktop Entry]\nType=Application\nName=%s\n"
                                               "Icon=%s\nExec=true\n",
                                               name, id);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (file, contents, -1, NULL));
}

void
ow_notify_remove_desktop_file (const char *data_dir, const char *id)
{
  g_autofree char *file = g_strdup_printf ("%s/applications/%s.desktop", data_dir, id);
  g_autofree char *dir = g_build_filename (data_dir, "applications", NULL);

  g_unlink (file);
  g_rmdir (dir);
  g_rmdir (data_dir);
}

/* The newest notification, after at least AT_LEAST arrived and no more came for a while. */
GArray *
ow_notify_settled (OwNotifySession *session, guint at_least)
{
  G_GNUC_UNUSED g_autoptr (GArray) got = ow_notify_wait (session, at_least, 0);

  ow_test_env_iterate (1500);
  return ow_notify_received (session);
}


/* 0, or the skip status (with the reason printed) when the environment cannot run the tests */
int
ow_notify_check (void)
{
  int skip = ow_test_env_check ();
  g_autofree char *python = NULL;

  if (skip != 0)
    return skip;
  python = ow_notify_find_python ();
  if (python == NULL)
    {
      g_print ("SKIP: no python3 on PATH imports dbusmock (apt-get install python3-dbusmock)\n");
      return OW_TEST_SKIP;
    }
  return 0;
}
