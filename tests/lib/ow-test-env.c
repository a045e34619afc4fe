/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-test-env.h"
#include "ow-test-cgroups.h"
#include "ow-test-wait.h"
#include "ow-test-continuity.h"
#include "ow-test-system.h"
#include "oomwatch-error.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

/* Returns 0 when the integration tests can run here, else prints why and returns 77. */
int
ow_test_env_check (void)
{
  g_autofree char *dbus = g_find_program_in_path ("dbus-daemon");
  const char *why = NULL;

  if (geteuid () != 0)
    why = "needs root to create cgroups and register for OOM events";
  else if ((why = ow_test_cgroups_setup ()) != NULL) /* oomwatch-systemd hook: v1, or a v2 leaf */
    ;
  else if (dbus == NULL)
    why = "dbus-daemon is not installed (apt-get install dbus-daemon)";
  else if (g_getenv ("OOMWATCHD") == NULL || g_getenv ("OOM_HOG") == NULL)
    why = "run through meson test: OOMWATCHD, OOMCTL, OOM_HOG, BUS_CONFIG are not set";
  if (why == NULL)
    return 0;
  g_print ("SKIP: %s\n", why);
  return OW_TEST_SKIP;
}

/* The start of every integration test's main(): 0, or 77 with the reason printed. */
int
ow_test_env_init (int *argc, char ***argv)
{
  int skip = ow_test_env_check ();

  if (skip == 0)
    g_test_init (argc, argv, NULL);
  return skip;
}

/* A GSubprocessLauncher child setup: run the child as nobody. */
void
ow_test_env_drop_to_nobody (gpointer user_data)
{
  if (setgid (65534) < 0 || setuid (65534) < 0)
    _exit (99);
}

void
ow_test_signal_free (gpointer data)
{
  OwTestSignal *signal = data;

  g_free (signal->cgroup);
  g_free (signal->kind);
  g_clear_pointer (&signal->details, g_variant_unref);
  g_free (signal);
}

static void
on_oom_event (OomwatchManager *manager, const char *cgroup, const char *kind, guint64 count,
              GVariant *details, gpointer user_data)
{
  OwTestEnv *env = user_data;
  OwTestSignal *signal = g_new0 (OwTestSignal, 1);

  signal->cgroup = g_strdup (cgroup);
  signal->kind = g_strdup (kind);
  signal->count = count;
  signal->details = g_variant_ref (details);
  g_ptr_array_add (env->signals, signal);
}

static void
on_watch_removed (OomwatchManager *manager, const char *cgroup, const char *reason,
                  GVariant *details, gpointer user_data) /* continuity: details */
{
  OwTestEnv *env = user_data;
  OwTestSignal *signal = g_new0 (OwTestSignal, 1);

  g_assert_cmpstr (reason, ==, "cgroup-removed");
  signal->cgroup = g_strdup (cgroup);
  signal->kind = g_strdup ("removed");
  signal->count = 1;
  signal->details = g_variant_ref (details); /* continuity */
  g_ptr_array_add (env->signals, signal);
}

void
ow_test_env_iterate (guint msec)
{
  gint64 until = g_get_monotonic_time () + msec * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < until)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (2000);
    }
}

/* A test that fails an assertion aborts: its bus and daemon must not outlive it. */
static void
die_with_test (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static char *
start_bus (OwTestEnv *env)
{
  g_autofree char *socket = g_build_filename (env->tmpdir, "system_bus_socket", NULL);
  g_autofree char *address = g_strdup_printf ("unix:path=%s", socket);
  g_autofree char *config = g_strdup_printf ("--config-file=%s", g_getenv ("BUS_CONFIG"));
  g_autofree char *listen = g_strdup_printf ("--address=%s", address);
  /* OOMWATCH_TEST_BUS: a dbus-daemon stand-in taking the same options (bench/bench-broker) */
  const char *bus = g_getenv ("OOMWATCH_TEST_BUS") ?: "dbus-daemon";
  const char *argv[] = { bus, config, listen, "--nofork", "--print-address=1", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  char *line;

  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);

  g_subprocess_launcher_set_child_setup (launcher, die_with_test, NULL, NULL);
  env->bus = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (env->bus));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  return line;
}

static void
daemon_setup (gpointer user_data)
{
  guint nofile = GPOINTER_TO_UINT (user_data);

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (nofile > 0)
    {
      struct rlimit limit = { nofile, nofile };

      setrlimit (RLIMIT_NOFILE, &limit);
    }
}

static void
start_daemon (OwTestEnv *env, const OwTestDaemonOptions *options)
{
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;

  env->daemon_log = g_build_filename (env->tmpdir, "oomwatchd.log", NULL);
  g_subprocess_launcher_set_stdout_file_path (launcher, env->daemon_log);
  g_subprocess_launcher_set_child_setup (launcher, daemon_setup, GUINT_TO_POINTER (options->nofile),
                                         NULL);
  g_auto (GStrv) env_wrapper = NULL;
  g_autofree char *config_arg = NULL;
  const char *const *wrapper = options->wrapper;

  /* `meson test --setup=valgrind` runs the daemon under valgrind too. */
  if (wrapper == NULL && g_getenv ("OOMWATCH_TEST_WRAPPER") != NULL)
    {
      env_wrapper = g_strsplit (g_getenv ("OOMWATCH_TEST_WRAPPER"), " ", -1);
      wrapper = (const char *const *)env_wrapper;
    }
  for (gsize i = 0; wrapper != NULL && wrapper[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer)wrapper[i]);
  env->config_path = g_build_filename (env->tmpdir, "oomwatch.conf", NULL);
  if (options->config != NULL)
    g_assert_true (g_file_set_contents (env->config_path, options->config, -1, NULL));
  config_arg = g_strdup_printf ("--config=%s", env->config_path);
  g_ptr_array_add (argv, (gpointer)g_getenv ("OOMWATCHD"));
  if (!options->quiet)
    g_ptr_array_add (argv, "--verbose");
  g_ptr_array_add (argv, config_arg);
  for (gsize i = 0; options->args != NULL && options->args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer)options->args[i]);
  g_ptr_array_add (argv, NULL);
  ow_test_continuity_setup_launcher (env, launcher); /* continuity: a runtime dir of its own */
  env->daemon = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, &error);
  g_assert_no_error (error);
}

/* Under a wrapper the daemon may be the wrapper's child. */
static char *
find_daemon_pid (OwTestEnv *env, gboolean wrapped)
{
  const char *pid = g_subprocess_get_identifier (env->daemon);
  g_autofree char *path = g_strdup_printf ("/proc/%s/task/%s/children", pid, pid);
  g_autofree char *children = NULL;

  if (!wrapped)
    return g_strdup (pid);
  /* strace runs it as a child; valgrind runs it in its own process. */
  g_assert_true (g_file_get_contents (path, &children, NULL, NULL));
  if (g_strstrip (children)[0] == '\0')
    return g_strdup (pid);
  return g_strdup (children);
}

static void
wait_for_name (OwTestEnv *env)
{
  gint64 until = g_get_monotonic_time () + ow_test_timeout_ms (15000) * G_TIME_SPAN_MILLISECOND;
  g_autofree char *owner = NULL;

  while (owner == NULL && g_get_monotonic_time () < until)
    {
      ow_test_env_iterate (20);
      owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (env->manager));
    }
  g_assert_nonnull (owner);
}

GDBusConnection *
ow_test_env_connect (OwTestEnv *env)
{
  g_autoptr (GError) error = NULL;
  GDBusConnection *connection;

  connection = g_dbus_connection_new_for_address_sync (
      env->bus_address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);
  return connection;
}

OwTestEnv *
ow_test_env_new (const char *const *daemon_args)
{
  OwTestDaemonOptions options = { .args = daemon_args };

  return ow_test_env_new_full (&options);
}

/* A daemon started by the case even where the tests run against the system's (WHY). */
OwTestEnv *
ow_test_env_new_own (const char *why)
{
  OwTestDaemonOptions options = { .own = why };

  return ow_test_env_new_full (&options);
}

OwTestEnv *
ow_test_env_new_full (const OwTestDaemonOptions *options)
{
  gboolean system = ow_test_system_wanted (options);
  OwTestEnv *env = g_new0 (OwTestEnv, 1);
  g_autofree char *mount = ow_test_cgroups_memory_mount ();
  g_autofree char *own = ow_test_cgroups_own ();
  g_autofree char *name = g_strdup_printf ("oomwatch-test-%d", (int)getpid ());
  g_autoptr (GError) error = NULL;

  /* Registers the error domain, so remote errors come back as OOMWATCH_ERROR. */
  (void)OOMWATCH_ERROR;
  env->signals = g_ptr_array_new_with_free_func (ow_test_signal_free);
  env->tmpdir = g_dir_make_tmp ("oomwatch-test-XXXXXX", &error);
  g_assert_no_error (error);
  /* Tests run clients as nobody too: they must reach the bus socket. */
  g_assert_cmpint (g_chmod (env->tmpdir, 0755), ==, 0);

  ow_test_cgroups_remove_stale (mount, own);
  env->cgroup_base = g_build_path ("/", "/", own, name, NULL);
  env->cgroup_dir = g_build_filename (mount, env->cgroup_base, NULL);
  g_assert_cmpint (g_mkdir (env->cgroup_dir, 0755), ==, 0);

  if (system)
    {
      env->bus_address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
      g_assert_no_error (error);
    }
  else
    {
      env->bus_address = start_bus (env);
      g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", env->bus_address, TRUE);
      start_daemon (env, options);
    }

  env->connection = ow_test_env_connect (env);
  if (system)
    ow_test_system_attach (env, options->config);
  env->manager = oomwatch_manager_proxy_new_sync (env->connection, G_DBUS_PROXY_FLAGS_NONE,
                                                  "org.oomwatch.OomWatch1",
                                                  "/org/oomwatch/OomWatch1", NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (env->manager, "oom-event", G_CALLBACK (on_oom_event), env);
  g_signal_connect (env->manager, "watch-removed", G_CALLBACK (on_watch_removed), env);
  wait_for_name (env);
  if (!system)
    env->daemon_pid = find_daemon_pid (env, options->wrapper != NULL
                                                || g_getenv ("OOMWATCH_TEST_WRAPPER") != NULL);
  env->glib_eventfds = ow_test_env_count_eventfds (env);
  return env;
}

void
ow_test_env_free (OwTestEnv *env)
{
  g_autofree char *log = NULL;

  g_signal_handlers_disconnect_by_data (env->manager, env);
  g_clear_object (&env->manager);
  if (env->saved_config != NULL)
    ow_test_system_detach (env);
  g_clear_object (&env->connection);

  if (env->daemon != NULL)
    {
      kill ((pid_t)g_ascii_strtoll (env->daemon_pid, NULL, 10), SIGTERM);
      ow_test_env_wait_process (env->daemon);
      if (g_file_get_contents (env->daemon_log, &log, NULL, NULL))
        g_test_message ("oomwatchd log:\n%s", log);
      /* SIGTERM is a clean exit. */
      g_assert_true (g_subprocess_get_if_exited (env->daemon));
      g_assert_cmpint (g_subprocess_get_exit_status (env->daemon), ==, 0);
      g_clear_object (&env->daemon);
    }
  if (env->bus != NULL)
    {
      g_subprocess_force_exit (env->bus);
      ow_test_env_wait_process (env->bus);
      g_clear_object (&env->bus);
    }
  ow_test_cgroups_remove_tree (env->cgroup_dir);
  if (env->daemon_log != NULL)
    g_unlink (env->daemon_log);
  if (env->config_path != NULL)
    g_unlink (env->config_path);
  g_free (env->config_path);
  ow_test_continuity_cleanup (env); /* continuity */
  g_rmdir (env->tmpdir);
  g_ptr_array_unref (env->signals);
  g_free (env->daemon_log);
  g_free (env->daemon_pid);
  g_free (env->bus_address);
  g_free (env->tmpdir);
  g_free (env->cgroup_dir);
  g_free (env->cgroup_base);
  g_free (env);
}

char *
ow_test_env_watch (OwTestEnv *env, OomwatchManager *manager, const char *cgroup)
{
  g_autoptr (GError) error = NULL;
  char *canonical = NULL;

  oomwatch_manager_call_watch_sync (manager ?: env->manager, cgroup, g_variant_new ("a{sv}", NULL),
                                    G_DBUS_CALL_FLAGS_NONE, -1, &canonical, NULL, &error);
  g_assert_no_error (error);
  return canonical;
}

char *
ow_test_env_watch_recursive (OwTestEnv *env, const char *cgroup, GError **error)
{
  g_auto (GVariantDict) options = G_VARIANT_DICT_INIT (NULL);
  char *canonical = NULL;

  g_variant_dict_insert (&options, "recursive", "b", TRUE);
  oomwatch_manager_call_watch_sync (env->manager, cgroup, g_variant_dict_end (&options),
                                    G_DBUS_CALL_FLAGS_NONE, -1, &canonical, NULL, error);
  return canonical;
}

/* The ListWatches entry of CANONICAL, or NULL. */
GVariant *
ow_test_env_find_watch (OwTestEnv *env, const char *canonical)
{
  g_autoptr (GVariant) watches = NULL;
  g_autoptr (GError) error = NULL;
  GVariantIter iter;
  const char *cgroup;
  GVariant *dict;

  oomwatch_manager_call_list_watches_sync (env->manager, G_DBUS_CALL_FLAGS_NONE, -1, &watches, NULL,
                                           &error);
  g_assert_no_error (error);
  g_variant_iter_init (&iter, watches);
  while (g_variant_iter_next (&iter, "(&s@a{sv})", &cgroup, &dict))
    {
      if (g_strcmp0 (cgroup, canonical) == 0)
        return dict;
      g_variant_unref (dict);
    }
  return NULL;
}

/* The daemon's open fds whose target ends with ONLY (all of them with NULL). */
static guint
count_fds (OwTestEnv *env, const char *only)
{
  g_autofree char *fd_dir = g_strdup_printf ("/proc/%s/fd", env->daemon_pid);
  g_autoptr (GDir) dir = g_dir_open (fd_dir, 0, NULL);
  const char *entry;
  guint count = 0;

  g_assert_nonnull (dir);
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fd_dir, entry, NULL);
      g_autofree char *target = g_file_read_link (path, NULL);

      if (only == NULL || (target != NULL && g_str_has_suffix (target, only)))
        count++;
    }
  return count;
}

gboolean
ow_test_env_watched (OwTestEnv *env, const char *canonical)
{
  g_autoptr (GVariant) watch = ow_test_env_find_watch (env, canonical);

  return watch != NULL;
}

/* How many kernel registrations the daemon holds: its eventfds, less GLib's own. */
guint
ow_test_env_count_eventfds (OwTestEnv *env)
{
  guint count;

  /* oomwatch-systemd hook: on v2 a registration is an open memory.events. */
  if (ow_test_cgroups_version () == 2)
    return count_fds (env, "/memory.events");
  count = count_fds (env, "anon_inode:[eventfd]");
  g_assert_cmpuint (count, >=, env->glib_eventfds);
  return count - env->glib_eventfds;
}

/* The events the daemon's inotify watch of directory PATH asks for (its fdinfo's mask), or
 * 0 when it does not watch PATH. */
guint32
ow_test_env_inotify_mask (OwTestEnv *env, const char *path)
{
  g_autofree char *fd_dir = g_strdup_printf ("/proc/%s/fd", env->daemon_pid);
  g_autoptr (GDir) dir = g_dir_open (fd_dir, 0, NULL);
  g_autofree char *ino = NULL;
  const char *entry;
  struct stat st;

  g_assert_nonnull (dir);
  g_assert_no_errno (stat (path, &st));
  ino = g_strdup_printf (" ino:%" G_GINT64_MODIFIER "x ", (guint64)st.st_ino);
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *link = g_build_filename (fd_dir, entry, NULL);
      g_autofree char *target = g_file_read_link (link, NULL);
      g_autofree char *info_path = NULL, *info = NULL;
      g_auto (GStrv) lines = NULL;

      if (g_strcmp0 (target, "anon_inode:inotify") != 0)
        continue;
      info_path = g_strdup_printf ("/proc/%s/fdinfo/%s", env->daemon_pid, entry);
      if (!g_file_get_contents (info_path, &info, NULL, NULL))
        continue;
      lines = g_strsplit (info, "\n", -1);
      for (gsize i = 0; lines[i] != NULL; i++)
        {
          const char *mask = strstr (lines[i], " mask:");

          if (g_str_has_prefix (lines[i], "inotify ") && strstr (lines[i], ino) != NULL
              && mask != NULL)
            return (guint32)g_ascii_strtoull (mask + strlen (" mask:"), NULL, 16);
        }
    }
  return 0;
}

guint
ow_test_env_count_fds (OwTestEnv *env)
{
  return count_fds (env, NULL);
}

guint
ow_test_env_count_open_files (OwTestEnv *env, const char *suffix)
{
  return count_fds (env, suffix);
}

guint64
ow_test_env_status_kib (OwTestEnv *env, const char *field)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/status", env->daemon_pid);
  g_autofree char *status = NULL;
  const char *value;

  g_assert_true (g_file_get_contents (path, &status, NULL, NULL));
  value = strstr (status, field);
  g_assert_nonnull (value);
  return g_ascii_strtoull (value + strlen (field), NULL, 10);
}

guint64
ow_test_env_rss_kib (OwTestEnv *env)
{
  return ow_test_env_status_kib (env, "VmRSS:");
}

GSubprocess *
ow_test_env_spawn (OwTestEnv *env, GSubprocessFlags flags, const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  GSubprocess *process = g_subprocess_newv (argv, flags, &error);

  g_assert_no_error (error);
  return process;
}

static void
on_process_done (GObject *object, GAsyncResult *result, gpointer user_data)
{
  gboolean *done = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  *done = TRUE;
}

void
ow_test_env_wait_process (GSubprocess *process)
{
  gint64 until = g_get_monotonic_time () + ow_test_timeout_ms (30000) * G_TIME_SPAN_MILLISECOND;
  gboolean done = FALSE;

  g_subprocess_wait_async (process, NULL, on_process_done, &done);
  while (!done && g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (done);
}

static gboolean
has_signal (OwTestEnv *env, const char *cgroup, const char *kind)
{
  return ow_test_env_n_signals (env, cgroup, kind) > 0;
}

gboolean
ow_test_env_wait_signal (OwTestEnv *env, const char *cgroup, const char *kind, guint timeout_msec)
{
  gint64 until
      = g_get_monotonic_time () + ow_test_timeout_ms (timeout_msec) * G_TIME_SPAN_MILLISECOND;

  while (!has_signal (env, cgroup, kind) && g_get_monotonic_time () < until)
    ow_test_env_iterate (5);
  return has_signal (env, cgroup, kind);
}

guint
ow_test_env_n_signals (OwTestEnv *env, const char *cgroup, const char *kind)
{
  guint n = 0;

  for (guint i = 0; i < env->signals->len; i++)
    {
      OwTestSignal *signal = g_ptr_array_index (env->signals, i);

      if (g_strcmp0 (signal->cgroup, cgroup) == 0 && g_strcmp0 (signal->kind, kind) == 0)
        n++;
    }
  return n;
}

guint64
ow_test_env_sum (OwTestEnv *env, const char *cgroup, const char *kind)
{
  guint64 sum = 0;

  for (guint i = 0; i < env->signals->len; i++)
    {
      OwTestSignal *signal = g_ptr_array_index (env->signals, i);

      if (g_strcmp0 (signal->cgroup, cgroup) == 0 && g_strcmp0 (signal->kind, kind) == 0)
        sum += signal->count;
    }
  return sum;
}

/* The pid, while it still runs (GSubprocess forgets it once the process is reaped). */
guint32
ow_test_env_pid (GSubprocess *process)
{
  const char *identifier = g_subprocess_get_identifier (process);

  g_assert_nonnull (identifier);
  return (guint32)g_ascii_strtoull (identifier, NULL, 10);
}
