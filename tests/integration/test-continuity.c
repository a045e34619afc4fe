/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Continuity against the real daemon: a SIGKILLed daemon that comes back reports what
 * happened meanwhile, once; clients catch up by seq; the metrics reach a real node exporter. */
#include "ow-test-env.h"
#include "ow-test-continuity.h"
#include "ow-test-wait.h"
#include "oomwatch-names.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#define WAIT_MS 20000

static void
assert_hog_killed (OwTestEnv *env, const char *name)
{
  g_autoptr (GSubprocess) hog = ow_test_env_hog (env, name, 256);

  ow_test_env_wait_process (hog);
  g_assert_true (g_subprocess_get_if_signaled (hog));
  g_assert_cmpint (g_subprocess_get_term_sig (hog), ==, SIGKILL);
}

static guint64
field_u64 (const char *line, const char *key)
{
  g_autofree char *value = ow_test_json_field (line, key);

  return value != NULL ? g_ascii_strtoull (value, NULL, 10) : 0;
}

static gboolean
is_kill (const char *line)
{
  return strstr (line, "\"kind\":\"oom-kill\"") != NULL;
}

static gboolean
is_while_down (const char *line)
{
  return strstr (line, "\"while-down\":true") != NULL;
}

/* Every line once, in increasing seq; returns the oom-kill count after AFTER and, through the
 * pointers, how many while-down lines there were and their count. */
static guint64
check_lines (OwTestReader *reader, guint64 after, guint *n_while_down, guint64 *while_down_count)
{
  guint64 last = 0, kills = 0;

  *n_while_down = 0;
  *while_down_count = 0;
  for (guint i = 0; i < reader->lines->len; i++)
    {
      const char *line = g_ptr_array_index (reader->lines, i);
      guint64 seq = field_u64 (line, "seq");

      g_assert_cmpuint (seq, >, last); /* no duplicate, no disorder */
      last = seq;
      if (seq <= after || !is_kill (line))
        continue;
      kills += field_u64 (line, "count");
      if (is_while_down (line))
        {
          (*n_while_down)++;
          *while_down_count += field_u64 (line, "count");
        }
    }
  return kills;
}

static guint64
reader_kills (OwTestReader *reader)
{
  guint n;
  guint64 count;

  return check_lines (reader, 0, &n, &count);
}

static void
wait_kills (OwTestReader *reader, guint64 kills)
{
  gint64 until = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;

  while (reader_kills (reader) < kills && g_get_monotonic_time () < until)
    ow_test_reader_wait_lines (reader, reader->lines->len + 1, 100);
  g_assert_cmpuint (reader_kills (reader), ==, kills);
}

static guint
watchers_of (OwTestEnv *env, const char *cgroup)
{
  g_autoptr (GVariant) watch = ow_test_env_find_watch (env, cgroup);
  guint32 watchers = 0;

  if (watch != NULL)
    g_variant_lookup (watch, "watchers", "u", &watchers);
  return watchers;
}

static void
wait_watchers (OwTestEnv *env, const char *cgroup, guint n)
{
  gint64 until = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;

  while (watchers_of (env, cgroup) < n && g_get_monotonic_time () < until)
    ow_test_env_iterate (20);
  g_assert_cmpuint (watchers_of (env, cgroup), ==, n);
}

/* oomctl ARGS, as root or (AS_NOBODY) as nobody. */
static OwTestReader *
start_oomctl_as (gboolean as_nobody, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);

  if (as_nobody)
    g_subprocess_launcher_set_child_setup (launcher, ow_test_env_drop_to_nobody, NULL, NULL);
  g_ptr_array_add (argv, (gpointer)g_getenv ("OOMCTL"));
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer)args[i]);
  g_ptr_array_add (argv, NULL);
  return ow_test_reader_new ((const char *const *)argv->pdata, launcher);
}

static OwTestReader *
start_oomctl (const char *const *args)
{
  return start_oomctl_as (FALSE, args);
}

/* What the daemon's History() holds after AFTER for CGROUP: oom-kill count and while-down. */
static guint64
history_kills (OwTestEnv *env, const char *cgroup, guint64 after, guint *n_while_down,
               guint64 *while_down_count, guint64 *min_seq)
{
  g_autoptr (GVariant) events = NULL;
  g_autoptr (GVariant) info = NULL;
  g_autoptr (GError) error = NULL;
  guint64 kills = 0, last = 0;

  oomwatch_manager_call_history_sync (env->manager, after, g_variant_new ("a{sv}", NULL),
                                      G_DBUS_CALL_FLAGS_NONE, -1, &events, &info, NULL, &error);
  g_assert_no_error (error);
  *n_while_down = 0;
  *while_down_count = 0;
  *min_seq = G_MAXUINT64;
  for (gsize i = 0; i < g_variant_n_children (events); i++)
    {
      g_autoptr (GVariant) entry = g_variant_get_child_value (events, i);
      g_autoptr (GVariant) details = NULL;
      const char *entry_cgroup = NULL, *kind = NULL;
      gboolean while_down = FALSE;
      guint64 seq = 0, count = 0;

      g_assert_true (g_variant_lookup (entry, "seq", "t", &seq));
      g_assert_cmpuint (seq, >, last);
      last = seq;
      *min_seq = MIN (*min_seq, seq);
      g_variant_lookup (entry, "cgroup", "&s", &entry_cgroup);
      g_variant_lookup (entry, "kind", "&s", &kind);
      if (g_strcmp0 (entry_cgroup, cgroup) != 0 || g_strcmp0 (kind, "oom-kill") != 0)
        continue;
      g_assert_true (g_variant_lookup (entry, "count", "t", &count));
      g_assert_true (g_variant_lookup (entry, "details", "@a{sv}", &details));
      kills += count;
      if (g_variant_lookup (details, "while-down", "b", &while_down) && while_down)
        {
          (*n_while_down)++;
          *while_down_count += count;
        }
    }
  return kills;
}

/* Waits until the daemon's History() holds KILLS oom-kills of CGROUP: it has finished with
 * them (the signal goes first; the saved counters and the history follow it). */
static void
wait_history_kills (OwTestEnv *env, const char *cgroup, guint64 kills)
{
  gint64 until = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  guint n_while_down;
  guint64 while_down_count, min_seq;

  while (history_kills (env, cgroup, 0, &n_while_down, &while_down_count, &min_seq) < kills
         && g_get_monotonic_time () < until)
    ow_test_env_iterate (20);
  g_assert_cmpuint (history_kills (env, cgroup, 0, &n_while_down, &while_down_count, &min_seq), ==,
                    kills);
}

/* History() right after an OomEvent has it: the daemon writes a signal's counters and history
 * entry a moment after the signal (ow-after-send.h), and at once when History() is asked.
 * Waits for the signal without a fixed poll interval, so the call comes well within that
 * moment. */
static guint
history_count (OwTestEnv *env, const char *cgroup, const char *kind)
{
  g_autoptr (GVariant) events = NULL;
  g_autoptr (GVariant) info = NULL;
  g_autoptr (GError) error = NULL;
  guint n = 0;

  oomwatch_manager_call_history_sync (env->manager, 0, g_variant_new ("a{sv}", NULL),
                                      G_DBUS_CALL_FLAGS_NONE, -1, &events, &info, NULL, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < g_variant_n_children (events); i++)
    {
      g_autoptr (GVariant) entry = g_variant_get_child_value (events, i);
      const char *entry_cgroup = NULL, *entry_kind = NULL;

      g_variant_lookup (entry, "cgroup", "&s", &entry_cgroup);
      g_variant_lookup (entry, "kind", "&s", &entry_kind);
      n += g_strcmp0 (entry_cgroup, cgroup) == 0 && g_strcmp0 (entry_kind, kind) == 0;
    }
  return n;
}

static gboolean
on_deadline (gpointer user_data)
{
  *(gboolean *)user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_history_at_once (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "at-once", "32M", FALSE);
  g_autoptr (GSubprocess) hog = NULL;
  gboolean late = FALSE;
  guint deadline;

  g_free (ow_test_env_watch (env, NULL, cgroup));
  g_assert_cmpuint (history_count (env, cgroup, "oom"), ==, 0);
  hog = ow_test_env_hog (env, "at-once", 64);
  deadline = g_timeout_add (ow_test_timeout_ms (WAIT_MS), on_deadline, &late);
  while (ow_test_env_n_signals (env, cgroup, "oom") == 0 && !late)
    g_main_context_iteration (NULL, TRUE); /* returns as the signal is dispatched */
  g_assert_false (late);
  g_source_remove (deadline);
  g_assert_cmpuint (history_count (env, cgroup, "oom"), ==,
                    ow_test_env_n_signals (env, cgroup, "oom"));
  ow_test_env_wait_process (hog);
  ow_test_env_free (env);
}

/* A daemon SIGKILLed and restarted tells the kills it missed, once, with exact counts. */
static void
test_restart (void)
{
  /* Under the unit, systemd restarts the daemon before the kills meant for while it is down:
   * tests/guests/systemd/guest/unit.sh kills that one instead. */
  OwTestEnv *env = ow_test_env_new_own ("it keeps the daemon down while cgroups OOM");
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "down", "32M", FALSE);
  const char *watch_a[] = { "watch", "--json", cgroup, NULL };
  g_autoptr (OwTestReader) a = NULL;
  g_autoptr (OwTestReader) b = NULL;
  g_autoptr (OwTestReader) history = NULL;
  g_autofree char *since = NULL;
  guint64 seq_before = 0, before, kills, while_down_count, min_seq;
  guint n_while_down;

  g_free (ow_test_env_watch (env, NULL, cgroup));
  a = start_oomctl (watch_a);
  wait_watchers (env, cgroup, 2);
  assert_hog_killed (env, "down");
  wait_kills (a, 1);
  for (guint i = 0; i < a->lines->len; i++)
    seq_before = MAX (seq_before, field_u64 (g_ptr_array_index (a->lines, i), "seq"));
  g_assert_cmpuint (seq_before, >, 0);
  /* Recorded before the SIGKILL: one killed before that is /continuity/told-again. */
  wait_history_kills (env, cgroup, 1);

  /* Down: 5 kills the kernel counts and nobody reports. */
  ow_test_continuity_kill_daemon (env);
  before = ow_test_env_oom_control (env, "down", "oom_kill");
  for (guint i = 0; i < 5; i++)
    assert_hog_killed (env, "down");
  g_assert_cmpuint (ow_test_env_oom_control (env, "down", "oom_kill"), ==, before + 5);

  /* Back: oomctl watch A watches again by itself (and so gets the report); the test's
   * connection does it by hand. */
  ow_test_continuity_start_daemon (env);
  wait_kills (a, 6);
  g_free (ow_test_env_watch (env, NULL, cgroup));
  /* Client B was away too: it starts now and asks for what came after what it saw. */
  since = g_strdup_printf ("%" G_GUINT64_FORMAT, seq_before);
  {
    const char *watch_b[] = { "watch", "--json", "--since", since, cgroup, NULL };

    b = start_oomctl (watch_b);
  }
  wait_kills (b, 5);
  wait_watchers (env, cgroup, 3);

  /* And one more, live, for everyone. */
  assert_hog_killed (env, "down");
  wait_kills (a, 7);
  wait_kills (b, 6);
  ow_test_env_iterate (300); /* a duplicate would come now */

  /* The daemon told exactly 5, once, marked; then the live one; seq went on. */
  kills = history_kills (env, cgroup, seq_before, &n_while_down, &while_down_count, &min_seq);
  g_assert_cmpuint (kills, ==, 6);
  g_assert_cmpuint (n_while_down, ==, 1);
  g_assert_cmpuint (while_down_count, ==, 5);
  g_assert_cmpuint (min_seq, >, seq_before);
  /* A saw everything once; B exactly what it missed and what came after. */
  g_assert_cmpuint (check_lines (a, seq_before, &n_while_down, &while_down_count), ==, 6);
  g_assert_cmpuint (n_while_down, ==, 1);
  g_assert_cmpuint (while_down_count, ==, 5);
  g_assert_cmpuint (check_lines (b, 0, &n_while_down, &while_down_count), ==, 6);
  g_assert_cmpuint (n_while_down, ==, 1);
  g_assert_cmpuint (while_down_count, ==, 5);
  g_assert_cmpuint (field_u64 (g_ptr_array_index (b->lines, 0), "seq"), >, seq_before);
  /* oomctl history shows the same. */
  {
    const char *args[] = { "history", "--json", "--since", since, NULL };

    history = start_oomctl (args);
    ow_test_reader_wait_lines (history, G_MAXUINT, WAIT_MS);
    g_assert_cmpuint (check_lines (history, 0, &n_while_down, &while_down_count), ==, 6);
    g_assert_cmpuint (n_while_down, ==, 1);
  }
  /* The history itself survived the SIGKILL: the kill before it is there too. */
  {
    const char *args[] = { "history", "--json", NULL };

    g_clear_pointer (&history, ow_test_reader_free);
    history = start_oomctl (args);
    ow_test_reader_wait_lines (history, G_MAXUINT, WAIT_MS);
    g_assert_cmpuint (check_lines (history, 0, &n_while_down, &while_down_count), ==, 7);
    g_assert_cmpuint (field_u64 (g_ptr_array_index (history->lines, 0), "seq"), ==, 1);
  }
  for (guint i = 0; i < b->lines->len; i++)
    g_test_message ("B: %s", (const char *)g_ptr_array_index (b->lines, i));
  g_clear_pointer (&a, ow_test_reader_free);
  g_clear_pointer (&b, ow_test_reader_free);
  g_clear_pointer (&history, ow_test_reader_free);
  ow_test_env_free (env);
}

/* A SIGKILL after a signal and before its record (held back here for a minute): the next run
 * tells it again with the seq it was sent with, so oomctl watch drops it and History() has it
 * once; what the kernel counted meanwhile comes after it with a new seq. */
static void
test_told_again (void)
{
  OwTestEnv *env;
  g_autofree char *cgroup = NULL;
  const char *watch_a[] = { "watch", "--json", NULL, NULL };
  g_autoptr (OwTestReader) a = NULL;
  g_autofree char *log = NULL;
  guint64 sent[2] = { 0 }, kills, while_down_count, min_seq;
  guint n_while_down, n_sent = 0;

  g_setenv ("OOMWATCH_TEST_RECORD_DELAY_MS", "600000", TRUE);
  env = ow_test_env_new_own ("it SIGKILLs the daemon before it records what it sent");
  g_unsetenv ("OOMWATCH_TEST_RECORD_DELAY_MS");
  cgroup = ow_test_env_make_cgroup (env, "again", "32M", FALSE);
  watch_a[2] = cgroup;
  g_free (ow_test_env_watch (env, NULL, cgroup));
  a = start_oomctl (watch_a);
  wait_watchers (env, cgroup, 2);
  assert_hog_killed (env, "again");
  wait_kills (a, 1); /* two signals, not one of count 2 */
  assert_hog_killed (env, "again");
  wait_kills (a, 2);
  for (guint i = 0; i < a->lines->len; i++)
    if (is_kill (g_ptr_array_index (a->lines, i)) && n_sent < 2)
      sent[n_sent++] = field_u64 (g_ptr_array_index (a->lines, i), "seq");
  g_assert_cmpuint (n_sent, ==, 2);

  /* Killed with both records held back; one more kill while it is down. */
  ow_test_continuity_kill_daemon (env);
  assert_hog_killed (env, "again");
  ow_test_continuity_start_daemon (env);
  /* oomctl watches again by itself before anyone else: the two told again reach it live. */
  wait_watchers (env, cgroup, 1);
  g_free (ow_test_env_watch (env, NULL, cgroup));
  wait_history_kills (env, cgroup, 3);
  /* The two told again come before the one counted while down: a repeat printed would be
   * counted here already. */
  wait_kills (a, 3);
  g_assert_cmpuint (check_lines (a, sent[1], &n_while_down, &while_down_count), ==, 1);
  g_assert_cmpuint (n_while_down, ==, 1);

  /* History(): the two told again with their seqs, then the one counted while down. */
  kills = history_kills (env, cgroup, 0, &n_while_down, &while_down_count, &min_seq);
  g_assert_cmpuint (kills, ==, 3);
  g_assert_cmpuint (n_while_down, ==, 3);
  g_assert_cmpuint (history_kills (env, cgroup, sent[0] - 1, &n_while_down, &while_down_count,
                                   &min_seq), ==, 3);
  g_assert_cmpuint (history_kills (env, cgroup, sent[0], &n_while_down, &while_down_count,
                                   &min_seq), ==, 2);
  g_assert_cmpuint (history_kills (env, cgroup, sent[1], &n_while_down, &while_down_count,
                                   &min_seq), ==, 1);
  g_assert_cmpuint (min_seq, >, sent[1]);
  g_assert_true (g_file_get_contents (env->daemon_log, &log, NULL, NULL));
  g_assert_nonnull (strstr (log, "told again"));
  g_clear_pointer (&a, ow_test_reader_free);
  ow_test_env_free (env);
}

/* A daemon that dies in the middle of a Watch(): it owns the name, and leaves the bus
 * without an answer to the first Watch() it gets. */
typedef struct
{
  GDBusConnection *connection;
  GDBusMethodInvocation *call; /* never answered */
} DyingDaemon;

static void
on_dying_call (GDBusConnection *connection, const char *sender, const char *path,
               const char *interface, const char *method, GVariant *parameters,
               GDBusMethodInvocation *invocation, gpointer user_data)
{
  DyingDaemon *dying = user_data;

  if (dying->call == NULL && strcmp (method, "Watch") == 0)
    {
      dying->call = invocation;
      g_dbus_connection_close (connection, NULL, NULL, NULL);
    }
  else
    g_dbus_method_invocation_return_dbus_error (invocation, "org.freedesktop.DBus.Error.Failed",
                                                "a stand-in");
}

static void
dying_daemon_start (OwTestEnv *env, DyingDaemon *dying)
{
  static const GDBusInterfaceVTable vtable = { .method_call = on_dying_call };
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  guint32 result = 0;

  dying->connection = ow_test_env_connect (env);
  g_dbus_connection_register_object (dying->connection, OOMWATCH_OBJECT_PATH,
                                     oomwatch_manager_interface_info (), &vtable, dying, NULL,
                                     &error);
  g_assert_no_error (error);
  reply = g_dbus_connection_call_sync (
      dying->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "RequestName", g_variant_new ("(su)", OOMWATCH_BUS_NAME, 0), G_VARIANT_TYPE ("(u)"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &result);
  g_assert_cmpuint (result, ==, 1); /* DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER */
}

static gboolean
dying_daemon_gone (gpointer user_data)
{
  DyingDaemon *dying = user_data;

  return dying->call != NULL && g_dbus_connection_is_closed (dying->connection);
}

/* oomctl watch waits for oomwatchd again when the one that came back dies before it has
 * answered the watch made again, and goes on with the next. */
static void
test_back_and_gone (void)
{
  OwTestEnv *env = ow_test_env_new_own ("it kills the daemon and stands in for one that dies");
  g_autofree char *cgroup = ow_test_env_make_cgroup (env, "gone", "32M", FALSE);
  const char *watch_a[] = { "watch", "--json", NULL, NULL };
  g_autoptr (OwTestReader) a = NULL;
  DyingDaemon dying = { 0 };

  watch_a[2] = cgroup;
  a = start_oomctl (watch_a);
  wait_watchers (env, cgroup, 1);
  ow_test_continuity_kill_daemon (env);
  dying_daemon_start (env, &dying);
  g_assert_true (ow_test_wait_until (dying_daemon_gone, &dying, WAIT_MS));
  ow_test_continuity_start_daemon (env);
  wait_watchers (env, cgroup, 1);
  assert_hog_killed (env, "gone");
  wait_kills (a, 1);
  g_assert_false (a->eof); /* still listening */
  g_clear_object (&dying.call);
  g_clear_object (&dying.connection);
  g_clear_pointer (&a, ow_test_reader_free);
  ow_test_env_free (env);
}

static guint
lines_with (OwTestReader *reader, const char *needle)
{
  guint n = 0;

  for (guint i = 0; i < reader->lines->len; i++)
    n += strstr (g_ptr_array_index (reader->lines, i), needle) != NULL;
  return n;
}

/* Only the lines that name BASE: a daemon shared with earlier cases (the system's) keeps
 * theirs in its history too. */
static void
keep_lines_of (OwTestReader *reader, const char *base)
{
  for (guint i = reader->lines->len; i-- > 0;)
    if (strstr (g_ptr_array_index (reader->lines, i), base) == NULL)
      g_ptr_array_remove_index (reader->lines, i);
}

/* Unknown or mistyped options are refused by name; OpenMetrics ends with # EOF. */
static void
check_method_errors (OwTestEnv *env)
{
  g_auto (GVariantDict) bad = G_VARIANT_DICT_INIT (NULL);
  g_auto (GVariantDict) mistyped = G_VARIANT_DICT_INIT (NULL);
  g_auto (GVariantDict) open = G_VARIANT_DICT_INIT (NULL);
  g_autoptr (GVariant) events = NULL;
  g_autoptr (GVariant) info = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  const char *epoch = NULL;
  guint64 last = 0;

  g_variant_dict_insert (&bad, "colour", "s", "red");
  g_assert_false (oomwatch_manager_call_history_sync (env->manager, 0, g_variant_dict_end (&bad),
                                                      G_DBUS_CALL_FLAGS_NONE, -1, &events, &info,
                                                      NULL, &error));
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (error->message, "colour"));
  g_clear_error (&error);
  g_variant_dict_insert (&mistyped, "format", "u", 1);
  g_assert_false (oomwatch_manager_call_metrics_sync (env->manager, g_variant_dict_end (&mistyped),
                                                      G_DBUS_CALL_FLAGS_NONE, -1, &text, NULL,
                                                      &error));
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_variant_dict_insert (&open, "format", "s", "openmetrics");
  g_assert_true (oomwatch_manager_call_metrics_sync (
      env->manager, g_variant_dict_end (&open), G_DBUS_CALL_FLAGS_NONE, -1, &text, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (text, "# EOF\n"));
  g_assert_nonnull (strstr (text, "# TYPE oomwatch_oom_kills counter\n"));
  /* Where numbering stands, and in which epoch. */
  g_assert_true (oomwatch_manager_call_history_sync (
      env->manager, G_MAXUINT64, g_variant_new ("a{sv}", NULL), G_DBUS_CALL_FLAGS_NONE, -1, &events,
      &info, NULL, &error));
  g_assert_cmpuint (g_variant_n_children (events), ==, 0);
  g_assert_true (g_variant_lookup (info, "last-seq", "t", &last));
  g_assert_cmpuint (last, >, 0);
  g_assert_true (g_variant_lookup (info, "epoch", "&s", &epoch));
  g_assert_cmpuint (strlen (epoch), ==, 36);
}

/* History() under the signals' rules: a user sees the cgroups it watched, without the
 * identity of other users' victims; root sees all. */
static void
test_history_privacy (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *mine = ow_test_env_make_cgroup (env, "mine", "32M", FALSE);
  g_autofree char *theirs = ow_test_env_make_cgroup (env, "theirs", "32M", FALSE);
  g_autofree char *mine_field = g_strdup_printf ("\"cgroup\":\"%s\"", mine);
  g_autofree char *theirs_field = g_strdup_printf ("\"cgroup\":\"%s\"", theirs);
  const char *watch[] = { "watch", "--json", mine, NULL };
  const char *history[] = { "history", "--json", NULL };
  g_autoptr (OwTestReader) user_watch = start_oomctl_as (TRUE, watch);
  g_autoptr (OwTestReader) user_history = NULL;
  g_autoptr (OwTestReader) root_history = NULL;

  g_free (ow_test_env_watch (env, NULL, theirs));
  wait_watchers (env, mine, 1);
  assert_hog_killed (env, "mine");
  assert_hog_killed (env, "theirs");
  wait_kills (user_watch, 1);
  g_assert_true (ow_test_env_wait_signal (env, theirs, "oom-kill", WAIT_MS));

  user_history = start_oomctl_as (TRUE, history);
  ow_test_reader_wait_lines (user_history, G_MAXUINT, WAIT_MS);
  keep_lines_of (user_history, env->cgroup_base);
  g_assert_cmpuint (reader_kills (user_history), ==, 1);
  g_assert_cmpuint (lines_with (user_history, mine_field), ==, user_history->lines->len);
  g_assert_cmpuint (lines_with (user_history, theirs_field), ==, 0);
  g_assert_cmpuint (lines_with (user_history, "\"pid\":"), ==, 0); /* root's hog */
  g_assert_cmpuint (lines_with (user_history, "\"seq\":"), ==, user_history->lines->len);

  root_history = start_oomctl (history);
  ow_test_reader_wait_lines (root_history, G_MAXUINT, WAIT_MS);
  keep_lines_of (root_history, env->cgroup_base);
  g_assert_cmpuint (reader_kills (root_history), ==, 2);
  g_assert_cmpuint (lines_with (root_history, theirs_field), >, 0);
  /* Victims are named when the kernel log (rate-limited) named them: never more than the kills. */
  g_assert_cmpuint (lines_with (root_history, "\"pid\":"), <=, 2);

  g_clear_pointer (&user_watch, ow_test_reader_free);
  g_clear_pointer (&user_history, ow_test_reader_free);
  g_clear_pointer (&root_history, ow_test_reader_free);
  check_method_errors (env);
  ow_test_env_free (env);
}

#define STORM_KILLS 1000
#define STORM_PARALLEL 4

/* The metric's value for CGROUP in TEXT, or -1. */
static gint64
kills_metric (const char *text, const char *cgroup)
{
  g_autofree char *prefix = g_strdup_printf ("oomwatch_oom_kills_total{cgroup=\"%s\",", cgroup);
  const char *at = text != NULL ? strstr (text, prefix) : NULL;

  if (at == NULL)
    return -1;
  at = strstr (at, "} ");
  return at != NULL ? (gint64)g_ascii_strtoull (at + 2, NULL, 10) : -1;
}

/* The oomwatch lines of a scrape: node_exporter's own metrics are not ours to lint. */
static char *
our_lines (const char *scrape)
{
  g_auto (GStrv) lines = g_strsplit (scrape, "\n", -1);
  GString *out = g_string_new (NULL);

  for (gsize i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], "oomwatch_") != NULL)
      g_string_append_printf (out, "%s\n", lines[i]);
  return g_string_free (out, FALSE);
}

/* 1,000 real kills; the node exporter's scrape of the textfile says exactly 1000. */
static void
test_storm (void)
{
  g_autofree char *node_exporter = g_find_program_in_path ("prometheus-node-exporter");
  g_autofree char *promtool = g_find_program_in_path ("promtool");
  g_autofree char *textdir = NULL;
  g_autofree char *config = NULL;
  g_autofree char *prom = NULL;
  g_autofree char *cgroup = NULL;
  g_autofree char *scrape = NULL;
  g_autofree char *file_text = NULL;
  g_autofree char *ours = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *dir_arg = NULL;
  g_autoptr (GSubprocess) exporter = NULL;
  g_autoptr (GError) error = NULL;
  OwTestDaemonOptions options = { 0 };
  OwTestEnv *env;
  guint64 before;
  gint64 until, value = -1;
  guint16 port;

  if (node_exporter == NULL || promtool == NULL)
    {
      g_test_skip ("needs prometheus-node-exporter and promtool (tools/install-deps)");
      return;
    }
  textdir = g_dir_make_tmp ("oomwatch-textfile-XXXXXX", &error);
  g_assert_no_error (error);
  prom = g_build_filename (textdir, "oomwatch.prom", NULL);
  config = g_strdup_printf ("[Daemon]\nMetricsFile=%s\n", prom);
  options.config = config;
  options.own = "its metrics file is in a temporary directory (the unit's is checked by unit.sh)";
  env = ow_test_env_new_full (&options);
  cgroup = ow_test_env_make_cgroup (env, "storm", "8M", FALSE);
  g_free (ow_test_env_watch (env, NULL, cgroup));
  before = ow_test_env_oom_control (env, "storm", "oom_kill");

  /* A few hogs at a time, each killed once: STORM_KILLS kills in all. */
  ow_test_env_storm (env, "storm", STORM_KILLS, 64, STORM_PARALLEL);
  g_assert_cmpuint (ow_test_env_oom_control (env, "storm", "oom_kill"), ==, before + STORM_KILLS);

  /* The real collector, scraped over loopback. */
  port = ow_test_free_port ();
  listen = g_strdup_printf ("--web.listen-address=127.0.0.1:%u", port);
  dir_arg = g_strdup_printf ("--collector.textfile.directory=%s", textdir);
  {
    const char *argv[]
        = { node_exporter, "--collector.disable-defaults", "--collector.textfile", dir_arg, listen,
            NULL };

    exporter = ow_test_spawn_tied (argv, G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  }
  until = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;
  while (value != STORM_KILLS && g_get_monotonic_time () < until)
    {
      g_free (scrape);
      ow_test_env_iterate (50);
      scrape = ow_test_http_get (port, "/metrics");
      value = kills_metric (scrape, cgroup);
    }
  g_test_message ("scrape: %s", scrape);
  g_assert_cmpint (value, ==, STORM_KILLS);
  g_assert_cmpuint (ow_test_env_sum (env, cgroup, "oom-kill"), ==, STORM_KILLS);
  g_assert_nonnull (strstr (scrape, "\nnode_textfile_scrape_error 0\n"));
  g_assert_nonnull (strstr (scrape, "oomwatch_watches 1\n"));

  /* promtool lints what we wrote and what the exporter served. */
  g_assert_true (g_file_get_contents (prom, &file_text, NULL, NULL));
  ow_test_promtool_check (file_text);
  ours = our_lines (scrape);
  ow_test_promtool_check (ours);

  g_subprocess_force_exit (exporter);
  ow_test_env_wait_process (exporter);
  ow_test_env_free (env);
  ow_test_remove_tree (textdir);
}

int
main (int argc, char **argv)
{
  int skip = ow_test_env_init (&argc, &argv);

  if (skip != 0)
    return skip;
  g_test_add_func ("/continuity/restart", test_restart);
  g_test_add_func ("/continuity/told-again", test_told_again);
  g_test_add_func ("/continuity/back-and-gone", test_back_and_gone);
  g_test_add_func ("/continuity/storm", test_storm);
  g_test_add_func ("/continuity/history-privacy", test_history_privacy);
  g_test_add_func ("/continuity/history-at-once", test_history_at_once);
  return g_test_run ();
}
