/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Who pays for a watch: cgroups a user owns under another's recursive watch are paid by their
 * owner, within its limit; and the per-uid limit of the log lines users cause. */
#include "ow-log-limit.h"
#include "ow-test-registry.h"
#include "oomwatch-error.h"
#include "oomwatch-names.h"

#include <unistd.h>

#define OWNER 1000
#define WATCH_OK ow_test_registry_watch_ok

static void
mkdir_owned (OwTestRegistry *f, const char *cgroup, guint32 owner)
{
  g_autofree char *path = g_build_filename (f->dir, cgroup, NULL);

  ow_test_registry_mkdir (f, cgroup);
  g_assert_cmpint (chown (path, owner, owner), ==, 0);
}

static guint
n_skipped (OwTestRegistry *f, const char *root)
{
  g_autoptr (GVariant) entry = ow_test_registry_describe (f, root);
  g_autofree const char **skipped = NULL;

  g_assert_nonnull (entry);
  if (!g_variant_lookup (entry, OOMWATCH_KEY_SKIPPED, "^a&s", &skipped))
    return 0;
  return g_strv_length ((char **)skipped);
}

static gboolean
skip_unless_root (void)
{
  if (geteuid () == 0)
    return FALSE;
  g_test_skip ("needs root to give directories to another uid");
  return TRUE;
}

/* Root's recursive watch over /r, where uid 1000 owns /r/u and what is below it: 1000 pays,
 * up to its limit, once for all of root's clients; the rest of its cgroups are skipped. */
static void
test_owner_pays (OwTestRegistry *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  if (skip_unless_root ())
    return;
  ow_test_registry_mkdir (f, "/r/x");
  mkdir_owned (f, "/r/u", OWNER);
  for (const char *const *c = (const char *const[]){ "/r/u/a", "/r/u/b", "/r/u/c", "/r/u/d", NULL };
       *c != NULL; c++)
    mkdir_owned (f, *c, OWNER);
  ow_test_registry_set_limits (f, 3, 100);
  WATCH_OK (f, ":1.1", 0, "/r", TRUE);
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, 0), ==, 2); /* /r, /r/x */
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, OWNER), ==, 3);
  g_assert_cmpuint (ow_registry_count (f->registry), ==, 5);
  g_assert_cmpuint (n_skipped (f, "/r"), ==, 2);
  /* Its own calls share that allowance. */
  g_assert_false (ow_registry_watch (f->registry, ":1.9", OWNER, "/r/x", FALSE, &error));
  g_assert_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_LIMIT_EXCEEDED);
  /* A second root client reaching the same cgroups costs the owner nothing more. */
  WATCH_OK (f, ":1.2", 0, "/r", TRUE);
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, OWNER), ==, 3);
  ow_registry_drop_client (f->registry, ":1.1");
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, OWNER), ==, 3);
  ow_registry_drop_client (f->registry, ":1.2");
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, OWNER), ==, 0);
  g_assert_cmpuint (ow_registry_count (f->registry), ==, 0);
  /* What a client asks for by name it pays for itself, whoever owns it. */
  WATCH_OK (f, ":1.3", 0, "/r/u", FALSE);
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, OWNER), ==, 0);
}

/* New cgroups the owner makes under the watch: paid until its limit, then skipped, with at
 * most its limit of them listed; the total keeps room for Watch calls. */
static void
test_owner_pays_new (OwTestRegistry *f, gconstpointer data)
{
  if (skip_unless_root ())
    return;
  mkdir_owned (f, "/r/u", OWNER);
  ow_test_registry_set_limits (f, 4, 10);
  WATCH_OK (f, ":1.1", 0, "/r", TRUE);
  for (guint i = 0; i < 12; i++)
    {
      g_autofree char *cgroup = g_strdup_printf ("/r/u/c%02u", i);

      mkdir_owned (f, cgroup, OWNER);
    }
  ow_test_registry_drain (f, "/r/marker");
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, OWNER), ==, 4);
  g_assert_cmpuint (n_skipped (f, "/r"), ==, 4); /* 9 skipped, listed up to the limit */
  /* Root's own new cgroups stay paid by root; users' ones fill at most 10 - 4 of the total. */
  ow_test_registry_set_limits (f, 100, 10);
  mkdir_owned (f, "/r/v", OWNER + 1);
  mkdir_owned (f, "/r/v/a", OWNER + 1);
  mkdir_owned (f, "/r/v/b", OWNER + 1);
  ow_test_registry_drain (f, "/r/marker2");
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, OWNER + 1), ==, 0);
  g_assert_null (ow_registry_lookup (f->registry, "/r/v"));
  g_assert_cmpuint (ow_registry_count (f->registry), ==, 7); /* /r, markers, /r/u + 3 */
}

static void
test_log_limit (void)
{
  g_autoptr (OwLogLimit) limit = ow_log_limit_new ();
  gint64 now = 1000 * G_USEC_PER_SEC;
  guint dropped = 99, taken = 0;

  for (guint i = 0; i < OW_LOG_LIMIT_BURST; i++)
    g_assert_true (ow_log_limit_take (limit, OWNER, now, &dropped));
  g_assert_cmpuint (dropped, ==, 0);
  for (guint i = 0; i < 100; i++)
    g_assert_false (ow_log_limit_take (limit, OWNER, now + i, &dropped));
  /* Another uid has its own burst. */
  g_assert_true (ow_log_limit_take (limit, OWNER + 1, now, &dropped));
  /* One more line after the refill time, saying what was dropped. */
  now += OW_LOG_LIMIT_REFILL_USEC;
  g_assert_true (ow_log_limit_take (limit, OWNER, now, &dropped));
  g_assert_cmpuint (dropped, ==, 100);
  g_assert_false (ow_log_limit_take (limit, OWNER, now, &dropped));
  /* A long quiet time gives the burst back, no more. */
  now += 100 * OW_LOG_LIMIT_REFILL_USEC;
  for (guint i = 0; i < OW_LOG_LIMIT_BURST; i++)
    g_assert_true (ow_log_limit_take (limit, OWNER, now, &dropped));
  g_assert_false (ow_log_limit_take (limit, OWNER, now, &dropped));
  /* Many uids at once: past about a thousand, the others share one bucket. */
  for (guint32 uid = 2000; uid < 5000; uid++)
    taken += ow_log_limit_take (limit, uid, now, &dropped);
  g_assert_cmpuint (taken, >=, 1000);
  g_assert_cmpuint (taken, <=, 1100);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func)                                                                            \
  g_test_add (path, OwTestRegistry, NULL, ow_test_registry_setup, func, ow_test_registry_teardown)
  ADD ("/registry/owner-pays", test_owner_pays);
  ADD ("/registry/owner-pays-new", test_owner_pays_new);
  g_test_add_func ("/log-limit/bucket", test_log_limit);
  return g_test_run ();
}
