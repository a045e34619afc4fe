/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The registry without root or cgroups: limits, all-or-nothing adds, skipped children,
 * persistent watches. The cgroups are plain directories; the sources are fakes. */
#include "ow-test-registry.h"
#include "oomwatch-error.h"
#include "oomwatch-names.h"

#include <glib/gstdio.h>
#include <sys/inotify.h>
#include <unistd.h>

#define WATCH_OK ow_test_registry_watch_ok

static void
assert_refused (OwTestRegistry *f, const char *client, guint32 uid, const char *cgroup,
                gboolean recursive, int code)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (ow_registry_watch (f->registry, client, uid, cgroup, recursive, &error));
  g_assert_error (error, OOMWATCH_ERROR, code);
}

static void
make_dirs (OwTestRegistry *f, const char *const *cgroups)
{
  for (gsize i = 0; cgroups[i] != NULL; i++)
    ow_test_registry_mkdir (f, cgroups[i]);
}

/* The limit is per uid: all connections of one uid together; root has none of its own. */
static void
test_uid_limit (OwTestRegistry *f, gconstpointer data)
{
  make_dirs (f, (const char *const[]){ "/a", "/b", "/c", "/d", "/e", NULL });
  ow_test_registry_set_limits (f, 3, 100);
  WATCH_OK (f, ":1.1", 1000, "/a", FALSE);
  WATCH_OK (f, ":1.1", 1000, "/b", FALSE);
  WATCH_OK (f, ":1.2", 1000, "/c", FALSE);
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, 1000), ==, 3);
  assert_refused (f, ":1.2", 1000, "/d", FALSE, OOMWATCH_ERROR_LIMIT_EXCEEDED);
  assert_refused (f, ":1.3", 1000, "/d", FALSE, OOMWATCH_ERROR_LIMIT_EXCEEDED);
  /* Watching again what one already holds is free. */
  WATCH_OK (f, ":1.1", 1000, "/a", FALSE);
  /* Another uid, and root, count on their own. */
  WATCH_OK (f, ":1.4", 1001, "/d", FALSE);
  for (const char *const *c = (const char *const[]){ "/a", "/b", "/c", "/d", "/e", NULL }; *c; c++)
    WATCH_OK (f, ":1.5", 0, *c, FALSE);
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, 0), ==, 5);
  /* A connection that goes frees its share for the uid's others. */
  ow_registry_drop_client (f->registry, ":1.1");
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, 1000), ==, 1);
  WATCH_OK (f, ":1.2", 1000, "/d", FALSE);
  WATCH_OK (f, ":1.2", 1000, "/e", FALSE);
  assert_refused (f, ":1.2", 1000, "/a", FALSE, OOMWATCH_ERROR_LIMIT_EXCEEDED);
  /* Unwatch gives back too. */
  g_assert_true (ow_registry_unwatch (f->registry, ":1.2", "/c", NULL));
  WATCH_OK (f, ":1.2", 1000, "/a", FALSE);
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, 1000), ==, 3);
}

/* The total limit counts cgroups, whoever watches them, root included. */
static void
test_total_limit (OwTestRegistry *f, gconstpointer data)
{
  make_dirs (f, (const char *const[]){ "/a", "/b", "/c", "/d", NULL });
  ow_test_registry_set_limits (f, 10, 3);
  WATCH_OK (f, ":1.1", 0, "/a", FALSE);
  WATCH_OK (f, ":1.1", 0, "/b", FALSE);
  WATCH_OK (f, ":1.2", 1000, "/c", FALSE);
  assert_refused (f, ":1.1", 0, "/d", FALSE, OOMWATCH_ERROR_LIMIT_EXCEEDED);
  /* A second watcher of a watched cgroup costs no new watch. */
  WATCH_OK (f, ":1.2", 1000, "/a", FALSE);
  g_assert_cmpuint (ow_registry_count (f->registry), ==, 3);
  g_assert_cmpuint (ow_fake_factory_n_live (f->factory), ==, 3);
  g_assert_cmpuint (ow_fake_factory_n_made (f->factory), ==, 3);
  ow_registry_drop_client (f->registry, ":1.1");
  g_assert_cmpuint (ow_registry_count (f->registry), ==, 2); /* /a stays: :1.2 has it */
  WATCH_OK (f, ":1.1", 0, "/d", FALSE);
}

static void
assert_nothing_held (OwTestRegistry *f, guint32 uid)
{
  g_assert_cmpuint (ow_registry_count (f->registry), ==, 0);
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, uid), ==, 0);
  g_assert_cmpuint (ow_fake_factory_n_live (f->factory), ==, 0);
}

/* A recursive watch is added whole or not at all. */
static void
test_recursive_all_or_nothing (OwTestRegistry *f, gconstpointer data)
{
  guint32 uid;

  make_dirs (f, (const char *const[]){ "/r/x/deep", "/r/y", "/r/z", NULL });
  /* One cgroup fails for a reason that is not "skip it": nothing stays. */
  ow_fake_factory_fail (f->factory, "/r/x/deep", OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED, FALSE);
  assert_refused (f, ":1.1", 1000, "/r", TRUE, OOMWATCH_ERROR_FAILED);
  assert_nothing_held (f, 1000);
  g_assert_cmpuint (ow_fake_factory_n_made (f->factory), >=, 2);
  g_assert_false (ow_registry_get_client_uid (f->registry, ":1.1", &uid));
  /* Over the limit: nothing either, and no source is even made. */
  ow_test_registry_set_limits (f, 4, 100);
  {
    guint made = ow_fake_factory_n_made (f->factory);

    assert_refused (f, ":1.1", 1000, "/r", TRUE, OOMWATCH_ERROR_LIMIT_EXCEEDED);
    g_assert_cmpuint (ow_fake_factory_n_made (f->factory), ==, made);
  }
  assert_nothing_held (f, 1000);
  /* What a client held before a refused recursive watch, it still holds. */
  WATCH_OK (f, ":1.1", 1000, "/r/y", FALSE);
  ow_test_registry_set_limits (f, 5, 100);
  ow_fake_factory_fail (f->factory, "/r/z", OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED, FALSE);
  assert_refused (f, ":1.1", 1000, "/r", TRUE, OOMWATCH_ERROR_FAILED);
  g_assert_cmpuint (ow_registry_count (f->registry), ==, 1);
  g_assert_nonnull (ow_registry_lookup (f->registry, "/r/y"));
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, 1000), ==, 1);
  /* And when nothing fails, the whole subtree, parents first. */
  WATCH_OK (f, ":1.1", 1000, "/r", TRUE);
  g_assert_cmpuint (ow_registry_count (f->registry), ==, 5);
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, 1000), ==, 5);
}

static void
inotify_add (int fd, OwTestRegistry *f, const char *cgroup)
{
  g_autofree char *path = g_build_filename (f->dir, cgroup, NULL);

  g_assert_cmpint (inotify_add_watch (fd, path, IN_OPEN), >=, 0);
}

/* Which of the directories the test watches were opened (listed) since the last call. */
static gboolean
opened (int fd)
{
  char buf[4096];

  return read (fd, buf, sizeof buf) > 0;
}

/* A recursive watch larger than the caller may hold stops walking at the cap: a subtree of a
 * million cgroups costs a refused caller one directory listing, not a million. */
static void
test_recursive_walk_stops (OwTestRegistry *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  int top = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  int below = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);

  g_assert_cmpint (top, >=, 0);
  g_assert_cmpint (below, >=, 0);
  for (guint i = 0; i < 8; i++)
    {
      g_autofree char *child = g_strdup_printf ("/big/c%u/below", i);

      ow_test_registry_mkdir (f, child);
      *strrchr (child, '/') = '\0';
      inotify_add (below, f, child);
    }
  inotify_add (top, f, "/big");
  ow_test_registry_set_limits (f, 4, 100);
  g_assert_false (ow_registry_watch (f->registry, ":1.1", 1000, "/big", TRUE, &error));
  g_assert_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_LIMIT_EXCEEDED);
  g_assert_nonnull (strstr (error->message, "holds more than"));
  g_assert_true (opened (top));    /* it did list /big … */
  g_assert_false (opened (below)); /* … and stopped there */
  g_assert_cmpuint (ow_fake_factory_n_made (f->factory), ==, 0);
  assert_nothing_held (f, 1000);
  /* Root walks the same tree to the end. */
  WATCH_OK (f, ":1.2", 0, "/big", TRUE);
  g_assert_true (opened (below));
  g_assert_cmpuint (ow_registry_count (f->registry), ==, 17);
  close (top);
  close (below);
}

static void
assert_skipped (OwTestRegistry *f, const char *root, const char *const *expected)
{
  g_autoptr (GVariant) entry = ow_test_registry_describe (f, root);
  g_autofree const char **skipped = NULL;

  g_assert_nonnull (entry);
  if (!g_variant_lookup (entry, OOMWATCH_KEY_SKIPPED, "^a&s", &skipped))
    skipped = g_new0 (const char *, 1);
  g_assert_cmpstrv (skipped, expected);
}

/* v1: a child whose registration file belongs to a user (delegated) is skipped, listed, and
 * does not fail the recursive watch; the root of the watch itself must work. */
static void
test_skipped_delegated (OwTestRegistry *f, gconstpointer data)
{
  gboolean recursive = FALSE;

  make_dirs (f, (const char *const[]){ "/r/a", "/r/b/c", "/r/d", NULL });
  ow_fake_factory_fail (f->factory, "/r/b", OOMWATCH_ERROR, OOMWATCH_ERROR_PERMISSION_DENIED, TRUE);
  ow_fake_factory_fail (f->factory, "/r/d", OOMWATCH_ERROR, OOMWATCH_ERROR_PERMISSION_DENIED, TRUE);
  WATCH_OK (f, ":1.1", 0, "/r", TRUE);
  g_assert_null (ow_registry_lookup (f->registry, "/r/b"));
  g_assert_nonnull (ow_registry_lookup (f->registry, "/r/a"));
  g_assert_nonnull (ow_registry_lookup (f->registry, "/r/b/c"));
  assert_skipped (f, "/r", (const char *const[]){ "/r/b", "/r/d", NULL });
  {
    g_autoptr (GVariant) entry = ow_test_registry_describe (f, "/r");

    g_assert_true (g_variant_lookup (entry, OOMWATCH_KEY_RECURSIVE, "b", &recursive));
    g_assert_true (recursive);
  }
  /* Only the root of a recursive watch lists what was skipped below it. */
  assert_skipped (f, "/r/a", (const char *const[]){ NULL });
  /* A skipped cgroup that goes is no longer listed (the recursive root follows /r). */
  ow_test_registry_rmdir (f, "/r/d");
  ow_test_registry_drain (f, "/r/marker");
  assert_skipped (f, "/r", (const char *const[]){ "/r/b", NULL });
  /* The root itself refused: the watch fails. */
  ow_fake_factory_fail (f->factory, "/r/b", OOMWATCH_ERROR, OOMWATCH_ERROR_PERMISSION_DENIED, TRUE);
  assert_refused (f, ":1.2", 0, "/r/b", TRUE, OOMWATCH_ERROR_PERMISSION_DENIED);
  /* Gone meanwhile (no such cgroup) is skipped without being listed. */
  ow_test_registry_mkdir (f, "/r/e");
  ow_fake_factory_fail (f->factory, "/r/e", OOMWATCH_ERROR, OOMWATCH_ERROR_NO_SUCH_CGROUP, TRUE);
  WATCH_OK (f, ":1.3", 0, "/r", TRUE);
  assert_skipped (f, "/r", (const char *const[]){ "/r/b", NULL });
  g_assert_null (ow_registry_lookup (f->registry, "/r/e"));
  g_assert_nonnull (ow_registry_lookup (f->registry, "/r"));
}

static gboolean
is_persistent (OwTestRegistry *f, const char *cgroup)
{
  g_autoptr (GVariant) entry = ow_test_registry_describe (f, cgroup);
  gboolean persistent = FALSE;

  g_assert_nonnull (entry);
  g_assert_true (g_variant_lookup (entry, OOMWATCH_KEY_PERSISTENT, "b", &persistent));
  return persistent;
}

/* The configuration's watches are reconciled on every (re)load: what it no longer names goes,
 * what it names comes, what a client also holds stays for that client. */
static void
test_persistent (OwTestRegistry *f, gconstpointer data)
{
  make_dirs (f, (const char *const[]){ "/a", "/b", "/r/x", "/s/y", NULL });
  g_test_expect_message ("oomwatchd", G_LOG_LEVEL_WARNING, "Persistent watch of /missing:*");
  ow_registry_set_persistent (f->registry, (const char *const[]){ "/a", "/missing", NULL },
                              (const char *const[]){ "/r", NULL });
  g_test_assert_expected_messages ();
  g_assert_cmpuint (ow_registry_count (f->registry), ==, 3);
  g_assert_true (is_persistent (f, "/a"));
  g_assert_true (is_persistent (f, "/r/x"));
  /* Persistent watches are root's and count against no uid limit but the total. */
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, 0), ==, 3);
  WATCH_OK (f, ":1.1", 1000, "/a", FALSE);

  /* Reload: /a and /r dropped, /b and /s come; :1.1 keeps /a. */
  ow_registry_set_persistent (f->registry, (const char *const[]){ "/b", NULL },
                              (const char *const[]){ "/s", NULL });
  g_assert_nonnull (ow_registry_lookup (f->registry, "/a"));
  g_assert_false (is_persistent (f, "/a"));
  g_assert_null (ow_registry_lookup (f->registry, "/r"));
  g_assert_null (ow_registry_lookup (f->registry, "/r/x"));
  g_assert_true (is_persistent (f, "/b"));
  g_assert_true (is_persistent (f, "/s/y"));
  g_assert_cmpuint (ow_registry_count (f->registry), ==, 4);

  /* The same configuration again changes nothing: no source is made again. */
  {
    guint made = ow_fake_factory_n_made (f->factory);

    ow_registry_set_persistent (f->registry, (const char *const[]){ "/b", NULL },
                                (const char *const[]){ "/s", NULL });
    g_assert_cmpuint (ow_fake_factory_n_made (f->factory), ==, made);
  }
  /* A plain watch that becomes recursive, and the reverse. */
  ow_registry_set_persistent (f->registry, (const char *const[]){ "/s", NULL },
                              (const char *const[]){ "/b", NULL });
  g_assert_true (is_persistent (f, "/s"));
  g_assert_null (ow_registry_lookup (f->registry, "/s/y"));
  g_assert_true (is_persistent (f, "/b"));
  /* Root drops a persistent watch at run time (oomctl unwatch). */
  g_assert_true (ow_registry_unwatch (f->registry, OW_PERSISTENT_CLIENT, "/s", NULL));
  g_assert_null (ow_registry_lookup (f->registry, "/s"));
  /* An empty configuration leaves only the clients' watches. */
  ow_registry_set_persistent (f->registry, (const char *const[]){ NULL },
                              (const char *const[]){ NULL });
  g_assert_cmpuint (ow_registry_count (f->registry), ==, 1);
  g_assert_nonnull (ow_registry_lookup (f->registry, "/a"));
  ow_registry_drop_client (f->registry, ":1.1");
  g_assert_cmpuint (ow_fake_factory_n_live (f->factory), ==, 0);
}

/* Events reach the listener and the counts; a removal drops the cgroup for every client. */
static void
test_events_and_removal (OwTestRegistry *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  OwFakeSource *source;
  OwWatch *watch;

  make_dirs (f, (const char *const[]){ "/a", NULL });
  ow_fake_factory_set_kills (f->factory, "/a", 7);
  WATCH_OK (f, ":1.1", 1000, "/a", FALSE);
  WATCH_OK (f, ":1.2", 1001, "/a", FALSE);
  source = ow_fake_factory_lookup (f->factory, "/a");
  g_assert_nonnull (source);
  g_assert_cmpint (ow_fake_source_get_baseline (source), ==, OW_SOURCE_BASELINE_NOW);
  g_assert_cmpuint (ow_fake_source_get_syncs (source), ==, 1);
  g_assert_cmpuint (f->events->len, ==, 0); /* counting starts now: 7 old kills are not news */
  ow_fake_source_emit (source, OW_EVENT_OOM, 2);
  ow_fake_source_kills (source, 8);
  g_assert_true (ow_test_registry_has_event (f, "/a oom 2"));
  g_assert_true (ow_test_registry_has_event (f, "/a oom-kill 1"));
  watch = ow_registry_lookup (f->registry, "/a");
  g_assert_cmpuint (watch->oom_count, ==, 2);
  g_assert_cmpuint (watch->oom_kill_count, ==, 1);
  g_assert_cmpuint (g_hash_table_size (watch->watchers), ==, 2);

  ow_fake_source_removed (source); /* frees the source */
  g_assert_cmpuint (ow_test_registry_n_removed (f, "/a"), ==, 1);
  g_assert_null (ow_registry_lookup (f->registry, "/a"));
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, 1000), ==, 0);
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, 1001), ==, 0);
  g_assert_false (ow_registry_unwatch (f->registry, ":1.1", "/a", &error));
  g_assert_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NOT_WATCHED);
}

/* Unwatching a recursive root drops its subtree, but not what the client asked for alone nor
 * what another recursive root of it covers. */
static void
test_unwatch_recursive (OwTestRegistry *f, gconstpointer data)
{
  make_dirs (f, (const char *const[]){ "/r/a/b", "/r/c", NULL });
  WATCH_OK (f, ":1.1", 1000, "/r", TRUE);
  WATCH_OK (f, ":1.1", 1000, "/r/a", TRUE);
  WATCH_OK (f, ":1.1", 1000, "/r/c", FALSE);
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, 1000), ==, 4);
  g_assert_true (ow_registry_unwatch (f->registry, ":1.1", "/r", NULL));
  g_assert_null (ow_registry_lookup (f->registry, "/r"));
  g_assert_nonnull (ow_registry_lookup (f->registry, "/r/a"));
  g_assert_nonnull (ow_registry_lookup (f->registry, "/r/a/b"));
  g_assert_nonnull (ow_registry_lookup (f->registry, "/r/c"));
  g_assert_cmpuint (ow_registry_count_for_uid (f->registry, 1000), ==, 3);
  ow_registry_drop_client (f->registry, ":1.1");
  assert_nothing_held (f, 1000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func)                                                                            \
  g_test_add (path, OwTestRegistry, NULL, ow_test_registry_setup, func, ow_test_registry_teardown)
  ADD ("/registry/uid-limit", test_uid_limit);
  ADD ("/registry/total-limit", test_total_limit);
  ADD ("/registry/recursive-all-or-nothing", test_recursive_all_or_nothing);
  ADD ("/registry/recursive-walk-stops", test_recursive_walk_stops);
  ADD ("/registry/skipped-delegated", test_skipped_delegated);
  ADD ("/registry/persistent", test_persistent);
  ADD ("/registry/events-and-removal", test_events_and_removal);
  ADD ("/registry/unwatch-recursive", test_unwatch_recursive);
  return g_test_run ();
}
