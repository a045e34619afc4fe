#include "ow-registry.h"
#include "ow-kmsg.h"
#include "oomwatch-error.h"
#include "oomwatch-names.h"

#include <string.h>

struct _OwRegistry
{
  OwHierarchy *hierarchy; /* borrowed */
  OwLimits limits;
  const OwRegistryCallbacks *callbacks;
  gpointer user_data;
  GHashTable *watches; /* canonical cgroup → OwWatch */
  GHashTable *clients; /* client name → OwClient */
};

/* A connection that holds watches, or is being given its first. It watches a cgroup when it
 * asked for it (plain), or when the cgroup is in the subtree of one of its recursive roots. */
typedef struct
{
  gboolean uid_known;
  guint32 uid;
  GHashTable *cgroups;   /* every cgroup it watches now */
  GHashTable *plain;     /* asked for one by one */
  GHashTable *recursive; /* roots of recursive watches */
} OwClient;

static void
client_free (gpointer data)
{
  OwClient *client = data;

  g_hash_table_unref (client->cgroups);
  g_hash_table_unref (client->plain);
  g_hash_table_unref (client->recursive);
  g_free (client);
}

static GHashTable *
string_set_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static OwClient *
ensure_client (OwRegistry *self, const char *name)
{
  OwClient *client = g_hash_table_lookup (self->clients, name);

  if (client == NULL)
    {
      client = g_new0 (OwClient, 1);
      client->cgroups = string_set_new ();
      client->plain = string_set_new ();
      client->recursive = string_set_new ();
      g_hash_table_insert (self->clients, g_strdup (name), client);
    }
  return client;
}

static void
forget_client_if_idle (OwRegistry *self, const char *name)
{
  OwClient *client = g_hash_table_lookup (self->clients, name);

  if (client != NULL && g_hash_table_size (client->cgroups) == 0
      && g_hash_table_size (client->recursive) == 0)
    g_hash_table_remove (self->clients, name);
}

static gboolean
covered_by_recursive (OwClient *client, const char *cgroup)
{
  GHashTableIter iter;
  const char *root;

  g_hash_table_iter_init (&iter, client->recursive);
  while (g_hash_table_iter_next (&iter, (gpointer *) &root, NULL))
    if (strcmp (root, cgroup) == 0 || ow_cgroup_is_below (cgroup, root))
      return TRUE;
  return FALSE;
}

static gboolean
client_wants (OwClient *client, const char *cgroup)
{
  return g_hash_table_contains (client->plain, cgroup) || covered_by_recursive (client, cgroup);
}

/* Source callbacks */

static void
on_source_event (const OwEvent *event, gpointer user_data)
{
  OwWatch *watch = user_data;
  OwRegistry *self = watch->owner;

  ow_watch_count (watch, event);
  self->callbacks->event (watch, event, self->user_data);
}

static void remove_watch (OwRegistry *self, const char *cgroup);

static void
on_source_removed (gpointer user_data)
{
  OwWatch *watch = user_data;
  OwRegistry *self = watch->owner;
  g_autofree char *cgroup = g_strdup (watch->cgroup);
  GHashTableIter iter;
  const char *name;
  OwClient *client;

  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, (gpointer *) &name, (gpointer *) &client))
    {
      g_hash_table_remove (client->cgroups, cgroup);
      g_hash_table_remove (client->plain, cgroup);
      g_hash_table_remove (client->recursive, cgroup);
      if (g_hash_table_size (client->cgroups) == 0 && g_hash_table_size (client->recursive) == 0)
        g_hash_table_iter_remove (&iter);
    }
  remove_watch (self, cgroup);
  self->callbacks->removed (cgroup, self->user_data);
}

static const OwSourceCallbacks source_callbacks = {
  .event = on_source_event,
  .removed = on_source_removed,
};

/* Watches and watchers */

static void
remove_watch (OwRegistry *self, const char *cgroup)
{
  OwWatch *watch = g_hash_table_lookup (self->watches, cgroup);

  if (watch == NULL)
    return;
  if (watch->children_watched)
    ow_hierarchy_unwatch_children (self->hierarchy, cgroup);
  g_debug ("%s: closing the registration", cgroup);
  if (self->callbacks->dropped != NULL) /* nogaps hook */
    self->callbacks->dropped (cgroup, self->user_data);
  g_hash_table_remove (self->watches, cgroup); /* frees the source */
}

static void
drop_watcher (OwRegistry *self, const char *cgroup, const char *name)
{
  OwWatch *watch = g_hash_table_lookup (self->watches, cgroup);
  OwClient *client = g_hash_table_lookup (self->clients, name);

  if (client != NULL)
    g_hash_table_remove (client->cgroups, cgroup);
  if (watch == NULL)
    return;
  g_hash_table_remove (watch->watchers, name);
  if (g_hash_table_size (watch->watchers) == 0)
    remove_watch (self, cgroup);
}

static gboolean
add_watcher (OwRegistry *self, const char *name, const char *cgroup, GError **error)
{
  OwClient *client = g_hash_table_lookup (self->clients, name);
  OwWatch *watch = g_hash_table_lookup (self->watches, cgroup);

  if (watch == NULL)
    {
      g_autoptr (OwWatch) created = ow_watch_new (cgroup, self);

      created->source = ow_hierarchy_create_source (self->hierarchy, cgroup, &source_callbacks,
                                                    created, error);
      if (created->source == NULL)
        return FALSE;
      g_debug ("%s: registered with the kernel", cgroup);
      watch = g_steal_pointer (&created);
      g_hash_table_insert (self->watches, watch->cgroup, watch);
      if (self->callbacks->created != NULL) /* nogaps hook */
        self->callbacks->created (watch, self->user_data);
    }
  g_hash_table_add (watch->watchers, g_strdup (name));
  g_hash_table_add (client->cgroups, g_strdup (cgroup));
  return TRUE;
}

static gboolean
check_limits (OwRegistry *self, OwClient *client, const char *name, const char *cgroup,
              GPtrArray *wanted, GError **error)
{
  guint new_for_client = 0, new_watches = 0;

  for (guint i = 0; i < wanted->len; i++)
    {
      const char *c = g_ptr_array_index (wanted, i);

      new_for_client += !g_hash_table_contains (client->cgroups, c);
      new_watches += !g_hash_table_contains (self->watches, c);
    }
  if (client->uid != 0
      && g_hash_table_size (client->cgroups) + new_for_client > self->limits.client_watch_limit)
    {
      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_LIMIT_EXCEEDED,
                   "Cannot watch '%s' (%u cgroups): connection %s already holds %u watches, "
                   "the limit for callers that are not root is %u",
                   cgroup, wanted->len, name, g_hash_table_size (client->cgroups),
                   self->limits.client_watch_limit);
      return FALSE;
    }
  if (g_hash_table_size (self->watches) + new_watches > self->limits.total_watch_limit)
    {
      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_LIMIT_EXCEEDED,
                   "Cannot watch '%s' (%u cgroups): the daemon already watches %u cgroups, its "
                   "limit is %u",
                   cgroup, wanted->len, g_hash_table_size (self->watches),
                   self->limits.total_watch_limit);
      return FALSE;
    }
  return TRUE;
}

/* CGROUP and every cgroup below it, parents first. A child that cannot be listed (removed
 * meanwhile) is skipped; CGROUP itself must be there. */
static GPtrArray *
list_subtree (OwRegistry *self, const char *cgroup, GError **error)
{
  g_autoptr (GPtrArray) subtree = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) top = ow_hierarchy_list_children (self->hierarchy, cgroup, error);

  if (top == NULL)
    return NULL;
  g_ptr_array_add (subtree, g_strdup (cgroup));
  for (guint i = 0; i < top->len; i++)
    g_ptr_array_add (subtree, g_strdup (g_ptr_array_index (top, i)));
  for (guint i = 1; i < subtree->len; i++)
    {
      g_autoptr (GPtrArray) children =
          ow_hierarchy_list_children (self->hierarchy, g_ptr_array_index (subtree, i), NULL);

      for (guint j = 0; children != NULL && j < children->len; j++)
        g_ptr_array_add (subtree, g_strdup (g_ptr_array_index (children, j)));
    }
  return g_steal_pointer (&subtree);
}

static gboolean
follow_children (OwRegistry *self, const char *cgroup, GError **error)
{
  OwWatch *watch = g_hash_table_lookup (self->watches, cgroup);

  if (watch == NULL || watch->children_watched)
    return TRUE;
  if (!ow_hierarchy_watch_children (self->hierarchy, cgroup, error))
    return FALSE;
  watch->children_watched = TRUE;
  return TRUE;
}

/* Adds every cgroup of WANTED to CLIENT, all or none. With FOLLOW, also follows each one's
 * new children. v2 cgroups below a parent without the memory controller are not memory
 * cgroups: in a subtree they are skipped, not an error. */
static gboolean
add_all (OwRegistry *self, const char *name, GPtrArray *wanted, gboolean follow, GError **error)
{
  OwClient *client = g_hash_table_lookup (self->clients, name);
  g_autoptr (GPtrArray) added = g_ptr_array_new ();

  for (guint i = 0; i < wanted->len; i++)
    {
      const char *cgroup = g_ptr_array_index (wanted, i);
      g_autoptr (GError) local = NULL;

      if (g_hash_table_contains (client->cgroups, cgroup))
        {
          if (!follow || follow_children (self, cgroup, &local))
            continue;
        }
      else if (add_watcher (self, name, cgroup, &local))
        {
          g_ptr_array_add (added, (gpointer) cgroup);
          if (!follow || follow_children (self, cgroup, &local))
            continue;
        }
      if (i > 0 && (g_error_matches (local, OOMWATCH_ERROR, OOMWATCH_ERROR_INVALID_CGROUP)
                    || g_error_matches (local, OOMWATCH_ERROR, OOMWATCH_ERROR_NO_SUCH_CGROUP)))
        continue;
      for (guint j = 0; j < added->len; j++)
        drop_watcher (self, g_ptr_array_index (added, j), name);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  return TRUE;
}

gboolean
ow_registry_watch (OwRegistry *self, const char *name, const char *cgroup, gboolean recursive,
                   GError **error)
{
  OwClient *client = ensure_client (self, name);
  g_autoptr (GPtrArray) wanted = NULL;
  gboolean ok;

  if (g_hash_table_contains (recursive ? client->recursive : client->plain, cgroup))
    return TRUE;
  if (recursive)
    wanted = list_subtree (self, cgroup, error);
  else
    {
      wanted = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (wanted, g_strdup (cgroup));
    }
  ok = wanted != NULL && check_limits (self, client, name, cgroup, wanted, error)
       && add_all (self, name, wanted, recursive, error);
  if (ok)
    g_hash_table_add (recursive ? client->recursive : client->plain, g_strdup (cgroup));
  forget_client_if_idle (self, name);
  return ok;
}

gboolean
ow_registry_unwatch (OwRegistry *self, const char *name, const char *cgroup, GError **error)
{
  OwClient *client = g_hash_table_lookup (self->clients, name);
  g_autofree GStrv watched = NULL;

  if (client == NULL
      || (!g_hash_table_remove (client->recursive, cgroup)
          && !g_hash_table_remove (client->plain, cgroup)))
    {
      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NOT_WATCHED,
                   "Cgroup '%s' is not watched by this connection (%s)", cgroup, name);
      return FALSE;
    }
  watched = (GStrv) g_hash_table_get_keys_as_array (client->cgroups, NULL);
  for (gsize i = 0; watched[i] != NULL; i++)
    {
      g_autofree char *c = g_strdup (watched[i]);

      if ((strcmp (c, cgroup) == 0 || ow_cgroup_is_below (c, cgroup)) && !client_wants (client, c))
        drop_watcher (self, c, name);
    }
  forget_client_if_idle (self, name);
  return TRUE;
}

void
ow_registry_drop_client (OwRegistry *self, const char *name)
{
  OwClient *client = g_hash_table_lookup (self->clients, name);
  g_autofree GStrv watched = NULL;

  if (client == NULL)
    return;
  g_debug ("client %s went away, dropping its %u watches", name,
           g_hash_table_size (client->cgroups));
  watched = (GStrv) g_hash_table_get_keys_as_array (client->cgroups, NULL);
  for (gsize i = 0; watched[i] != NULL; i++)
    {
      g_autofree char *c = g_strdup (watched[i]);

      drop_watcher (self, c, name);
    }
  g_hash_table_remove (self->clients, name);
}

/* A new directory appeared in a followed cgroup: give it (and anything already below it) to
 * every client whose recursive watch covers it. */
static void
on_cgroup_created (const char *cgroup, gpointer user_data)
{
  OwRegistry *self = user_data;
  g_autofree GStrv names = (GStrv) g_hash_table_get_keys_as_array (self->clients, NULL);

  for (gsize i = 0; names[i] != NULL; i++)
    {
      OwClient *client = g_hash_table_lookup (self->clients, names[i]);
      g_autoptr (GPtrArray) wanted = NULL;
      g_autoptr (GError) error = NULL;

      if (client == NULL || !covered_by_recursive (client, cgroup)
          || g_hash_table_contains (client->cgroups, cgroup))
        continue;
      wanted = list_subtree (self, cgroup, &error);
      if (wanted == NULL || !check_limits (self, client, names[i], cgroup, wanted, &error)
          || !add_all (self, names[i], wanted, TRUE, &error))
        {
          if (!g_error_matches (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NO_SUCH_CGROUP))
            g_warning ("Not following new cgroup %s for %s: %s", cgroup, names[i],
                       error->message);
          continue;
        }
      g_debug ("%s: new cgroup, watched for %s", cgroup, names[i]);
    }
}

gboolean
ow_registry_get_client_uid (OwRegistry *self, const char *name, guint32 *uid)
{
  OwClient *client = g_hash_table_lookup (self->clients, name);

  if (client == NULL || !client->uid_known)
    return FALSE;
  *uid = client->uid;
  return TRUE;
}

void
ow_registry_set_client_uid (OwRegistry *self, const char *name, guint32 uid)
{
  OwClient *client = ensure_client (self, name);

  client->uid = uid;
  client->uid_known = TRUE;
}

void
ow_registry_set_limits (OwRegistry *self, const OwLimits *limits)
{
  self->limits = *limits;
}

/* Makes the configuration's watches exactly PLAIN and RECURSIVE (canonical paths). One that
 * cannot be set up (no such cgroup yet) is logged and left out. */
static void
reconcile (OwRegistry *self, gboolean recursive, const char *const *wanted)
{
  OwClient *client = g_hash_table_lookup (self->clients, OW_PERSISTENT_CLIENT);
  g_autofree GStrv held = NULL;

  if (client != NULL)
    {
      held = (GStrv) g_hash_table_get_keys_as_array (recursive ? client->recursive : client->plain,
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

      ow_registry_set_client_uid (self, OW_PERSISTENT_CLIENT, 0);
      if (!ow_registry_watch (self, OW_PERSISTENT_CLIENT, wanted[i], recursive, &error))
        g_warning ("Persistent watch of %s: %s", wanted[i], error != NULL ? error->message : "failed");
    }
}

void
ow_registry_set_persistent (OwRegistry *self, const char *const *plain,
                            const char *const *recursive)
{
  reconcile (self, FALSE, plain);
  reconcile (self, TRUE, recursive);
  forget_client_if_idle (self, OW_PERSISTENT_CLIENT);
}

OwWatch *
ow_registry_lookup (OwRegistry *self, const char *cgroup)
{
  return g_hash_table_lookup (self->watches, cgroup);
}

guint
ow_registry_count (OwRegistry *self)
{
  return g_hash_table_size (self->watches);
}

/* ListWatches: a(sa{sv}), sorted by cgroup. */
GVariant *
ow_registry_describe (OwRegistry *self)
{
  g_autoptr (GList) cgroups = g_list_sort (g_hash_table_get_keys (self->watches),
                                           (GCompareFunc) g_strcmp0);
  g_autoptr (GHashTable) roots = g_hash_table_new (g_str_hash, g_str_equal);
  guint hierarchy = ow_hierarchy_get_version (self->hierarchy);
  GVariantBuilder builder;
  GHashTableIter iter;
  OwClient *client;

  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &client))
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

      g_variant_builder_add_value (
          &builder, ow_watch_describe (watch, hierarchy, g_hash_table_contains (roots, l->data),
                                       g_hash_table_contains (watch->watchers,
                                                              OW_PERSISTENT_CLIENT)));
    }
  return g_variant_builder_end (&builder);
}

OwRegistry *
ow_registry_new (OwHierarchy *hierarchy,
                 const OwLimits *limits,
                 const OwRegistryCallbacks *callbacks,
                 gpointer user_data)
{
  OwRegistry *self = g_new0 (OwRegistry, 1);

  self->hierarchy = hierarchy;
  self->limits = *limits;
  self->callbacks = callbacks;
  self->user_data = user_data;
  self->watches = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) ow_watch_free);
  self->clients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, client_free);
  ow_hierarchy_set_created_func (hierarchy, on_cgroup_created, self);
  return self;
}

void
ow_registry_free (OwRegistry *self)
{
  GHashTableIter iter;
  OwWatch *watch;

  if (self == NULL)
    return;
  ow_hierarchy_set_created_func (self->hierarchy, NULL, NULL);
  g_hash_table_iter_init (&iter, self->watches);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &watch))
    if (watch->children_watched)
      ow_hierarchy_unwatch_children (self->hierarchy, watch->cgroup);
  /* Freeing the watches closes every kernel registration. */
  g_hash_table_unref (self->watches);
  g_hash_table_unref (self->clients);
  g_free (self);
}
