/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomwatch-notify against a real notification server implementation (python-dbusmock's
 * notification_daemon template) on a private session bus, with real OOMs. */
#include "ow-test-cgroups.h"
#include "ow-test-conditions.h"
#include "ow-test-oomd.h"
#include "ow-test-nogaps.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#define EVENT_TIMEOUT_MS 15000

typedef struct
{
  GSubprocess *bus;
  GSubprocess *mock;
  GDBusConnection *connection;
  char *address;
} Session;

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
static char *
find_dbusmock_python (void)
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
  Session *session = user_data;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      session->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "NameHasOwner", g_variant_new ("(s)", "org.freedesktop.Notifications"),
      G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  gboolean has = FALSE;

  if (reply != NULL)
    g_variant_get (reply, "(b)", &has);
  return has;
}

static void
session_start (Session *session)
{
  const char *bus_argv[] = { "dbus-daemon", "--session", "--nofork", "--print-address=1", NULL };
  g_autofree char *python = find_dbusmock_python ();
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

static void
session_stop (Session *session)
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
typedef struct
{
  guint32 replaces_id;
  char *icon;
  char *summary;
  char *body;
  guint8 urgency;
  char *desktop_entry;
} Notification;

static void
notification_clear (gpointer data)
{
  Notification *n = data;

  g_free (n->icon);
  g_free (n->summary);
  g_free (n->body);
  g_free (n->desktop_entry);
}

/* Argument I of a call the mock recorded (an av) */
static GVariant *
unboxed_arg (GVariant *args, gsize i)
{
  g_autoptr (GVariant) boxed = g_variant_get_child_value (args, i);

  return g_variant_get_variant (boxed);
}

static GArray *
received_notifications (Session *session)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      session->connection, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
      "org.freedesktop.DBus.Mock", "GetMethodCalls", g_variant_new ("(s)", "Notify"), NULL,
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_autoptr (GVariant) calls = NULL;
  GArray *notifications = g_array_new (FALSE, TRUE, sizeof (Notification));
  GVariantIter iter;
  GVariant *args;
  guint64 timestamp;

  g_array_set_clear_func (notifications, notification_clear);
  g_assert_no_error (error);
  calls = g_variant_get_child_value (reply, 0);
  g_variant_iter_init (&iter, calls);
  while (g_variant_iter_next (&iter, "(t@av)", &timestamp, &args))
    {
      Notification n = { 0 };
      g_autoptr (GVariant) replaces = unboxed_arg (args, 1);
      g_autoptr (GVariant) icon = unboxed_arg (args, 2);
      g_autoptr (GVariant) summary = unboxed_arg (args, 3);
      g_autoptr (GVariant) body = unboxed_arg (args, 4);
      g_autoptr (GVariant) hints = unboxed_arg (args, 6);

      n.replaces_id = g_variant_get_uint32 (replaces);
      n.icon = g_variant_dup_string (icon, NULL);
      n.summary = g_variant_dup_string (summary, NULL);
      n.body = g_variant_dup_string (body, NULL);
      g_variant_lookup (hints, "urgency", "y", &n.urgency);
      g_variant_lookup (hints, "desktop-entry", "s", &n.desktop_entry);
      g_array_append_val (notifications, n);
      g_variant_unref (args);
    }
  return notifications;
}

/* How many kills a notification's summary counts. */
static guint
summary_count (const Notification *n)
{
  return g_str_has_prefix (n->summary, "A process")
             ? 1
             : (guint)g_ascii_strtoull (n->summary, NULL, 10);
}

typedef struct
{
  Session *session;
  guint at_least; /* notifications */
  guint counting; /* kills the last one counts, at least */
} NotificationsWait;

static gboolean
has_notifications (gpointer user_data)
{
  NotificationsWait *wait = user_data;
  g_autoptr (GArray) got = received_notifications (wait->session);

  return got->len >= wait->at_least
         && summary_count (&g_array_index (got, Notification, got->len - 1)) >= wait->counting;
}

/* Waits (bounded) until at least AT_LEAST notifications came, the last counting at least
 * COUNTING kills; returns all that came. */
static GArray *
wait_notifications (Session *session, guint at_least, guint counting)
{
  NotificationsWait wait = { session, at_least, counting };

  ow_test_wait_until (has_notifications, &wait, EVENT_TIMEOUT_MS);
  return received_notifications (session);
}

/* The notifier's last-seq in the case's own directory, not root's home: a notifier that does
 * not catch up never learns the daemon's epoch, and a last-seq left there by another daemon
 * would hide every signal of this one. */
static char *
private_state (OwTestEnv *env)
{
  char *state = g_build_filename (env->tmpdir, "state", NULL);

  g_setenv ("XDG_STATE_HOME", state, TRUE);
  return state;
}

static void
test_notify (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *state = private_state (env);
  g_autofree char *top = ow_test_env_make_cgroup (env, "desk", NULL, FALSE);
  g_autofree char *app = ow_test_env_make_cgroup (env, "desk/app", "32M", FALSE);
  Session session = { 0 };
  g_autoptr (GSubprocess) notifier = NULL;
  g_autoptr (GArray) first = NULL;
  g_autoptr (GArray) all = NULL;
  Notification *n;
  guint32 hog_pid;
  gboolean all_named;

  session_start (&session);
  {
    /* The burst must fit in the window also where everything runs slower (ASan, valgrind). */
    g_autofree char *coalesce
        = g_strdup_printf ("--coalesce=%u", ow_test_timeout_ms (30000) / 1000);
    /* No catching up: root's notifier would show every root process killed in the last hour,
     * and a daemon shared with earlier cases (the system's) has theirs. */
    const char *argv[]
        = { g_getenv ("OOMWATCH_NOTIFY"), "--cgroup", top, coalesce, "--missed-window=0", NULL };

    notifier = ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_NONE, argv);
  }
  g_assert_true (ow_test_env_wait_watched (env, app, TRUE));

  /* One kill: one critical notification naming the process and its cgroup. */
  {
    g_autoptr (GSubprocess) hog = ow_test_env_hog (env, "desk/app", 256);

    hog_pid = ow_test_env_pid (hog);
    ow_test_env_wait_process (hog);
  }
  first = wait_notifications (&session, 1, 1);
  all_named = ow_test_kernel_logged_victim (hog_pid);
  /* An unnamed kill (rate-limited) is counted on each cgroup it is signalled on (see below). */
  if (all_named)
    g_assert_cmpuint (first->len, ==, 1);
  n = &g_array_index (first, Notification, 0);
  g_test_message ("notification: %s / %s", n->summary, n->body);
  g_assert_cmpuint (n->replaces_id, ==, 0);
  g_assert_cmpuint (n->urgency, ==, 2);
  /* The name only when the kernel's rate limit let the record naming the victim through. */
  if (all_named)
    g_assert_nonnull (strstr (n->body, "oom-hog"));
  g_assert_nonnull (strstr (n->body, app));
  /* A burst of three more: the same notification, updated in place. */
  for (int i = 0; i < 3; i++)
    {
      g_autoptr (GSubprocess) hog = ow_test_env_hog (env, "desk/app", 256);

      hog_pid = ow_test_env_pid (hog);
      ow_test_env_wait_process (hog);
      all_named = all_named && ow_test_kernel_logged_victim (hog_pid);
    }
  all = wait_notifications (&session, 4, 4);
  for (guint i = 0; i < all->len; i++)
    g_test_message ("notification %u: %s", i, g_array_index (all, Notification, i).summary);
  /* The notifier tells a kill signalled on several cgroups apart by its pid. A kill the
   * kernel's rate limit left unnamed (signalled on /desk/app and again on /desk) it counts
   * twice: a known fault of the notifier, not of what this test checks. */
  if (!all_named)
    {
      g_test_message ("the kernel log did not name every victim (rate-limited): counts not exact");
      g_assert_cmpuint (summary_count (&g_array_index (all, Notification, all->len - 1)), >=, 4);
    }
  else
    {
      /* Each kill is signalled on /desk and on /desk/app, yet counted once: one notification
       * per kill, updated in place, counting 1, 2, 3, 4. A kill counted twice shows. */
      g_assert_cmpuint (all->len, ==, 4);
      for (guint i = 1; i < all->len; i++)
        {
          g_autofree char *count = g_strdup_printf ("%u processes", i + 1);

          g_assert_cmpuint (g_array_index (all, Notification, i).replaces_id, !=, 0);
          g_assert_nonnull (strstr (g_array_index (all, Notification, i).summary, count));
        }
      n = &g_array_index (all, Notification, all->len - 1);
      g_test_message ("last update: %s / %s", n->summary, n->body);
      g_assert_nonnull (strstr (n->summary, "4 processes"));
    }

  g_subprocess_send_signal (notifier, SIGTERM);
  ow_test_env_wait_process (notifier);
  g_assert_cmpint (g_subprocess_get_exit_status (notifier), ==, 0);
  session_stop (&session);
  ow_test_remove_tree (state);
  ow_test_env_free (env);
}

/* --pressure: a warning before the kill, once for the cgroup however often the level comes.
 * The pressure: on v1 page cache churned through a 32 MiB limit; on v2 (where /tmp may be a
 * tmpfs, whose pages cannot be reclaimed without swap) an anonymous hog throttled at
 * memory.high, which the kernel counts as memory stall. */
static void
test_pressure (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *state = private_state (env);
  gboolean v2 = ow_test_cgroups_version () == 2;
  g_autofree char *top = ow_test_env_make_cgroup (env, "desk", NULL, FALSE);
  g_autofree char *app = ow_test_env_make_cgroup (env, "desk/app", v2 ? "64M" : "32M", FALSE);
  g_autofree char *dir = ow_test_env_cgroup_path (env, "desk/app");
  g_autofree char *file = g_build_filename (env->tmpdir, "churn", NULL);
  const char *churn_argv[] = { g_getenv ("PRESSURE_HOG"), dir, file, "256", "0", NULL };
  const char *throttled_argv[] = { g_getenv ("OOM_HOG"), dir, "256", NULL };
  const char *const *hog_argv = v2 ? throttled_argv : churn_argv;
  const char *argv[] = { g_getenv ("OOMWATCH_NOTIFY"), "--cgroup", top, "--pressure", "low",
                         "--missed-window=0",          NULL }; /* as in test_notify */
  g_autoptr (GSubprocess) notifier = NULL;
  g_autoptr (GSubprocess) hog = NULL;
  g_autoptr (GArray) got = NULL;
  Session session = { 0 };
  Notification *n;

  if (g_getenv ("PRESSURE_HOG") == NULL)
    {
      g_test_skip ("PRESSURE_HOG is not set: the pressure hog is not installed here");
      ow_test_remove_tree (state);
      ow_test_env_free (env);
      return;
    }

  if (v2)
    ow_test_env_write (dir, "memory.high", "24M");
  session_start (&session);
  notifier = ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_NONE, argv);
  for (int i = 0; i < 1000 && !ow_test_env_watched (env, app); i++)
    ow_test_env_iterate (10);
  hog = ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_STDIN_PIPE, hog_argv);
  got = wait_notifications (&session, 1, 0);
  ow_test_env_iterate (2000); /* the kernel keeps signalling meanwhile */
  g_array_unref (g_steal_pointer (&got));
  got = received_notifications (&session);
  /* Signalled on /desk/app and on /desk: one warning, updated in place if /desk came first. */
  g_assert_cmpuint (got->len, >=, 1);
  g_assert_cmpuint (got->len, <=, 2);
  for (guint i = 1; i < got->len; i++)
    g_assert_cmpuint (g_array_index (got, Notification, i).replaces_id, !=, 0);
  n = &g_array_index (got, Notification, got->len - 1);
  g_test_message ("notification: %s / %s", n->summary, n->body);
  g_assert_cmpstr (n->summary, ==, "Memory is running low in app");
  g_assert_nonnull (strstr (n->body, app));
  /* Critical pressure (throttling in a slow guest gets there at once) is urgent. */
  g_assert_cmpuint (n->urgency, ==, g_str_has_prefix (n->body, "Pressure critical ") ? 2 : 1);

  g_subprocess_force_exit (hog);
  ow_test_env_wait_process (hog);
  g_subprocess_send_signal (notifier, SIGTERM);
  ow_test_env_wait_process (notifier);
  session_stop (&session);
  ow_test_remove_tree (state);
  ow_test_env_free (env);
}

static void
write_desktop_file (const char *data_dir, const char *id, const char *name)
{
  g_autofree char *dir = g_build_filename (data_dir, "applications", NULL);
  g_autofree char *file = g_strdup_printf ("%s/%s.desktop", dir, id);
  g_autofree char *contents = g_strdup_printf ("[Desktop Entry]\nType=Application\nName=%s\n"
                                               "Icon=%s\nExec=true\n",
                                               name, id);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (file, contents, -1, NULL));
}

static void
remove_desktop_file (const char *data_dir, const char *id)
{
  g_autofree char *file = g_strdup_printf ("%s/applications/%s.desktop", data_dir, id);
  g_autofree char *dir = g_build_filename (data_dir, "applications", NULL);

  g_unlink (file);
  g_rmdir (dir);
  g_rmdir (data_dir);
}

/* The newest notification, after at least AT_LEAST arrived and no more came for a while. */
static GArray *
settled_notifications (Session *session, guint at_least)
{
  G_GNUC_UNUSED g_autoptr (GArray) got = wait_notifications (session, at_least, 0);

  ow_test_env_iterate (1500);
  return received_notifications (session);
}

static void
check_app_notification (GArray *all, guint count, const char *summary, const char *id)
{
  Notification *n;

  g_assert_cmpuint (all->len, ==, count);
  n = &g_array_index (all, Notification, count - 1);
  g_test_message ("notification: [%s] %s / %s (%s)", n->icon, n->summary, n->body,
                  n->desktop_entry);
  g_assert_cmpuint (n->replaces_id, ==, 0);
  g_assert_cmpstr (n->summary, ==, summary);
  g_assert_cmpstr (n->icon, ==, id);
  g_assert_cmpstr (n->desktop_entry, ==, id);
}

/* A real OOM kill in the cgroup NAME: the COUNT-th notification, a new one, names the app. */
static void
kill_and_check (OwTestEnv *env, Session *session, const char *name, guint count,
                const char *summary, const char *id)
{
  g_autoptr (GSubprocess) hog = ow_test_env_hog (env, name, 256);
  g_autoptr (GArray) all = NULL;

  ow_test_env_wait_process (hog);
  all = settled_notifications (session, count);
  check_app_notification (all, count, summary, id);
  /* The process is named when the kernel's rate-limited log line named it; never another. */
  {
    const char *body = g_array_index (all, Notification, count - 1).body;

    g_assert_true (strstr (body, "oom-hog") != NULL || strstr (body, "(pid") == NULL);
  }
}

/* Kills in cgroups named as GNOME Shell and Flatpak name them, and a systemd-oomd kill: each
 * notification names the app by its desktop entry (found through XDG_DATA_DIRS, as Flatpak's
 * exports are) and carries its icon and desktop-entry hint. */
static void
test_notify_apps (void)
{
  OwTestEnv *env = ow_test_env_new_own (OW_TEST_OOMD_OWN);
  g_autofree char *top = ow_test_env_make_cgroup (env, "desk", NULL, FALSE);
  g_autofree char *editor = ow_test_env_make_cgroup (
      env, "desk/app-gnome-org.gnome.TextEditor-123.scope", "32M", FALSE);
  g_autofree char *flatpak
      = ow_test_env_make_cgroup (env, "desk/app-flatpak-org.example.Hog-77.scope", "32M", FALSE);
  g_autofree char *share = g_build_filename (env->tmpdir, "share", NULL);
  g_autofree char *exports = g_build_filename (env->tmpdir, "exports", NULL);
  g_autofree char *home = g_build_filename (env->tmpdir, "home", NULL);
  g_autofree char *data_dirs = g_strdup_printf ("%s:%s", share, exports);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) notifier = NULL;
  g_autoptr (GDBusConnection) oomd = NULL;
  g_autoptr (GError) error = NULL;
  Session session = { 0 };
  const char *argv[] = { g_getenv ("OOMWATCH_NOTIFY"), "--cgroup", top, "--coalesce=1", NULL };

  write_desktop_file (share, "org.gnome.TextEditor", "Text Editor");
  write_desktop_file (exports, "org.example.Hog", "Hog Example");
  session_start (&session);
  /* A launcher copies the environment when it is made: after the session bus is known. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_DIRS", data_dirs, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", home, TRUE);
  g_subprocess_launcher_setenv (launcher, "LANGUAGE", "C", TRUE);
  notifier = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 1000 && !ow_test_env_watched (env, flatpak); i++)
    ow_test_env_iterate (10);
  g_assert_true (ow_test_env_watched (env, flatpak));

  kill_and_check (env, &session, "desk/app-gnome-org.gnome.TextEditor-123.scope", 1,
                  "Text Editor was stopped — it ran out of memory", "org.gnome.TextEditor");
  kill_and_check (env, &session, "desk/app-flatpak-org.example.Hog-77.scope", 2,
                  "Hog Example was stopped — it ran out of memory", "org.example.Hog");
  /* systemd-oomd kills the editor's scope: signalled on it and on desk, told once. */
  oomd = ow_test_oomd_connect (env, TRUE);
  ow_test_oomd_wait_following (env, 1);
  ow_test_oomd_emit_killed (oomd, editor, "memory-pressure");
  {
    g_autoptr (GArray) all = settled_notifications (&session, 3);

    check_app_notification (all, 3, "Text Editor was stopped by systemd-oomd: memory pressure",
                            "org.gnome.TextEditor");
  }
  /* An app without a desktop entry: named by its unit, with the notifier's own icon and entry. */
  {
    g_autofree char *missing = g_strdup_printf ("%s/app-gnome-org.example.Missing-5.scope", top);
    g_autoptr (GArray) all = NULL;
    Notification *n;

    ow_test_oomd_emit_killed (oomd, missing, "memory-used");
    all = settled_notifications (&session, 4);
    g_assert_cmpuint (all->len, ==, 4);
    n = &g_array_index (all, Notification, 3);
    g_assert_cmpstr (n->summary, ==,
                     "app-gnome-org.example.Missing-5.scope was stopped by systemd-oomd: too much "
                     "memory and swap in use");
    g_assert_cmpstr (n->icon, ==, "dialog-warning");
    g_assert_cmpstr (n->desktop_entry, ==, "oomwatch-notify");
  }

  g_subprocess_send_signal (notifier, SIGTERM);
  ow_test_env_wait_process (notifier);
  g_assert_cmpint (g_subprocess_get_exit_status (notifier), ==, 0);
  session_stop (&session);
  remove_desktop_file (share, "org.gnome.TextEditor");
  remove_desktop_file (exports, "org.example.Hog");
  g_clear_object (&oomd);
  ow_test_env_free (env);
}

static void
kill_one (OwTestEnv *env, const char *name)
{
  g_autoptr (GSubprocess) hog = ow_test_env_hog (env, name, 256);

  ow_test_env_wait_process (hog);
  g_assert_true (g_subprocess_get_if_signaled (hog));
}

static guint
settled_count (Session *session, guint at_least)
{
  G_GNUC_UNUSED g_autoptr (GArray) got = wait_notifications (session, at_least, 0);

  ow_test_env_iterate (1500); /* anything more, or twice, would come now */
  g_array_unref (g_steal_pointer (&got));
  got = received_notifications (session);
  return got->len;
}

static char *
last_summary (Session *session)
{
  g_autoptr (GArray) got = received_notifications (session);

  g_assert_cmpuint (got->len, >, 0);
  return g_strdup (g_array_index (got, Notification, got->len - 1).summary);
}

/* Issue 16: kills the notifier missed are shown when it starts, and those of a daemon restart
 * when the daemon is back; never twice, not even by a notifier started again. */
static void
test_missed (void)
{
  OwTestEnv *env = ow_test_env_new_own ("it keeps the daemon down while cgroups OOM");
  g_autofree char *top = ow_test_env_make_cgroup (env, "away", NULL, FALSE);
  g_autofree char *app = ow_test_env_make_cgroup (env, "away/app", "32M", FALSE);
  g_autofree char *state = g_build_filename (env->tmpdir, "state", NULL);
  const char *argv[] = { g_getenv ("OOMWATCH_NOTIFY"), "--cgroup", top, "--coalesce=1", NULL };
  g_autofree char *summary = NULL;
  g_autoptr (GSubprocess) notifier = NULL;
  Session session = { 0 };
  guint shown;

  g_setenv ("XDG_STATE_HOME", state, TRUE);
  session_start (&session);
  /* Two kills while no notifier runs (this connection's watch makes the daemon see them). */
  g_free (ow_test_env_watch (env, NULL, app));
  kill_one (env, "away/app");
  kill_one (env, "away/app");
  for (int i = 0; i < 1000 && ow_test_env_sum (env, app, "oom-kill") < 2; i++)
    ow_test_env_iterate (10);
  g_assert_cmpuint (ow_test_env_sum (env, app, "oom-kill"), ==, 2);

  notifier = ow_test_spawn_tied (argv, G_SUBPROCESS_FLAGS_NONE);
  shown = settled_count (&session, 1);
  summary = last_summary (&session);
  g_assert_nonnull (strstr (summary, "2 processes"));
  g_clear_pointer (&summary, g_free);

  /* Started again: nothing it has shown comes again. */
  g_subprocess_send_signal (notifier, SIGTERM);
  ow_test_env_wait_process (notifier);
  g_clear_object (&notifier);
  notifier = ow_test_spawn_tied (argv, G_SUBPROCESS_FLAGS_NONE);
  for (int i = 0; i < 1000 && !ow_test_env_watched (env, top); i++)
    ow_test_env_iterate (10);
  g_assert_true (ow_test_env_watched (env, top));
  g_assert_cmpuint (settled_count (&session, shown), ==, shown);

  /* A kill while oomwatchd is down: shown once it is back (the notifier watches again). */
  ow_test_nogaps_kill_daemon (env);
  kill_one (env, "away/app");
  ow_test_nogaps_start_daemon (env);
  g_assert_cmpuint (settled_count (&session, shown + 1), ==, shown + 1);
  summary = last_summary (&session);
  /* "A process …", or named by its unit where the test's own cgroup lies in one (the guest). */
  g_assert_true (strstr (summary, "A process") != NULL || strstr (summary, " was stopped") != NULL);

  g_subprocess_send_signal (notifier, SIGTERM);
  ow_test_env_wait_process (notifier);
  g_assert_cmpint (g_subprocess_get_exit_status (notifier), ==, 0);
  session_stop (&session);
  ow_test_remove_tree (state);
  ow_test_env_free (env);
}

int
main (int argc, char **argv)
{
  int skip = ow_test_env_check ();

  if (skip != 0)
    return skip;
  {
    g_autofree char *python = find_dbusmock_python ();

    if (python == NULL)
      {
        g_print ("SKIP: no python3 on PATH imports dbusmock (apt-get install python3-dbusmock)\n");
        return OW_TEST_SKIP;
      }
  }
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/notify/burst", test_notify);
  g_test_add_func ("/notify/apps", test_notify_apps);
  g_test_add_func ("/notify/missed", test_missed);
  g_test_add_func ("/notify/pressure", test_pressure);
  return g_test_run ();
}
