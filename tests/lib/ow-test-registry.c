/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-test-registry.h"
#include "ow-test-wait.h"

#include <glib/gstdio.h>

static void
on_event (OwWatch *watch, const OwEvent *event, gpointer user_data)
{
  OwTestRegistry *fixture = user_data;

  g_ptr_array_add (fixture->events,
                   g_strdup_printf ("%s %s %" G_GUINT64_FORMAT, watch->cgroup,
                                    ow_event_kind_to_string (event->kind), event->count));
}

static void
on_removed (OwWatch *watch, gpointer user_data)
{
  OwTestRegistry *fixture = user_data;

  /* Told just before the watch goes: it is still listed. */
  g_assert_true (ow_registry_lookup (fixture->registry, watch->cgroup) == watch);
  g_ptr_array_add (fixture->removed, g_strdup (watch->cgroup));
  if (fixture->removals_in_events)
    g_ptr_array_add (fixture->events, g_strdup_printf ("%s removed", watch->cgroup));
}

static const OwRegistryListener listener = {
  .event = on_event,
  .removed = on_removed,
};

void
ow_test_registry_setup (OwTestRegistry *fixture, gconstpointer version)
{
  g_autoptr (GError) error = NULL;
  const OwLimits limits = { 256, 1000 };

  fixture->dir = g_dir_make_tmp ("oomwatch-unit-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->hierarchy = ow_hierarchy_new_for_tests (version != NULL ? GPOINTER_TO_UINT (version) : 1,
                                                   fixture->dir, &error);
  g_assert_no_error (error);
  fixture->factory = ow_fake_factory_new ();
  fixture->context.hierarchy = fixture->hierarchy;
  ow_fake_factory_install (fixture->factory, &fixture->context);
  fixture->events = g_ptr_array_new_with_free_func (g_free);
  fixture->removed = g_ptr_array_new_with_free_func (g_free);
  fixture->registry = ow_registry_new (&fixture->context, &limits, &listener, fixture);
}

void
ow_test_registry_remake (OwTestRegistry *fixture)
{
  const OwLimits limits = { 256, 1000 };

  ow_registry_free (fixture->registry);
  fixture->registry = ow_registry_new (&fixture->context, &limits, &listener, fixture);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      /* Tests may take permissions away to make a walk fail. */
      g_chmod (child, 0700);
      remove_tree (child);
    }
  g_remove (path);
}

void
ow_test_registry_teardown (OwTestRegistry *fixture, gconstpointer version)
{
  g_clear_pointer (&fixture->registry, ow_registry_free);
  g_clear_pointer (&fixture->factory, ow_fake_factory_free);
  g_clear_pointer (&fixture->hierarchy, ow_hierarchy_free);
  remove_tree (fixture->dir);
  g_clear_pointer (&fixture->dir, g_free);
  g_clear_pointer (&fixture->events, g_ptr_array_unref);
  g_clear_pointer (&fixture->removed, g_ptr_array_unref);
}

void
ow_test_registry_set_limits (OwTestRegistry *fixture, guint client, guint total)
{
  const OwLimits limits = { client, total };

  ow_registry_set_limits (fixture->registry, &limits);
}

void
ow_test_registry_mkdir (OwTestRegistry *fixture, const char *cgroup)
{
  g_autofree char *path = g_build_filename (fixture->dir, cgroup, NULL);

  g_assert_cmpint (g_mkdir_with_parents (path, 0755), ==, 0);
}

void
ow_test_registry_rmdir (OwTestRegistry *fixture, const char *cgroup)
{
  g_autofree char *path = g_build_filename (fixture->dir, cgroup, NULL);

  g_assert_cmpint (g_rmdir (path), ==, 0);
}

void
ow_test_registry_watch_ok (OwTestRegistry *fixture, const char *client, guint32 uid,
                           const char *cgroup, gboolean recursive)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (ow_registry_watch (fixture->registry, client, uid, cgroup, recursive, &error));
  g_assert_no_error (error);
}

typedef struct
{
  OwTestRegistry *fixture;
  const char *cgroup;
  gboolean watched;
} WatchedWait;

static gboolean
is_watched_as_wanted (gpointer user_data)
{
  WatchedWait *wait = user_data;

  return (ow_registry_lookup (wait->fixture->registry, wait->cgroup) != NULL) == wait->watched;
}

gboolean
ow_test_registry_wait_watched (OwTestRegistry *fixture, const char *cgroup, gboolean watched)
{
  WatchedWait wait = { fixture, cgroup, watched };

  return ow_test_wait_until (is_watched_as_wanted, &wait, 5000);
}

void
ow_test_registry_drain (OwTestRegistry *fixture, const char *marker)
{
  ow_test_registry_mkdir (fixture, marker);
  g_assert_true (ow_test_registry_wait_watched (fixture, marker, TRUE));
}

GVariant *
ow_test_registry_describe (OwTestRegistry *fixture, const char *cgroup)
{
  g_autoptr (GVariant) all = ow_registry_describe (fixture->registry);
  GVariantIter iter;
  const char *name;
  GVariant *dict;

  g_variant_iter_init (&iter, all);
  while (g_variant_iter_next (&iter, "(&s@a{sv})", &name, &dict))
    {
      if (g_strcmp0 (name, cgroup) == 0)
        return dict;
      g_variant_unref (dict);
    }
  return NULL;
}

gboolean
ow_test_registry_has_event (OwTestRegistry *fixture, const char *line)
{
  for (guint i = 0; i < fixture->events->len; i++)
    if (g_strcmp0 (g_ptr_array_index (fixture->events, i), line) == 0)
      return TRUE;
  return FALSE;
}

guint
ow_test_registry_n_removed (OwTestRegistry *fixture, const char *cgroup)
{
  guint n = 0;

  for (guint i = 0; i < fixture->removed->len; i++)
    n += g_strcmp0 (g_ptr_array_index (fixture->removed, i), cgroup) == 0;
  return n;
}
