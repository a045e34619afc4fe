/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helper processes of the adversary suite and the checks on what they saw. Attackers and users
 * are separate processes with their own uid, started with setpriv (which also makes them die
 * with the test); they print one line per answer or signal, read here without blocking. */
#include "adversary-harness.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Fails the test and goes on: the log lists every open finding, not only the last. */
void
adv_fail (const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_test_message ("FAILED: %s", message);
  g_test_fail_printf ("%s", message);
}

/* The bus logs every message its policy rejects to stderr, tens of thousands under a flood
 * the policy refuses: that bus writes to /dev/null instead (the daemon logs to its own file). */
OwTestEnv *
adv_env_new_quiet_bus (const OwTestDaemonOptions *options)
{
  int saved = dup (STDERR_FILENO);
  int null = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  OwTestEnv *env;

  g_assert_cmpint (saved, >=, 0);
  g_assert_cmpint (null, >=, 0);
  dup2 (null, STDERR_FILENO);
  env = ow_test_env_new_full (options);
  dup2 (saved, STDERR_FILENO);
  close (saved);
  close (null);
  return env;
}

/* A bus whose policy lets fds through (a dbus-daemon without max_fds, or an edited policy):
 * the daemon must drop them itself. Returns the bus config to use, written to DIR. */
char *
adv_bus_config_passing_fds (const char *dir)
{
  g_autofree char *config = NULL, *policy = NULL, *policy_path = NULL;
  g_autofree char *new_policy_path = g_build_filename (dir, "policy-passing-fds.conf", NULL);
  char *new_config_path = g_build_filename (dir, "bus-passing-fds.conf", NULL);
  g_auto (GStrv) halves = NULL;
  g_autofree char *stripped = NULL, *new_config = NULL;
  const char *start, *end;

  g_assert_true (g_file_get_contents (g_getenv ("BUS_CONFIG"), &config, NULL, NULL));
  start = strstr (config, "<include>");
  end = strstr (config, "</include>");
  g_assert_true (start != NULL && end != NULL);
  policy_path = g_strndup (start + strlen ("<include>"), end - start - strlen ("<include>"));
  g_assert_true (g_file_get_contents (policy_path, &policy, NULL, NULL));
  halves = g_strsplit (policy, " max_fds=\"0\"", -1);
  stripped = g_strjoinv ("", halves);
  g_assert_true (g_file_set_contents (new_policy_path, stripped, -1, NULL));
  new_config
      = g_strdup_printf ("%.*s<include>%s%s", (int)(start - config), config, new_policy_path, end);
  g_assert_true (g_file_set_contents (new_config_path, new_config, -1, NULL));
  return new_config_path;
}

/* Every timeout scales: the suite also runs under AddressSanitizer and valgrind. */
guint
adv_ms (guint ms)
{
  const char *factor = g_getenv ("OOMWATCH_TEST_TIMEOUT_MULTIPLIER");

  return ms * (factor != NULL ? MAX (1, atoi (factor)) : 1);
}

/* uid 1000, the first user of a Debian install, where there is one; else mail (8). */
guint
adv_uid_user (void)
{
  return getpwuid (1000) != NULL ? 1000 : 8;
}

gboolean
adv_under_tool (void)
{
  return g_getenv ("ASAN_OPTIONS") != NULL || g_getenv ("OOMWATCH_TEST_WRAPPER") != NULL;
}

void
adv_wait_until (gboolean (*done) (gpointer), gpointer data, guint timeout_ms)
{
  gint64 until = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  while (!done (data) && g_get_monotonic_time () < until)
    ow_test_env_iterate (5);
}

static void read_next (AdvProc *proc);

static void
on_line (GObject *object, GAsyncResult *result, gpointer user_data)
{
  AdvProc *proc = user_data;
  g_autoptr (GError) error = NULL;
  char *line = g_data_input_stream_read_line_finish_utf8 (proc->out, result, NULL, &error);

  if (line == NULL)
    {
      proc->eof = TRUE;
      return;
    }
  g_ptr_array_add (proc->lines, line);
  read_next (proc);
}

static void
read_next (AdvProc *proc)
{
  g_data_input_stream_read_line_async (proc->out, G_PRIORITY_DEFAULT, NULL, on_line, proc);
}

/* ARGV runs as UID (0: root) and dies with the test. */
AdvProc *
adv_spawn (guint uid, const char *label, const char *const *argv)
{
  AdvProc *proc = g_new0 (AdvProc, 1);
  g_autoptr (GPtrArray) full = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;

  g_ptr_array_add (full, g_strdup ("setpriv"));
  g_ptr_array_add (full, g_strdup ("--pdeathsig=KILL"));
  if (uid != 0)
    {
      g_ptr_array_add (full, g_strdup_printf ("--reuid=%u", uid));
      g_ptr_array_add (full, g_strdup_printf ("--regid=%u", uid));
      g_ptr_array_add (full, g_strdup ("--clear-groups"));
    }
  for (gsize i = 0; argv[i] != NULL; i++)
    g_ptr_array_add (full, g_strdup (argv[i]));
  g_ptr_array_add (full, NULL);
  proc->label = g_strdup (label);
  proc->lines = g_ptr_array_new_with_free_func (g_free);
  proc->process
      = g_subprocess_newv ((const char *const *)full->pdata,
                           G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  proc->in = g_subprocess_get_stdin_pipe (proc->process);
  proc->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc->process));
  read_next (proc);
  return proc;
}

/* adversary-client MODE as UID, once it is connected and subscribed. */
AdvProc *
adv_client (guint uid, const char *label, const char *mode)
{
  const char *argv[] = { g_getenv ("ADVERSARY_CLIENT"), mode, NULL };
  AdvProc *proc = adv_spawn (uid, label, argv);

  if (adv_wait_line (proc, "ready", adv_ms (10000)) == NULL)
    g_error ("%s (uid %u) did not connect: %s", label, uid,
             proc->lines->len > 0 ? (char *)g_ptr_array_index (proc->lines, 0) : "");
  return proc;
}

/* adversary-flood ARGS as UID, once its connections are up. */
AdvProc *
adv_flood (guint uid, const char *label, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  AdvProc *proc;
  const char *ready;

  g_ptr_array_add (argv, (gpointer)g_getenv ("ADVERSARY_FLOOD"));
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer)args[i]);
  g_ptr_array_add (argv, NULL);
  proc = adv_spawn (uid, label, (const char *const *)argv->pdata);
  ready = adv_wait_line (proc, "ready", adv_ms (20000));
  if (ready == NULL)
    g_error ("%s did not connect", label);
  g_test_message ("%s (uid %u): %s", label, uid, ready);
  return proc;
}

/* The first line from the cursor on that starts with one of the '|'-separated PREFIXES. */
static const char *
take_line (AdvProc *proc, const char *prefixes)
{
  g_auto (GStrv) each = g_strsplit (prefixes, "|", -1);

  for (guint i = proc->cursor; i < proc->lines->len; i++)
    for (gsize p = 0; each[p] != NULL; p++)
      if (g_str_has_prefix (g_ptr_array_index (proc->lines, i), each[p]))
        {
          proc->cursor = i + 1;
          return g_ptr_array_index (proc->lines, i);
        }
  return NULL;
}

const char *
adv_wait_line (AdvProc *proc, const char *prefixes, guint timeout_ms)
{
  gint64 until = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  const char *line;

  while ((line = take_line (proc, prefixes)) == NULL && !proc->eof
         && g_get_monotonic_time () < until)
    ow_test_env_iterate (2);
  return line != NULL ? line : take_line (proc, prefixes);
}

/* Sends COMMAND to an adversary-client and returns its answer; *MS: the call's latency. */
const char *
adv_call (AdvProc *proc, const char *command, double *ms)
{
  g_autofree char *line = g_strdup_printf ("%s\n", command);
  g_autofree char *verb = g_strndup (command, strcspn (command, " "));
  g_autofree char *prefixes = g_strdup_printf ("ok %s |error %s ", verb, verb);
  g_autoptr (GError) error = NULL;
  const char *answer;

  g_output_stream_write_all (proc->in, line, strlen (line), NULL, NULL, &error);
  g_assert_no_error (error);
  answer = adv_wait_line (proc, prefixes, adv_ms (30000));
  if (answer == NULL)
    g_error ("%s: no answer to '%s'", proc->label, command);
  if (ms != NULL)
    {
      g_auto (GStrv) words = g_strsplit (answer, " ", 4);

      *ms = g_strv_length (words) > 2 ? g_ascii_strtod (words[2], NULL) : 0;
    }
  g_test_message ("%s: %s -> %s", proc->label, command, answer);
  return answer;
}

/* COMMAND must succeed within MAX_MS (scaled). Under ASan or valgrind it must only succeed and
 * its time is reported: the latency bounds are the plain build's to check (ASan's allocator
 * made one such call 21 times slower, 1,020 ms against 49, on a 2-core VM). */
void
adv_call_ok (AdvProc *proc, const char *command, guint max_ms)
{
  double ms = 0;
  const char *answer = adv_call (proc, command, &ms);

  if (!g_str_has_prefix (answer, "ok "))
    adv_fail ("%s: '%s' failed: %s", proc->label, command, answer);
  else if (ms > adv_ms (max_ms) && adv_under_tool ())
    g_test_message ("%s: '%s' took %.1f ms (over %u ms; not a failure under a sanitizer)",
                    proc->label, command, ms, adv_ms (max_ms));
  else if (ms > adv_ms (max_ms))
    adv_fail ("%s: '%s' took %.1f ms (limit %u ms)", proc->label, command, ms, adv_ms (max_ms));
}

/* Afterwards every signal the daemon sent PROC before now has been printed. */
void
adv_sync (AdvProc *proc)
{
  g_autoptr (GError) error = NULL;

  g_output_stream_write_all (proc->in, "sync\n", 5, NULL, NULL, &error);
  g_assert_no_error (error);
  if (adv_wait_line (proc, "synced|error sync", adv_ms (30000)) == NULL)
    adv_fail ("%s: no answer to sync", proc->label);
}

/* Ends PROC (stdin closed, SIGTERM) and returns its last "done" line, if any. */
const char *
adv_stop (AdvProc *proc)
{
  gint64 until = g_get_monotonic_time () + adv_ms (30000) * G_TIME_SPAN_MILLISECOND;

  g_output_stream_close (proc->in, NULL, NULL);
  g_subprocess_send_signal (proc->process, SIGTERM);
  while (!proc->eof && g_get_monotonic_time () < until)
    ow_test_env_iterate (5);
  if (!proc->eof)
    g_subprocess_force_exit (proc->process);
  ow_test_env_wait_process (proc->process);
  return take_line (proc, "done");
}

void
adv_proc_free (AdvProc *proc)
{
  if (!proc->eof)
    adv_stop (proc);
  g_object_unref (proc->out);
  g_object_unref (proc->process);
  g_ptr_array_unref (proc->lines);
  g_free (proc->label);
  g_free (proc);
}

/* The signals PROC printed, as the harness records its own (WatchRemoved: kind "removed"). */
GPtrArray *
adv_signals (AdvProc *proc)
{
  GPtrArray *signals = g_ptr_array_new_with_free_func (ow_test_signal_free);

  for (guint i = 0; i < proc->lines->len; i++)
    {
      g_auto (GStrv) f = g_strsplit (g_ptr_array_index (proc->lines, i), "\t", 6);
      OwTestSignal *signal;

      if (g_strcmp0 (f[0], "event") != 0)
        continue;
      signal = g_new0 (OwTestSignal, 1);
      signal->cgroup = g_strdup (f[2]);
      if (g_str_equal (f[1], "OomEvent") && g_strv_length (f) == 6)
        {
          signal->kind = g_strdup (f[3]);
          signal->count = g_ascii_strtoull (f[4], NULL, 10);
          signal->details = g_variant_parse (G_VARIANT_TYPE_VARDICT, f[5], NULL, NULL, NULL);
        }
      else
        {
          signal->kind = g_strdup ("removed");
          signal->count = 1;
        }
      g_ptr_array_add (signals, signal);
    }
  return signals;
}

/* The daemon still serves: ListWatches answers (a dead daemon fails the test, not aborts it). */
gboolean
adv_daemon_answers (OwTestEnv *env)
{
  g_autoptr (GVariant) watches = NULL;
  g_autoptr (GError) error = NULL;

  oomwatch_manager_call_list_watches_sync (env->manager, G_DBUS_CALL_FLAGS_NONE, adv_ms (20000),
                                           &watches, NULL, &error);
  if (error != NULL)
    adv_fail ("the daemon no longer answers: %s", error->message);
  return error == NULL;
}

/* The test's own (root) connection and the legitimate user both watch CGROUP. */
void
adv_watch_both (OwTestEnv *env, AdvProc *user, const char *cgroup, gboolean recursive)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *canonical = NULL;
  g_autofree char *command = g_strdup_printf ("%s %s", recursive ? "rwatch" : "watch", cgroup);

  if (recursive)
    canonical = ow_test_env_watch_recursive (env, cgroup, &error);
  else
    oomwatch_manager_call_watch_sync (env->manager, cgroup, g_variant_new ("a{sv}", NULL),
                                      G_DBUS_CALL_FLAGS_NONE, -1, &canonical, NULL, &error);
  if (error != NULL)
    adv_fail ("root cannot watch %s: %s", cgroup, error->message);
  if (user != NULL)
    adv_call_ok (user, command, ADV_CALL_MS);
}
