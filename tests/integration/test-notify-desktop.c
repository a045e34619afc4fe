/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomwatch-notify as a desktop app: its German translation, its actions (Show details, Don't
 * warn about APP again, kept in its settings file), its usage errors and its loud exit when
 * nothing can be watched. Kills come from a stand-in systemd-oomd: no memory is used up. */
#include "ow-test-cgroups.h"
#include "ow-test-notify.h"
#include "ow-test-oomd.h"
#include "ow-test-wait.h"
#include "oomwatch-names.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

typedef struct
{
  OwTestEnv *env;
  OwNotifySession session;
  char *top;
  char *share;
  char *config;
  char *opened; /* what the stand-in xdg-open was given, copied */
  GDBusConnection *oomd;
  GSubprocess *notifier;
} Desk;

/* A notifier with its own XDG directories, a stand-in xdg-open, and LANGUAGE. */
static void
desk_start (Desk *desk, const char *language)
{
  g_autofree char *bin = g_build_filename (desk->env->tmpdir, "bin", NULL);
  g_autofree char *xdg_open = g_build_filename (bin, "xdg-open", NULL);
  g_autofree char *script = NULL;
  g_autofree char *path = NULL;
  g_autofree char *run = g_build_filename (desk->env->tmpdir, "run", NULL);
  g_autofree char *state = g_build_filename (desk->env->tmpdir, "state", NULL);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GError) error = NULL;
  const char *argv[] = { g_getenv ("OOMWATCH_NOTIFY"), "--cgroup", desk->top, "--coalesce=0",
                         "--missed-window=0", NULL };

  desk->share = g_build_filename (desk->env->tmpdir, "share", NULL);
  desk->config = g_build_filename (desk->env->tmpdir, "config", NULL);
  desk->opened = g_build_filename (desk->env->tmpdir, "opened.txt", NULL);
  /* Copied whole, then renamed: the test waits for the name. */
  script = g_strdup_printf ("#!/bin/sh\ncp \"$1\" '%s.part' && mv '%s.part' '%s'\n", desk->opened,
                            desk->opened, desk->opened);
  g_assert_cmpint (g_mkdir_with_parents (bin, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (run, 0700), ==, 0);
  g_assert_true (g_file_set_contents (xdg_open, script, -1, NULL));
  g_assert_cmpint (g_chmod (xdg_open, 0755), ==, 0);
  ow_notify_write_desktop_file (desk->share, "org.gnome.TextEditor", "Text Editor");
  ow_notify_session_start (&desk->session);

  path = g_strdup_printf ("%s:%s", bin, g_getenv ("PATH"));
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_setenv (launcher, "PATH", path, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_DIRS", desk->share, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", desk->config, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_RUNTIME_DIR", run, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_STATE_HOME", state, TRUE);
  g_subprocess_launcher_setenv (launcher, "LANG", "C.UTF-8", TRUE);
  g_subprocess_launcher_unsetenv (launcher, "LC_ALL");
  g_subprocess_launcher_unsetenv (launcher, "LC_MESSAGES");
  g_subprocess_launcher_setenv (launcher, "LANGUAGE", language, TRUE);
  desk->notifier = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 1000 && !ow_test_env_watched (desk->env, desk->top); i++)
    ow_test_env_iterate (10);
  g_assert_true (ow_test_env_watched (desk->env, desk->top));
  desk->oomd = ow_test_oomd_connect (desk->env, TRUE);
  ow_test_oomd_wait_following (desk->env, 1);
}

static void
desk_stop (Desk *desk)
{
  g_subprocess_send_signal (desk->notifier, SIGTERM);
  ow_test_env_wait_process (desk->notifier);
  g_assert_cmpint (g_subprocess_get_exit_status (desk->notifier), ==, 0);
  g_clear_object (&desk->notifier);
  g_clear_object (&desk->oomd);
  ow_notify_session_stop (&desk->session);
  ow_notify_remove_desktop_file (desk->share, "org.gnome.TextEditor");
  g_free (desk->top);
  g_free (desk->share);
  g_free (desk->config);
  g_free (desk->opened);
}

/* systemd-oomd kills the scope of APP (an app-id) under the watched cgroup; its notification. */
static OwNotification *
oomd_kills (Desk *desk, GArray **all, const char *app, guint expect)
{
  g_autofree char *scope = g_strdup_printf ("%s/app-gnome-%s-7.scope", desk->top, app);

  ow_test_oomd_emit_killed (desk->oomd, scope, "memory-pressure");
  *all = ow_notify_settled (&desk->session, expect);
  g_assert_cmpuint ((*all)->len, ==, expect);
  return &g_array_index (*all, OwNotification, expect - 1);
}

static void
action (Desk *desk, guint32 id, const char *key)
{
  g_autoptr (GError) error = NULL;
  GVariantBuilder args;
  g_autoptr (GVariant) reply = NULL;

  g_variant_builder_init (&args, G_VARIANT_TYPE ("av"));
  g_variant_builder_add (&args, "v", g_variant_new_uint32 (id));
  g_variant_builder_add (&args, "v", g_variant_new_string (key));
  reply = g_dbus_connection_call_sync (
      desk->session.connection, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
      "org.freedesktop.DBus.Mock", "EmitSignal",
      g_variant_new ("(sssav)", "org.freedesktop.Notifications", "ActionInvoked", "us", &args),
      NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
}

static gboolean
file_exists (gpointer path)
{
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/* The gettext path: LANGUAGE=de (with LANG=C.UTF-8, no generated locale needed) and the build
 * tree's catalogue give German summaries and action labels; the hint names the notifier's
 * installed desktop entry; no category (none of the specification's fits). */
static void
test_german (void)
{
  Desk desk = { ow_test_env_new (NULL) };
  g_autoptr (GArray) all = NULL;
  OwNotification *n;

  desk.top = ow_test_env_make_cgroup (desk.env, "deskde", NULL, FALSE);
  desk_start (&desk, "de");
  n = oomd_kills (&desk, &all, "org.example.Missing", 1);
  g_test_message ("notification: %s / %s (%s)", n->summary, n->body, n->desktop_entry);
  g_assert_cmpstr (n->summary, ==,
                   "app-gnome-org.example.Missing-7.scope wurde von systemd-oomd beendet: "
                   "Speicherdruck");
  g_assert_cmpstr (n->desktop_entry, ==, OOMWATCH_NOTIFY_DESKTOP_ID);
  g_assert_null (n->category);
  g_assert_cmpuint (g_strv_length (n->actions), ==, 4);
  g_assert_cmpstr (n->actions[1], ==, "Details anzeigen");
  g_assert_cmpstr (n->actions[3], ==,
                   "Nicht mehr vor app-gnome-org.example.Missing-7.scope warnen");
  desk_stop (&desk);
  ow_test_env_free (desk.env);
}

/* Show details opens a file naming the cgroup; Don't warn about Text Editor again is kept in
 * the settings file, and the next kill of the editor is not shown, while another app's is. */
static void
test_actions (void)
{
  Desk desk = { ow_test_env_new (NULL) };
  g_autoptr (GArray) first = NULL;
  g_autoptr (GArray) second = NULL;
  g_autofree char *opened = NULL;
  g_autofree char *settings = NULL;
  g_autofree char *conf = NULL;
  OwNotification *n;

  desk.top = ow_test_env_make_cgroup (desk.env, "deskact", NULL, FALSE);
  desk_start (&desk, "C");
  n = oomd_kills (&desk, &first, "org.gnome.TextEditor", 1);
  g_assert_cmpstr (n->summary, ==, "Text Editor was stopped by systemd-oomd: memory pressure");
  g_assert_cmpstr (n->desktop_entry, ==, "org.gnome.TextEditor");
  g_assert_null (strstr (n->body, desk.top)); /* the path is for the details */
  g_assert_cmpstr (n->actions[0], ==, OOMWATCH_NOTIFY_ACTION_DETAILS);
  g_assert_cmpstr (n->actions[2], ==, OOMWATCH_NOTIFY_ACTION_IGNORE);
  g_assert_cmpstr (n->actions[3], ==, "Don’t warn about Text Editor again");

  action (&desk, 1, OOMWATCH_NOTIFY_ACTION_DETAILS);
  g_assert_true (ow_test_wait_until (file_exists, desk.opened, 10000));
  g_assert_true (g_file_get_contents (desk.opened, &opened, NULL, NULL));
  g_test_message ("details:\n%s", opened);
  g_assert_nonnull (strstr (opened, "/app-gnome-org.gnome.TextEditor-7.scope"));
  g_assert_nonnull (strstr (opened, "oomctl history"));

  conf = g_build_filename (desk.config, "oomwatch", "notify.conf", NULL);
  action (&desk, 1, OOMWATCH_NOTIFY_ACTION_IGNORE);
  g_assert_true (ow_test_wait_until (file_exists, conf, 10000));
  g_assert_true (g_file_get_contents (conf, &settings, NULL, NULL));
  g_test_message ("settings:\n%s", settings);
  g_assert_nonnull (strstr (settings, "IgnoredApps=org.gnome.TextEditor;"));

  /* The editor again: nothing; then another app: shown, and it is the only new one. */
  {
    g_autofree char *scope = g_strdup_printf ("%s/app-gnome-org.gnome.TextEditor-8.scope", desk.top);

    ow_test_oomd_emit_killed (desk.oomd, scope, "memory-pressure");
  }
  n = oomd_kills (&desk, &second, "org.example.Other", 2);
  g_assert_cmpstr (n->summary, ==,
                   "app-gnome-org.example.Other-7.scope was stopped by systemd-oomd: memory pressure");
  desk_stop (&desk);
  ow_test_env_free (desk.env);
}

static int
run_notifier (const char *const *argv, char **err)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) notifier
      = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);

  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (notifier, NULL, NULL, NULL, err, &error));
  g_assert_no_error (error);
  g_test_message ("%s: %s", argv[1], *err);
  return g_subprocess_get_exit_status (notifier);
}

/* Bad usage exits 2 with the reason; a cgroup that cannot be watched exits 1, loudly; a second
 * notifier in a session where one runs exits 0 at once. */
static void
test_usage (void)
{
  Desk desk = { ow_test_env_new (NULL) };
  const char *notify = g_getenv ("OOMWATCH_NOTIFY");
  const char *bogus[] = { notify, "--kind", "bogus", NULL };
  const char *extra[] = { notify, "extra", NULL };
  const char *missing[] = { notify, "--cgroup", "/no/such/cgroup", NULL };
  const char *second[] = { notify, "--cgroup", "/", NULL };
  g_autofree char *err1 = NULL, *err2 = NULL, *err3 = NULL, *err4 = NULL;

  desk.top = ow_test_env_make_cgroup (desk.env, "deskuse", NULL, FALSE);
  g_assert_cmpint (run_notifier (bogus, &err1), ==, 2);
  g_assert_nonnull (strstr (err1, "unknown --kind “bogus”"));
  g_assert_cmpint (run_notifier (extra, &err2), ==, 2);
  desk_start (&desk, "C");
  g_assert_cmpint (run_notifier (second, &err4), ==, 0);
  g_assert_nonnull (strstr (err4, "Another oomwatch-notify runs in this session"));
  desk_stop (&desk);
  ow_notify_session_start (&desk.session);
  g_assert_cmpint (run_notifier (missing, &err3), ==, 1);
  g_assert_nonnull (strstr (err3, "nothing to watch"));
  ow_notify_session_stop (&desk.session);
  ow_test_env_free (desk.env);
}

int
main (int argc, char **argv)
{
  int skip = ow_notify_check ();

  if (skip != 0)
    return skip;
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/notify/german", test_german);
  g_test_add_func ("/notify/actions", test_actions);
  g_test_add_func ("/notify/usage", test_usage);
  return g_test_run ();
}
