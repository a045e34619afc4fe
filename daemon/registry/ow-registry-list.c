/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the registry shows (ListWatches) and the watches the configuration asks for. */
#include "ow-registry-private.h"
#include "ow-str-hash.h"
#include "oomwatch-cgroup.h"
#include "oomwatch-names.h"

/* Makes the configuration's watches exactly PLAIN and RECURSIVE (canonical paths). One that
 * cannot be set up (no such cgroup yet) is logged and left out. */
static void
reconcile (OwRegistry *self, gboolean recursive, const char *const *wanted)
{
  OwClient *client = g_hash_table_lookup (self->clients, OW_PERSISTENT_CLIENT);
  g_autofree GStrv held = NULL;

  if (client != NULL)
    {
      held = (GStrv)g_hash_table_get_keys_as_array (recursive ? client->recursive : client->plain,
                                                    NULL);
      for (gsize i = 0; held[i] != NULL; i++)
        if (!g_strv_contains (wanted, held[i]))
          {
            g_autofree char *cgroup = g_strdup (held[i]);

            ow_registry_unwatch (self, OW_PERSISTENT_CLIENT, cgroup, NULL);
          }
    }
  for (gsize i = 0; wanted[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;

      if (!ow_registry_watch (self, OW_PERSISTENT_CLIENT, 0, wanted[i], recursive, &error))
        g_warning ("Persistent watch of %s: %s", wanted[i], error->message);
    }
}

void
ow_registry_set_persistent (OwRegistry *self, const char *const *plain,
                            const char *const *recursive)
{
  reconcile (self, FALSE, plain);
  reconcile (self, TRUE, recursive);
}

/* g_ptr_array_sort hands the comparison pointers to the elements, not the elements. */
static int
compare_cgroups (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *)a, *(const char *const *)b);
}

static GStrv
skipped_below (OwRegistry *self, const char *root)
{
  g_autoptr (GPtrArray) found = g_ptr_array_new ();
  GHashTableIter iter;
  const char *cgroup;

  g_hash_table_iter_init (&iter, self->skipped);
  while (g_hash_table_iter_next (&iter, (gpointer *)&cgroup, NULL))
    if (oomwatch_cgroup_is_below (cgroup, root))
      g_ptr_array_add (found, g_strdup (cgroup));
  g_ptr_array_sort (found, compare_cgroups);
  g_ptr_array_add (found, NULL);
  return (GStrv)g_ptr_array_steal (found, NULL);
}

/* ListWatches: a(sa{sv}), sorted by cgroup. */
/* One ListWatches entry: (sa{sv}) */
static GVariant *
describe_watch (OwWatch *watch, guint hierarchy, gboolean recursive_root, gboolean persistent,
                const char *const *skipped)
{
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  g_variant_dict_insert (&dict, OOMWATCH_KEY_HIERARCHY, "u", hierarchy);
  g_variant_dict_insert (&dict, OOMWATCH_KEY_WATCHERS, "u", g_hash_table_size (watch->watchers));
  g_variant_dict_insert (&dict, OOMWATCH_KIND_OOM, "t", watch->oom_count);
  g_variant_dict_insert (&dict, OOMWATCH_KIND_OOM_KILL, "t", watch->oom_kill_count);
  g_variant_dict_insert (&dict, OOMWATCH_KEY_SINCE, "t", (guint64)watch->since);
  g_variant_dict_insert (&dict, OOMWATCH_KEY_RECURSIVE, "b", recursive_root);
  g_variant_dict_insert (&dict, OOMWATCH_KEY_PERSISTENT, "b", persistent);
  if (skipped != NULL && skipped[0] != NULL)
    g_variant_dict_insert (&dict, OOMWATCH_KEY_SKIPPED, "^as", skipped);
  if (watch->source != NULL)
    ow_source_describe (watch->source, &dict);
  ow_pressure_describe (watch->pressure, &dict);
  return g_variant_new ("(s@a{sv})", watch->cgroup, g_variant_dict_end (&dict));
}

GVariant *
ow_registry_describe (OwRegistry *self)
{
  g_autoptr (GList) cgroups
      = g_list_sort (g_hash_table_get_keys (self->watches), (GCompareFunc)g_strcmp0);
  g_autoptr (GHashTable) roots = g_hash_table_new (ow_str_hash, g_str_equal);
  guint hierarchy = ow_hierarchy_get_version (self->context->hierarchy);
  GVariantBuilder builder;
  GHashTableIter iter;
  OwClient *client;

  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&client))
    {
      GHashTableIter roots_iter;
      gpointer root;

      g_hash_table_iter_init (&roots_iter, client->recursive);
      while (g_hash_table_iter_next (&roots_iter, &root, NULL))
        g_hash_table_add (roots, root);
    }

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sa{sv})"));
  for (GList *l = cgroups; l != NULL; l = l->next)
    {
      OwWatch *watch = g_hash_table_lookup (self->watches, l->data);
      gboolean root = g_hash_table_contains (roots, l->data);
      g_auto (GStrv) skipped = root ? skipped_below (self, l->data) : NULL;

      g_variant_builder_add_value (
          &builder,
          describe_watch (watch, hierarchy, root,
                          g_hash_table_contains (watch->watchers, OW_PERSISTENT_CLIENT),
                          (const char *const *)skipped));
    }
  return g_variant_builder_end (&builder);
}

gboolean
ow_registry_get_client_uid (OwRegistry *self, const char *name, guint32 *uid)
{
  OwClient *client = g_hash_table_lookup (self->clients, name);

  if (client == NULL)
    return FALSE;
  *uid = client->uid;
  return TRUE;
}

const OwSourceContext *
ow_registry_get_context (OwRegistry *self)
{
  return self->context;
}

OwWatch *
ow_registry_lookup (OwRegistry *self, const char *cgroup)
{
  return g_hash_table_lookup (self->watches, cgroup);
}

/* Read from the main loop, not from the caller's stack: what the sources find goes up to the
 * listener as any wake-up's events do. */
static gboolean
on_sync_idle (gpointer user_data)
{
  OwRegistry *self = user_data;
  g_autoptr (GHashTable) cgroups = g_steal_pointer (&self->to_sync);
  GHashTableIter iter;
  const char *cgroup;

  self->sync_idle_id = 0;
  self->to_sync = g_hash_table_new_full (ow_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_iter_init (&iter, cgroups);
  while (g_hash_table_iter_next (&iter, (gpointer *)&cgroup, NULL))
    {
      OwWatch *watch = g_hash_table_lookup (self->watches, cgroup);

      if (watch != NULL && watch->source != NULL)
        ow_source_sync (watch->source); /* may drop the watch: nothing after this */
    }
  return G_SOURCE_REMOVE;
}

void
ow_registry_sync_soon (OwRegistry *self, const char *cgroup)
{
  if (!g_hash_table_contains (self->watches, cgroup))
    return;
  g_hash_table_add (self->to_sync, g_strdup (cgroup));
  if (self->sync_idle_id == 0)
    self->sync_idle_id = g_idle_add (on_sync_idle, self);
}

guint
ow_registry_count (OwRegistry *self)
{
  return g_hash_table_size (self->watches);
}
