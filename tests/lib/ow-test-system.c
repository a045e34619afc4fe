/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-test-system.h"
#include "oomwatch-names.h"

#include <string.h>

/* The value is the path of the running daemon's oomwatch.conf. */
#define SYSTEM_DAEMON_ENV "OOMWATCH_TEST_SYSTEM_DAEMON"

/* Whether this case runs against the system's daemon: not when it starts the daemon with
 * options or under a wrapper, or says it needs one of its own. */
gboolean
ow_test_system_wanted (const OwTestDaemonOptions *options)
{
  const char *config = g_getenv (SYSTEM_DAEMON_ENV);

  if (config == NULL || config[0] == '\0')
    return FALSE;
  if (options->own != NULL)
    {
      g_test_message ("a daemon of its own, not the system's: %s", options->own);
      return FALSE;
    }
  return options->args == NULL && options->wrapper == NULL && options->nofile == 0
         && g_getenv ("OOMWATCH_TEST_WRAPPER") == NULL;
}

static void
reload (OwTestEnv *env)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      env->connection, OOMWATCH_BUS_NAME, OOMWATCH_OBJECT_PATH, OOMWATCH_MANAGER_INTERFACE,
      "Reload", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (reply);
}

static char *
owner_pid (OwTestEnv *env)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      env->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "GetConnectionUnixProcessID", g_variant_new ("(s)", OOMWATCH_BUS_NAME),
      G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  guint32 pid = 0;

  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &pid);
  return g_strdup_printf ("%u", pid);
}

/* Once connected: the case's configuration replaces the daemon's (restored by detach), and a
 * Reload() applies it; the daemon is started through the bus if it is not running. */
void
ow_test_system_attach (OwTestEnv *env, const char *config)
{
  g_autoptr (GError) error = NULL;

  env->config_path = g_strdup (g_getenv (SYSTEM_DAEMON_ENV));
  g_assert_true (g_file_get_contents (env->config_path, &env->saved_config, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (env->config_path, config != NULL ? config : "", -1, &error));
  g_assert_no_error (error);
  reload (env);
  env->daemon_pid = owner_pid (env);
}

void
ow_test_system_detach (OwTestEnv *env)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (env->config_path, env->saved_config, -1, &error));
  g_assert_no_error (error);
  reload (env);
  g_clear_pointer (&env->saved_config, g_free);
  g_clear_pointer (&env->config_path, g_free); /* the system's: not to be removed */
}
