/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomctl where no oomwatchd runs: the one message for a missing daemon and for a missing bus,
 * usage errors (exit 2 and the usage line), and `oomctl dump` against a stand-in for
 * systemd-oomd. A private bus of its own (GTestDBus): no root, no cgroups. */
#include "ow-test-oomctl.h"
#include "ow-test-oomd.h"
#include "oomwatch-names.h"

#include <string.h>

static GTestDBus *bus;
static char *bus_env; /* DBUS_SYSTEM_BUS_ADDRESS=… of that bus */

static void
run_on_bus (const char *const *args, OwOomctlRun *run)
{
  const char *setenv[] = { bus_env, NULL };

  ow_oomctl_run (NULL, setenv, args, run);
}

/* Every command that talks to the daemon says the same, and what to do. */
static void
test_no_daemon (void)
{
  const char *commands[][4] = { { "status", NULL },
                                { "list", "--json", NULL },
                                { "watch", "/x", NULL },
                                { "history", NULL },
                                { "metrics", NULL },
                                { "unwatch", "/x", NULL },
                                { "monitor", "-t", "1", NULL } };

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_auto (OwOomctlRun) run = { 0 };

      run_on_bus (commands[i], &run);
      g_assert_cmpint (run.status, ==, 1);
      g_assert_cmpstr (run.err, ==,
                       "oomctl: oomwatchd is not running, and D-Bus cannot start it on demand "
                       "(its activation file org.oomwatch.OomWatch1.service is not installed).\n"
                       "Start it with: systemctl start oomwatchd\n");
      g_assert_cmpstr (run.out, ==, "");
    }
}

static void
test_no_bus (void)
{
  const char *setenv[] = { "DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/bus", NULL };
  const char *commands[][3] = { { "status", NULL }, { "list", NULL }, { "watch", "/x", NULL },
                                { "history", NULL }, { "dump", NULL } };

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_auto (OwOomctlRun) run = { 0 };

      ow_oomctl_run (NULL, setenv, commands[i], &run);
      g_assert_cmpint (run.status, ==, 1);
      g_assert_true (g_str_has_prefix (run.err, "oomctl: Failed to connect to the system bus: "));
      g_assert_cmpuint (strlen (strchr (run.err, '\n')), ==, 1); /* one line */
    }
}

/* Exit 2, what was wrong, then the command's usage line; before any bus is asked. */
static void
test_usage (void)
{
  const struct
  {
    const char *args[6];
    const char *message, *usage;
  } cases[] = {
    { { "watch", "-n", "-1", "/x" }, "--count: -1 is negative", "watch [OPTION…] CGROUP…" },
    { { "watch", "-t", "-5", "/x" }, "--timeout: -5 is negative", "watch [OPTION…] CGROUP…" },
    { { "watch" }, "watch needs at least one CGROUP", "watch [OPTION…] CGROUP…" },
    { { "watch", "--since", "soon", "/x" }, "'soon' is not a time", "watch" },
    { { "status", "--json=bogus" }, "--json: 'bogus' is not one of short, pretty, off", "status" },
    { { "list", "--json=Pretty" }, "is not one of short, pretty, off", "list [OPTION…]" },
    { { "list", "extra" }, "unexpected argument 'extra'", "list [OPTION…]" },
    { { "monitor", "x" }, "monitor takes options only", "monitor" },
    { { "history", "--kind", "bogus" }, "--kind: 'bogus' is not one of oom, oom-kill",
      "history [OPTION…] [CGROUP…]" },
    { { "history", "-n", "-1" }, "--lines: -1 is negative", "history" },
    { { "history", "--until", "later" }, "--until: 'later' is not a time", "history" },
    { { "history", "--since", "later" }, "--since: 'later' is not a time", "history" },
    { { "metrics", "--json" }, "not JSON", "metrics" },
    { { "unwatch" }, "unwatch needs exactly one CGROUP", "unwatch [OPTION…] CGROUP" },
    { { "status", "--bogus" }, "Unknown option --bogus", "status" },
    { { "dump", "extra" }, "unexpected argument 'extra'", "dump" },
  };
  const char *unknown[] = { "frobnicate", NULL };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto (OwOomctlRun) run = { 0 };
      g_autofree char *usage = g_strdup_printf ("\nUsage: oomctl %s", cases[i].usage);

      run_on_bus (cases[i].args, &run);
      g_assert_cmpint (run.status, ==, 2);
      g_assert_true (g_str_has_prefix (run.err, "oomctl: "));
      g_assert_nonnull (strstr (run.err, cases[i].message));
      g_assert_nonnull (strstr (run.err, usage));
      g_assert_cmpstr (run.out, ==, "");
    }
  {
    g_auto (OwOomctlRun) run = { 0 };

    run_on_bus (unknown, &run);
    g_assert_cmpint (run.status, ==, 2);
    g_assert_nonnull (strstr (run.err, "unknown command 'frobnicate'"));
    g_assert_nonnull (strstr (run.err, "Usage: oomctl COMMAND"));
  }
}

typedef struct
{
  gboolean done;
  OwOomctlRun *run;
  GSubprocess *process;
} Waiting;

static void
on_finished (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Waiting *waiting = user_data;
  g_autoptr (GError) error = NULL;

  g_subprocess_communicate_utf8_finish (waiting->process, result, &waiting->run->out,
                                        &waiting->run->err, &error);
  g_assert_no_error (error);
  waiting->run->status = g_subprocess_get_exit_status (waiting->process);
  waiting->done = TRUE;
}

/* While this process serves the bus: the call of PROGRAM (NULL: our oomctl) comes to us. */
static void
run_served (const char *program, const char *const *args, OwOomctlRun *run)
{
  const char *setenv[] = { bus_env, "PAGER=cat", "SYSTEMD_LOG_COLOR=0", NULL };
  g_autoptr (GSubprocess) process
      = ow_oomctl_start_program (program != NULL ? program : g_getenv ("OOMCTL"), NULL, setenv,
                                 args);
  Waiting waiting = { FALSE, run, process };

  g_subprocess_communicate_utf8_async (process, NULL, NULL, on_finished, &waiting);
  while (!waiting.done)
    g_main_context_iteration (NULL, TRUE);
  g_test_message ("exit %d, stderr:\n%s", run->status, run->err);
}

/* What systemd's oomctl does: DumpByFileDescriptor on org.freedesktop.oom1, the file's bytes
 * to stdout; with no command, or only --no-pager, too. Longer than one read. */
static void
test_dump (void)
{
  g_autoptr (GString) text = g_string_new ("Dry Run: no\nSwap Monitored CGroups:\n");
  g_autoptr (GDBusConnection) oomd = NULL;
  g_autoptr (GError) error = NULL;
  const char *args[][3] = { { "dump", NULL }, { NULL }, { "--no-pager", NULL },
                            { "dump", "--no-pager", NULL } };
  guint id, owner;

  for (int i = 0; i < 2000; i++)
    g_string_append_printf (text, "\tPath: /system.slice/unit-%d.service\n", i);
  oomd = g_dbus_connection_new_for_address_sync (
      g_test_dbus_get_bus_address (bus),
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);
  id = ow_test_oomd_serve_dump (oomd, text->str);
  owner = g_bus_own_name_on_connection (oomd, OOMWATCH_OOMD_BUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
                                        NULL, NULL, NULL, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (args); i++)
    {
      g_auto (OwOomctlRun) run = { 0 };

      run_served (NULL, args[i], &run);
      g_assert_cmpint (run.status, ==, 0);
      g_assert_cmpuint (strlen (run.out), ==, text->len);
      g_assert_cmpstr (run.out, ==, text->str);
      g_assert_cmpstr (run.err, ==, "");
    }
  g_bus_unown_name (owner);
  g_dbus_connection_unregister_object (oomd, id);
}

/* systemd's own oomctl: $SYSTEMD_OOMCTL, or /usr/bin/oomctl when that is systemd's (its
 * --version starts with "systemd "), else NULL. */
static const char *
systemd_oomctl (void)
{
  const char *path = g_getenv ("SYSTEMD_OOMCTL") ?: "/usr/bin/oomctl";
  const char *argv[] = { path, "--version", NULL };
  g_autofree char *out = NULL;
  int status = -1;

  if (!g_file_test (path, G_FILE_TEST_IS_EXECUTABLE)
      || !g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                        NULL, &status, NULL)
      || status != 0 || !g_str_has_prefix (out, "systemd "))
    return NULL;
  return path;
}

/* Where systemd's own oomctl is at hand (SYSTEMD_OOMCTL, e.g. from the systemd-oomd package):
 * both print the same bytes, and the same words when systemd-oomd is absent. */
static void
test_dump_as_systemd (void)
{
  const char *systemd = systemd_oomctl ();
  const char *text = "Dry Run: no\nSwap Monitored CGroups:\n\tPath: /\n\xc3\xa9\ttab\n";
  const char *args[][2] = { { "dump", NULL }, { NULL } };
  g_autoptr (GDBusConnection) oomd = NULL;
  g_autoptr (GError) error = NULL;
  guint id, owner;

  if (systemd == NULL)
    {
      g_test_skip ("no systemd oomctl to compare with (SYSTEMD_OOMCTL, or /usr/bin/oomctl)");
      return;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (args); i++)
    {
      g_auto (OwOomctlRun) ours = { 0 };
      g_auto (OwOomctlRun) theirs = { 0 };

      run_served (NULL, args[i], &ours);
      run_served (systemd, args[i], &theirs);
      g_assert_cmpint (ours.status, ==, theirs.status);
      g_assert_cmpstr (ours.err, ==, theirs.err);
    }
  oomd = g_dbus_connection_new_for_address_sync (
      g_test_dbus_get_bus_address (bus),
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);
  id = ow_test_oomd_serve_dump (oomd, text);
  owner = g_bus_own_name_on_connection (oomd, OOMWATCH_OOMD_BUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
                                        NULL, NULL, NULL, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (args); i++)
    {
      g_auto (OwOomctlRun) ours = { 0 };
      g_auto (OwOomctlRun) theirs = { 0 };

      run_served (NULL, args[i], &ours);
      run_served (systemd, args[i], &theirs);
      g_assert_cmpint (theirs.status, ==, 0);
      g_assert_cmpstr (theirs.out, ==, text);
      g_assert_cmpint (ours.status, ==, theirs.status);
      g_assert_cmpstr (ours.out, ==, theirs.out);
      g_assert_cmpstr (ours.err, ==, theirs.err);
    }
  g_bus_unown_name (owner);
  g_dbus_connection_unregister_object (oomd, id);
}

/* No systemd-oomd: systemd's words, exit 1. */
static void
test_dump_absent (void)
{
  const char *args[] = { "dump", NULL };
  g_auto (OwOomctlRun) run = { 0 };

  run_on_bus (args, &run);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_true (g_str_has_prefix (run.err, "Failed to dump context: "));
  g_assert_nonnull (strstr (run.err, OOMWATCH_OOMD_BUS_NAME));
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("OOMCTL") == NULL)
    return 77;
  bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (bus);
  bus_env = g_strdup_printf ("DBUS_SYSTEM_BUS_ADDRESS=%s", g_test_dbus_get_bus_address (bus));
  g_test_add_func ("/oomctl-cli/no-daemon", test_no_daemon);
  g_test_add_func ("/oomctl-cli/no-bus", test_no_bus);
  g_test_add_func ("/oomctl-cli/usage", test_usage);
  g_test_add_func ("/oomctl-cli/dump", test_dump);
  g_test_add_func ("/oomctl-cli/dump-absent", test_dump_absent);
  g_test_add_func ("/oomctl-cli/dump-as-systemd", test_dump_as_systemd);
  status = g_test_run ();
  g_test_dbus_down (bus);
  g_object_unref (bus);
  g_free (bus_env);
  return status;
}
