/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Application events against the real daemon: unit and app keys in OomEvent for a real OOM in an
 * app-named cgroup, and systemd-oomd's Killed signal (from a stand-in that owns
 * org.freedesktop.oom1 on the private bus) arriving as oomd-kill. */
#include "ow-test-conditions.h"
#include "ow-test-oomd.h"
#include "oomwatch-names.h"

#include <string.h>

#define EVENT_TIMEOUT_MS 15000
#define SCOPE "app-gnome-org.gnome.TextEditor-123.scope"
#define FLATPAK_SCOPE "app-flatpak-org.example.Hog-77.scope"

static const char *
lookup_string (GVariant *details, const char *key)
{
  const char *value = NULL;

  g_variant_lookup (details, key, "&s", &value);
  return value;
}

static OwTestSignal *
first_signal (OwTestEnv *env, const char *cgroup, const char *kind)
{
  for (guint i = 0; i < env->signals->len; i++)
    {
      OwTestSignal *signal = g_ptr_array_index (env->signals, i);

      if (g_strcmp0 (signal->cgroup, cgroup) == 0 && g_strcmp0 (signal->kind, kind) == 0)
        return signal;
    }
  return NULL;
}

/* A real OOM in an app scope: the scope's own oom-kill and its watched parent's carry the
 * scope's unit and app-id (the parent's from the victim's task-cgroup). */
static void
test_kill_keys (void)
{
  OwTestEnv *env = ow_test_env_new (NULL);
  g_autofree char *desk = ow_test_env_make_cgroup (env, "desk", NULL, FALSE);
  g_autofree char *scope = ow_test_env_make_cgroup (env, "desk/" SCOPE, "32M", FALSE);
  g_autofree char *watched = NULL;
  g_autoptr (GError) error = NULL;
  const char *cgroups[] = { scope, desk };

  gboolean named;

  watched = ow_test_env_watch_recursive (env, desk, &error);
  g_assert_no_error (error);
  {
    g_autoptr (GSubprocess) hog = ow_test_env_hog (env, "desk/" SCOPE, 256);
    guint32 hog_pid = ow_test_env_pid (hog);

    ow_test_env_wait_process (hog);
    named = ow_test_kernel_logged_victim (hog_pid);
  }
  for (gsize i = 0; i < G_N_ELEMENTS (cgroups); i++)
    {
      OwTestSignal *signal;
      g_autofree char *shown = NULL;

      g_assert_true (
          ow_test_env_wait_signal (env, cgroups[i], OOMWATCH_KIND_OOM_KILL, EVENT_TIMEOUT_MS));
      signal = first_signal (env, cgroups[i], OOMWATCH_KIND_OOM_KILL);
      shown = g_variant_print (signal->details, FALSE);
      g_test_message ("%s: %s", cgroups[i], shown);
      /* The parent knows the scope only from the victim, which the kernel names in a record it
       * rate-limits machine-wide: without it, the parent's kill has no unit to carry. */
      if (!named && i == 1)
        {
          g_test_message ("the kernel log does not name the hog (rate-limited)");
          g_assert_null (lookup_string (signal->details, OOMWATCH_KEY_UNIT));
          continue;
        }
      g_assert_cmpstr (lookup_string (signal->details, OOMWATCH_KEY_UNIT), ==, SCOPE);
      g_assert_cmpstr (lookup_string (signal->details, OOMWATCH_KEY_APP_ID), ==,
                       "org.gnome.TextEditor");
    }
  /* The oom of the scope itself has them from the watch. */
  g_assert_true (ow_test_env_wait_signal (env, scope, OOMWATCH_KIND_OOM, EVENT_TIMEOUT_MS));
  g_assert_cmpstr (
      lookup_string (first_signal (env, scope, OOMWATCH_KIND_OOM)->details, OOMWATCH_KEY_APP_ID),
      ==, "org.gnome.TextEditor");
  ow_test_env_free (env);
}

static guint32
watchers (OwTestEnv *env, const char *cgroup)
{
  g_autoptr (GVariant) watch = ow_test_env_find_watch (env, cgroup);
  guint32 n = 0;

  if (watch != NULL)
    g_variant_lookup (watch, OOMWATCH_KEY_WATCHERS, "u", &n);
  return n;
}

static void
test_oomd (void)
{
  OwTestEnv *env = ow_test_env_new_own (OW_TEST_OOMD_OWN);
  g_autofree char *user = ow_test_env_make_cgroup (env, "user", NULL, FALSE);
  g_autofree char *scope = ow_test_env_make_cgroup (env, "user/" FLATPAK_SCOPE, NULL, FALSE);
  g_autofree char *sub = g_strdup_printf ("%s/%s", scope, "tab-3"); /* need not exist */
  G_GNUC_UNUSED g_autofree char *w1 = ow_test_env_watch (env, NULL, user);
  G_GNUC_UNUSED g_autofree char *w2 = ow_test_env_watch (env, NULL, scope);
  const char *args[]
      = { g_getenv ("OOMCTL"), "watch", "--json", "--count=1", "--timeout=30", user, NULL };
  const char *human_args[]
      = { g_getenv ("OOMCTL"), "watch", "--count=1", "--timeout=30", user, NULL };
  g_autoptr (GSubprocess) oomctl = NULL;
  g_autoptr (GSubprocess) human = NULL;
  g_autofree char *human_out = NULL;
  g_autofree char *expected = NULL;
  g_autoptr (GDBusConnection) spoofer = NULL;
  g_autoptr (GDBusConnection) oomd = NULL;
  g_autofree char *out = NULL;
  g_autofree char *shown = NULL;
  g_autoptr (GError) error = NULL;
  OwTestSignal *signal;

  /* oomd absent at the start is normal; it appears later. */
  g_assert_cmpuint (ow_test_oomd_log_count (env, "Following systemd-oomd"), ==, 0);
  oomctl = ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_STDOUT_PIPE, args);
  human = ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_STDOUT_PIPE, human_args);
  oomd = ow_test_oomd_connect (env, TRUE);
  spoofer = ow_test_oomd_connect (env, FALSE);
  ow_test_oomd_wait_following (env, 1);
  /* The test and both oomctl watch it. */
  for (int i = 0; i < 1000 && watchers (env, user) < 3; i++)
    ow_test_env_iterate (10);
  g_assert_cmpuint (watchers (env, user), ==, 3);

  /* Not heard: a look-alike from another connection, an unwatched cgroup, a bad path. */
  ow_test_oomd_emit_killed (spoofer, scope, "memory-pressure");
  ow_test_oomd_emit_killed (oomd, "/elsewhere/app-gnome-x-1.scope", "memory-used");
  ow_test_oomd_emit_killed (oomd, "../../etc", "memory-used");
  ow_test_oomd_emit_killed (oomd, scope, "memory-pressure");
  g_assert_true (ow_test_env_wait_signal (env, user, OOMWATCH_KIND_OOMD_KILL, EVENT_TIMEOUT_MS));
  g_assert_true (ow_test_env_wait_signal (env, scope, OOMWATCH_KIND_OOMD_KILL, EVENT_TIMEOUT_MS));
  ow_test_env_iterate (500);
  g_assert_cmpuint (ow_test_env_n_signals (env, user, OOMWATCH_KIND_OOMD_KILL), ==, 1);
  g_assert_cmpuint (ow_test_env_n_signals (env, scope, OOMWATCH_KIND_OOMD_KILL), ==, 1);
  signal = first_signal (env, user, OOMWATCH_KIND_OOMD_KILL);
  shown = g_variant_print (signal->details, FALSE);
  g_test_message ("%s", shown);
  g_assert_cmpuint (signal->count, ==, 1);
  g_assert_cmpstr (lookup_string (signal->details, OOMWATCH_KEY_REASON), ==, "memory-pressure");
  g_assert_cmpstr (lookup_string (signal->details, OOMWATCH_KEY_TASK_CGROUP), ==, scope);
  g_assert_cmpstr (lookup_string (signal->details, OOMWATCH_KEY_UNIT), ==, FLATPAK_SCOPE);
  g_assert_cmpstr (lookup_string (signal->details, OOMWATCH_KEY_APP_ID), ==, "org.example.Hog");
  /* Two signals (user and the scope are both watched), one journal record. */
  g_assert_cmpuint (ow_test_oomd_log_count (env, "oomd-kill reason=memory-pressure"), ==, 1);

  /* oomctl watch --json shows it. */
  g_subprocess_communicate_utf8 (oomctl, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("oomctl: %s", out);
  g_assert_cmpint (g_subprocess_get_exit_status (oomctl), ==, 0);
  g_assert_nonnull (strstr (out, "\"kind\":\"oomd-kill\""));
  g_assert_nonnull (strstr (out, "\"reason\":\"memory-pressure\""));
  g_assert_nonnull (strstr (out, "\"app-id\":\"org.example.Hog\""));
  g_subprocess_communicate_utf8 (human, NULL, NULL, &human_out, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("oomctl: %s", human_out);
  /* A slice=… key too where the test's own cgroup lies in a slice (under systemd). */
  expected = g_strdup_printf (" %s oomd-kill count=1 reason=memory-pressure task-cgroup=%s "
                              "unit=" FLATPAK_SCOPE " ",
                              user, scope);
  g_assert_nonnull (strstr (human_out, expected));
  g_assert_nonnull (strstr (human_out, " app-id=org.example.Hog seq="));
  g_assert_true (g_str_has_suffix (human_out, "\n"));

  /* oomd restarts (a new unique name): still followed, below a watched cgroup too. */
  g_clear_object (&oomd);
  ow_test_oomd_log_wait (env, "systemd-oomd left the bus", 1);
  oomd = ow_test_oomd_connect (env, TRUE);
  ow_test_oomd_wait_following (env, 2);
  ow_test_oomd_emit_killed (oomd, sub, "memory-used");
  /* Two unicast signals, in either order: wait for both. */
  for (int i = 0;
       i < EVENT_TIMEOUT_MS / 10
       && (ow_test_env_n_signals (env, scope, OOMWATCH_KIND_OOMD_KILL) < 2
           || ow_test_env_n_signals (env, user, OOMWATCH_KIND_OOMD_KILL) < 2);
       i++)
    ow_test_env_iterate (10);
  g_assert_cmpuint (ow_test_env_n_signals (env, scope, OOMWATCH_KIND_OOMD_KILL), ==, 2);
  g_assert_cmpuint (ow_test_env_n_signals (env, user, OOMWATCH_KIND_OOMD_KILL), ==, 2);
  g_assert_cmpuint (ow_test_oomd_log_count (env, "oomd-kill reason=memory-used"), ==, 1);

  g_clear_object (&oomd);
  g_clear_object (&spoofer);
  ow_test_env_free (env);
}

int
main (int argc, char **argv)
{
  int skip = ow_test_env_init (&argc, &argv);

  if (skip != 0)
    return skip;
  g_test_add_func ("/apps/kill-keys", test_kill_keys);
  g_test_add_func ("/apps/oomd", test_oomd);
  return g_test_run ();
}
