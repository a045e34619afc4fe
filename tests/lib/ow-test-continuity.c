/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-test-continuity.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

char *
ow_test_continuity_runtime_dir (OwTestEnv *env)
{
  /* OOMWATCH_TEST_RUNTIME_BASE: a tmpfs, as /run is where the daemon is deployed (bench/run) */
  const char *base = g_getenv ("OOMWATCH_TEST_RUNTIME_BASE");
  g_autofree char *name = g_path_get_basename (env->tmpdir);

  if (base != NULL)
    return g_build_filename (base, name, NULL);
  return g_build_filename (env->tmpdir, "run", NULL);
}

/* Each test's daemon keeps its state apart from the machine's /run/oomwatch. */
void
ow_test_continuity_setup_launcher (OwTestEnv *env, GSubprocessLauncher *launcher)
{
  g_autofree char *runtime = ow_test_continuity_runtime_dir (env);

  g_subprocess_launcher_setenv (launcher, "RUNTIME_DIRECTORY", runtime, TRUE);
}

void
ow_test_remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        ow_test_remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

void
ow_test_continuity_cleanup (OwTestEnv *env)
{
  g_autofree char *runtime = ow_test_continuity_runtime_dir (env);

  ow_test_remove_tree (runtime);
}

/* Like a crash: no clean-up of any kind in the daemon. */
void
ow_test_continuity_kill_daemon (OwTestEnv *env)
{
  g_autofree char *owner = NULL;
  gint64 until = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;

  g_assert_cmpint (kill ((pid_t)g_ascii_strtoll (env->daemon_pid, NULL, 10), SIGKILL), ==, 0);
  ow_test_env_wait_process (env->daemon);
  g_assert_true (g_subprocess_get_if_signaled (env->daemon));
  g_clear_object (&env->daemon);
  do
    {
      g_free (owner);
      ow_test_env_iterate (10);
      owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (env->manager));
    }
  while (owner != NULL && g_get_monotonic_time () < until);
  g_assert_null (owner);
}

static void
die_with_test (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

GSubprocess *
ow_test_spawn_tied (const char *const *argv, GSubprocessFlags flags)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (flags);
  g_autoptr (GError) error = NULL;
  GSubprocess *process;

  g_subprocess_launcher_set_child_setup (launcher, die_with_test, NULL, NULL);
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  return process;
}

/* A new daemon on the same bus, with the same configuration and runtime directory. */
void
ow_test_continuity_start_daemon (OwTestEnv *env)
{
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autofree char *config_arg = g_strdup_printf ("--config=%s", env->config_path);
  g_autofree char *log = NULL;
  const char *wrapper = g_getenv ("OOMWATCH_TEST_WRAPPER"); /* valgrind runs in-process */
  g_auto (GStrv) words = g_strsplit (wrapper != NULL ? wrapper : "", " ", -1);
  g_autoptr (GStrvBuilder) argv = g_strv_builder_new ();
  g_auto (GStrv) args = NULL;
  gint64 until = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;
  g_autofree char *owner = NULL;
  g_autoptr (GError) error = NULL;

  if (g_file_get_contents (env->daemon_log, &log, NULL, NULL))
    g_test_message ("log of the daemon before the restart:\n%s", log);
  g_subprocess_launcher_set_stdout_file_path (launcher, env->daemon_log);
  g_subprocess_launcher_set_child_setup (launcher, die_with_test, NULL, NULL);
  ow_test_continuity_setup_launcher (env, launcher);
  for (gsize i = 0; words[i] != NULL; i++)
    if (words[i][0] != '\0')
      g_strv_builder_add (argv, words[i]);
  g_strv_builder_add_many (argv, g_getenv ("OOMWATCHD"), "--verbose", config_arg, NULL);
  args = g_strv_builder_end (argv);
  env->daemon = g_subprocess_launcher_spawnv (launcher, (const char *const *)args, &error);
  g_assert_no_error (error);
  g_free (env->daemon_pid);
  env->daemon_pid = g_strdup (g_subprocess_get_identifier (env->daemon));
  while (owner == NULL && g_get_monotonic_time () < until)
    {
      ow_test_env_iterate (10);
      owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (env->manager));
    }
  g_assert_nonnull (owner);
}

/* Reading a child's output without blocking the main loop */

static void read_next (OwTestReader *reader);

static void
on_line (GObject *object, GAsyncResult *result, gpointer user_data)
{
  OwTestReader *reader = user_data;
  g_autoptr (GError) error = NULL;
  char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (object), result,
                                                          NULL, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (line == NULL)
    {
      reader->eof = TRUE;
      return;
    }
  g_ptr_array_add (reader->lines, line);
  read_next (reader);
}

static void
read_next (OwTestReader *reader)
{
  g_data_input_stream_read_line_async (reader->out, G_PRIORITY_DEFAULT, NULL, on_line, reader);
}

OwTestReader *
ow_test_reader_new (const char *const *argv, GSubprocessLauncher *launcher)
{
  OwTestReader *reader = g_new0 (OwTestReader, 1);
  g_autoptr (GError) error = NULL;

  if (launcher != NULL)
    reader->process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  else
    reader->process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  reader->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (reader->process));
  reader->lines = g_ptr_array_new_with_free_func (g_free);
  read_next (reader);
  return reader;
}

guint
ow_test_reader_wait_lines (OwTestReader *reader, guint n, guint timeout_msec)
{
  gint64 until = g_get_monotonic_time () + timeout_msec * G_TIME_SPAN_MILLISECOND;

  while (reader->lines->len < n && !reader->eof && g_get_monotonic_time () < until)
    ow_test_env_iterate (5);
  return reader->lines->len;
}

void
ow_test_reader_free (OwTestReader *reader)
{
  if (!reader->eof)
    {
      g_subprocess_send_signal (reader->process, SIGTERM);
      ow_test_reader_wait_lines (reader, G_MAXUINT, 10000);
    }
  ow_test_env_wait_process (reader->process);
  g_object_unref (reader->out);
  g_object_unref (reader->process);
  g_ptr_array_unref (reader->lines);
  g_free (reader);
}

char *
ow_test_json_field (const char *line, const char *key)
{
  g_autofree char *needle = g_strdup_printf ("\"%s\":", key);
  const char *at = strstr (line, needle);
  const char *end;

  if (at == NULL)
    return NULL;
  at += strlen (needle);
  if (*at == '"')
    {
      end = strchr (at + 1, '"');
      return end != NULL ? g_strndup (at + 1, (gsize)(end - at - 1)) : NULL;
    }
  end = at + strcspn (at, ",}");
  return g_strndup (at, (gsize)(end - at));
}

/* HTTP */

char *
ow_test_http_get (guint16 port, const char *path)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) connection = NULL;
  g_autofree char *request = g_strdup_printf ("GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
  g_autoptr (GByteArray) response = g_byte_array_new ();
  GInputStream *in;
  char buf[8192];
  gssize got;
  char *body;

  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  if (connection == NULL)
    return NULL;
  if (!g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)), request,
                                  strlen (request), NULL, NULL, NULL))
    return NULL;
  in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  while ((got = g_input_stream_read (in, buf, sizeof buf, NULL, NULL)) > 0)
    g_byte_array_append (response, (const guint8 *)buf, (guint)got);
  g_byte_array_append (response, (const guint8 *)"", 1);
  body = strstr ((const char *)response->data, "\r\n\r\n");
  if (body == NULL || strstr ((const char *)response->data, " 200 ") == NULL
      || strstr ((const char *)response->data, " 200 ") > body)
    return NULL;
  return g_strdup (body + 4);
}

/* A port nothing listens on now (the kernel picks it; a race with others is unlikely). */
guint16
ow_test_free_port (void)
{
  g_autoptr (GSocket) socket
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  g_assert_nonnull (socket);
  g_assert_true (g_socket_bind (socket, any, FALSE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* promtool check metrics on TEXT passes. */
void
ow_test_promtool_check (const char *text)
{
  const char *argv[] = { "promtool", "check", "metrics", NULL };
  g_autoptr (GSubprocess) promtool = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (GError) error = NULL;

  promtool = g_subprocess_newv (argv,
                                G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                    | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (promtool, text, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("promtool: %s%s", out, err);
  g_assert_true (g_subprocess_get_if_exited (promtool));
  g_assert_cmpint (g_subprocess_get_exit_status (promtool), ==, 0);
}
