/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Adversary cases about a subtree delegated to a user under the configuration's recursive
 * watch: the user's mkdirs spend only that user's own watch limit, never the total others
 * need, and the lines they cause in the log stay few. */
#include "adversary-harness.h"
#include "ow-test-cgroups.h"
#include "ow-test-conditions.h"
#include "ow-test-continuity.h"
#include "oomwatch-names.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define DELEG_LIMIT 32 /* ClientWatchLimit */
#define DELEG_TOTAL 100
#define DELEG_MKDIRS 300
#define OTHER_CHILDREN 10
#define MAX_FLOOD_LINES 20 /* the log limit's burst is 5 per uid; loose */

static void
chown_nobody (const char *dir, const char *file)
{
  g_autofree char *path = file != NULL ? g_build_filename (dir, file, NULL) : g_strdup (dir);

  g_assert_cmpint (chown (path, ADV_UID_NOBODY, ADV_UID_NOBODY), ==, 0);
}

/* Lines of the daemon's log, debug ones aside, that name something under PREFIX. */
static guint
count_log_lines (OwTestEnv *env, const char *prefix)
{
  g_autofree char *log = NULL;
  g_auto (GStrv) lines = NULL;
  guint n = 0;

  g_assert_true (g_file_get_contents (env->daemon_log, &log, NULL, NULL));
  lines = g_strsplit (log, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    n += strstr (lines[i], prefix) != NULL && strstr (lines[i], "-DEBUG") == NULL;
  return n;
}

/* Watches listed at or below CGROUP, and the cgroups the root of the watch lists skipped. */
static guint
count_watches_below (OwTestEnv *env, const char *cgroup)
{
  g_autoptr (GVariant) watches = NULL;
  g_autoptr (GError) error = NULL;
  GVariantIter iter;
  const char *name;
  guint n = 0;

  oomwatch_manager_call_list_watches_sync (env->manager, G_DBUS_CALL_FLAGS_NONE, -1, &watches, NULL,
                                           &error);
  g_assert_no_error (error);
  g_variant_iter_init (&iter, watches);
  while (g_variant_iter_next (&iter, "(&s@a{sv})", &name, NULL))
    n += g_str_has_prefix (name, cgroup);
  return n;
}

static guint
count_skipped (OwTestEnv *env, const char *root)
{
  g_autoptr (GVariant) entry = ow_test_env_find_watch (env, root);
  g_autofree const char **skipped = NULL;

  if (entry == NULL || !g_variant_lookup (entry, OOMWATCH_KEY_SKIPPED, "^a&s", &skipped))
    return 0;
  return g_strv_length ((char **)skipped);
}

/* Cgroups the counter log (runtime/counters/log) kept counters for since it was last written
 * anew: "S <ino> <3 seen> <3 reported> <cgroup>" records. */
static guint
count_counter_cgroups (const char *counters)
{
  g_autofree char *path = g_build_filename (counters, "log", NULL), *text = NULL;
  g_autoptr (GHashTable) cgroups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    adv_fail ("no counter log in %s", counters);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) fields = g_strsplit (lines[i], " ", 9);

      if (g_strv_length (fields) == 9 && strcmp (fields[0], "S") == 0)
        g_hash_table_add (cgroups, g_strdup (fields[8]));
    }
  return g_hash_table_size (cgroups);
}

/* Nobody makes DELEG_MKDIRS cgroups in the subtree delegated to it, at once. */
static void
flood_mkdir (OwTestEnv *env, const char *deleg_dir)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GSubprocess) mkdir = NULL;
  gint64 start = g_get_monotonic_time ();

  for (const char *const *w = (const char *const[]){ "setpriv", "--reuid=65534", "--regid=65534",
                                                     "--clear-groups", "mkdir", NULL };
       *w != NULL; w++)
    g_ptr_array_add (argv, g_strdup (*w));
  for (guint i = 0; i < DELEG_MKDIRS; i++)
    g_ptr_array_add (argv, g_strdup_printf ("%s/c%03u", deleg_dir, i));
  g_ptr_array_add (argv, NULL);
  mkdir = ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_NONE, (const char *const *)argv->pdata);
  ow_test_env_wait_process (mkdir);
  g_assert_cmpint (g_subprocess_get_exit_status (mkdir), ==, 0);
  g_test_message ("nobody made %u cgroups in %.0f ms", DELEG_MKDIRS,
                  (g_get_monotonic_time () - start) / 1000.0);
}

/* A RecursiveWatch= over TREE, where nobody owns TREE/deleg. UNIT_CAPS: the daemon runs
 * without CAP_DAC_OVERRIDE, as the unit runs it (v1: nobody's new cgroups cannot be
 * registered, each is skipped). */
static void
check_flood (gboolean unit_caps)
{
  const char *const wrapper[]
      = { "setpriv", "--inh-caps=-dac_override", "--bounding-set=-dac_override", NULL };
  OwTestDaemonOptions options = { .wrapper = unit_caps ? wrapper : NULL };
  OwTestEnv *env = ow_test_env_new_full (&options);
  g_autofree char *tree = ow_test_env_make_cgroup (env, "tree", NULL, FALSE);
  g_autofree char *deleg = ow_test_env_make_cgroup (env, "tree/deleg", NULL, FALSE);
  g_autofree char *deleg_dir = ow_test_env_cgroup_path (env, "tree/deleg");
  g_autofree char *other = ow_test_env_make_cgroup (env, "other", NULL, FALSE);
  g_autofree char *config = g_strdup_printf ("[Daemon]\nClientWatchLimit=%u\nTotalWatchLimit=%u\n"
                                             "[Watches]\nRecursiveWatch=%s\n",
                                             DELEG_LIMIT, DELEG_TOTAL, tree);
  g_autofree char *runtime = ow_test_continuity_runtime_dir (env);
  g_autofree char *counters = g_build_filename (runtime, "counters", NULL);
  g_autofree char *rwatch_other = g_strdup_printf ("rwatch %s", other);
  g_autofree char *watch_other = g_strdup_printf ("watch %s", other);
  g_autofree char *marker = NULL, *prefix = g_strdup_printf ("%s/c", deleg);
  g_autoptr (AdvProc) user = adv_client (ADV_UID_USER, "user", "watch");
  g_autoptr (AdvProc) owner = adv_client (ADV_UID_NOBODY, "nobody", "watch");
  g_autoptr (GError) error = NULL;
  guint watched, skipped, lines, files;
  const char *answer;

  for (guint i = 0; i < OTHER_CHILDREN; i++)
    {
      g_autofree char *name = g_strdup_printf ("other/o%02u", i);

      g_free (ow_test_env_make_cgroup (env, name, NULL, FALSE));
    }
  /* Delegated as systemd or cgcreate -a do it: the directory and the process files. */
  if (ow_test_cgroups_version () == 2)
    ow_test_env_write (deleg_dir, "cgroup.subtree_control", "+memory");
  chown_nobody (deleg_dir, NULL);
  chown_nobody (deleg_dir, "cgroup.procs");
  g_assert_true (g_file_set_contents (env->config_path, config, -1, NULL));
  oomwatch_manager_call_reload_sync (env->manager, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ow_test_env_wait_watched (env, deleg, TRUE));

  flood_mkdir (env, deleg_dir);
  /* inotify keeps the order of events: once the marker is watched, every mkdir was seen. */
  marker = ow_test_env_make_cgroup (env, "tree/marker", NULL, FALSE);
  if (!ow_test_env_wait_watched (env, marker, TRUE))
    adv_fail ("%s, made by root after the flood, is not watched", marker);

  watched = count_watches_below (env, prefix);
  skipped = count_skipped (env, tree);
  lines = count_log_lines (env, prefix);
  files = count_counter_cgroups (counters);
  g_test_message ("after %u mkdirs by nobody: %u of its cgroups watched, %u listed skipped, %u log "
                  "lines about them, counters kept for %u cgroups, %u watches in all",
                  DELEG_MKDIRS, watched, skipped, lines, files, count_watches_below (env, "/"));
  if (watched > DELEG_LIMIT)
    adv_fail ("%u cgroups nobody made are watched, its limit is %u", watched, DELEG_LIMIT);
  if (skipped > DELEG_LIMIT)
    adv_fail ("%u cgroups nobody made are listed as skipped", skipped);
  if (lines > MAX_FLOOD_LINES)
    adv_fail ("nobody's mkdirs caused %u log lines (at most %u)", lines, MAX_FLOOD_LINES);
  if (files > DELEG_LIMIT + OTHER_CHILDREN + 8)
    adv_fail ("counters kept for %u cgroups in the runtime directory", files);

  /* Another user's watches are not refused because of nobody's subtree (how fast is for the
   * starvation case: an emulated guest is slow)... */
  answer = adv_call (user, rwatch_other, NULL);
  if (!g_str_has_prefix (answer, "ok "))
    adv_fail ("another user's Watch of %u cgroups: %s", OTHER_CHILDREN + 1, answer);
  /* ...while nobody's own calls find its allowance spent on its own subtree. */
  answer = adv_call (owner, watch_other, NULL);
  if (!unit_caps && strstr (answer, "org.oomwatch.OomWatch1.Error.LimitExceeded") == NULL)
    adv_fail ("nobody, its allowance spent on its subtree, watched %s: %s", other, answer);
  ow_test_env_free (env);
}

static void
test_deleg_budget (void)
{
  check_flood (FALSE);
}

static void
test_deleg_log (void)
{
  if (ow_test_cgroups_skip_unless (1, "on v2 the daemon may register a user's new cgroups"))
    return;
  check_flood (TRUE);
}

void
adv_add_deleg_tests (void)
{
  g_test_add_func ("/adversary/deleg-budget", test_deleg_budget);
  g_test_add_func ("/adversary/deleg-log", test_deleg_log);
}
