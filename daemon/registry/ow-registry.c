/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-registry-private.h"
#include "ow-str-intern.h"
#include "ow-str-hash.h"
#include "ow-container.h"
#include "oomwatch-cgroup.h"
#include "oomwatch-error.h"

#include <string.h>

static void
client_free (gpointer data)
{
  OwClient *client = data;

  g_hash_table_unref (client->cgroups);
  g_hash_table_unref (client->plain);
  g_hash_table_unref (client->recursive);
  g_hash_table_unref (client->asks);
  g_free (client);
}

/* Cgroup names held per client: the watch's own copy, shared (ow_str_intern). */
static GHashTable *
cgroup_set_new (void)
{
  return g_hash_table_new_full (ow_str_hash, g_str_equal, (GDestroyNotify)g_ref_string_release,
                                NULL);
}

OwClient *
ow_registry_ensure_client (OwRegistry *self, const char *name, guint32 uid)
{
  OwClient *client = g_hash_table_lookup (self->clients, name);

  if (client == NULL)
    {
      client = g_new0 (OwClient, 1);
      client->uid = uid;
      client->cgroups = cgroup_set_new (); /* cgroup → paid by its owner (ow-registry-charge.c) */
      client->plain = cgroup_set_new ();
      client->recursive = cgroup_set_new ();
      client->asks = g_hash_table_new_full (ow_str_hash, g_str_equal, g_free, NULL);
      g_hash_table_insert (self->clients, g_strdup (name), client);
    }
  return client;
}

void
ow_registry_forget_client_if_idle (OwRegistry *self, const char *name)
{
  OwClient *client = g_hash_table_lookup (self->clients, name);

  if (client != NULL && g_hash_table_size (client->cgroups) == 0
      && g_hash_table_size (client->recursive) == 0)
    g_hash_table_remove (self->clients, name);
}

gboolean
ow_registry_covered_by_recursive (OwClient *client, const char *cgroup)
{
  GHashTableIter iter;
  const char *root;

  g_hash_table_iter_init (&iter, client->recursive);
  while (g_hash_table_iter_next (&iter, (gpointer *)&root, NULL))
    if (oomwatch_cgroup_is_at_or_below (cgroup, root))
      return TRUE;
  return FALSE;
}

gboolean
ow_registry_client_wants (OwClient *client, const char *cgroup)
{
  return g_hash_table_contains (client->plain, cgroup)
         || ow_registry_covered_by_recursive (client, cgroup);
}

/* Watches and watchers */

void
ow_registry_remove_watch (OwRegistry *self, const char *cgroup)
{
  OwWatch *watch = g_hash_table_lookup (self->watches, cgroup);

  if (watch == NULL)
    return;
  if (watch->children_followed)
    ow_cgroup_monitor_unfollow_children (self->monitor, cgroup);
  if (watch->removal_watched)
    ow_cgroup_monitor_unwatch_removal (self->monitor, cgroup);
  g_debug ("%s: closing the registration", cgroup);
  g_hash_table_remove (self->pressured, watch->cgroup);
  if (self->listener->dropped != NULL)
    self->listener->dropped (cgroup, self->user_data);
  /* Kills told on its ancestors after it went still name it. */
  ow_container_names_remember (self->context->container_names, cgroup,
                               ow_watch_steal_container (watch));
  g_hash_table_remove (self->watches, cgroup); /* frees the source */
}

void
ow_registry_drop_watcher (OwRegistry *self, const char *cgroup, const char *name)
{
  OwWatch *watch = g_hash_table_lookup (self->watches, cgroup);
  OwClient *client = g_hash_table_lookup (self->clients, name);

  if (client != NULL)
    ow_registry_client_remove_cgroup (self, client, cgroup);
  if (watch == NULL)
    return;
  g_hash_table_remove (watch->watchers, name);
  ow_registry_forget_pressure (watch, name);
  if (g_hash_table_size (watch->watchers) == 0)
    {
      g_autofree char *parent = oomwatch_cgroup_parent (cgroup);

      ow_registry_remove_watch (self, cgroup);
      ow_registry_ledger_close (self, parent, "a child is no longer watched");
    }
}

static gboolean
add_watcher (OwRegistry *self, OwClient *client, const char *name, const char *cgroup,
             GHashTable *payers, OwSourceBaseline baseline, GPtrArray *created, GError **error)
{
  OwWatch *watch = g_hash_table_lookup (self->watches, cgroup);

  if (watch == NULL)
    {
      g_autoptr (OwWatch) made = ow_watch_new (cgroup);
      OwSourceFactory factory = self->context->factory;

      made->source
          = factory (self->context, cgroup, baseline, &ow_registry_source_listener, self, error);
      if (made->source == NULL)
        return FALSE;
      made->container = ow_container_identify (self->context->hierarchy,
                                                self->context->container_names, cgroup);
      if (!ow_cgroup_monitor_watch_removal (self->monitor, cgroup, error))
        return FALSE;
      made->removal_watched = TRUE;
      /* GLib 2.74 formats a message before it knows it drops it: per watch, that shows */
      if (!g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
        g_debug ("%s: registered with the kernel", cgroup);
      watch = g_steal_pointer (&made);
      g_hash_table_insert (self->watches, watch->cgroup, watch);
      g_ptr_array_add (created, g_strdup (cgroup));
      if (self->listener->created != NULL)
        self->listener->created (watch, self->user_data);
    }
  g_hash_table_add (watch->watchers, g_ref_string_new_intern (name));
  ow_registry_charge (self, client, cgroup, payers);
  return ow_registry_apply_ask_or_drop (self, cgroup, name, error);
}

gboolean
ow_registry_check_limits (OwRegistry *self, OwClient *client, const char *cgroup, GPtrArray *wanted,
                          GHashTable *payers, GError **error)
{
  guint new_for_client, new_watches; /* from pressure fds first (ow-registry-pressure.c) */
  guint held = ow_registry_count_for_uid (self, client->uid);

  ow_registry_pressure_costs (self, client, wanted, &new_for_client, &new_watches);

  for (guint i = 0; i < wanted->len; i++)
    {
      const char *c = g_ptr_array_index (wanted, i);

      new_for_client += !g_hash_table_contains (client->cgroups, c)
                        && (payers == NULL || !g_hash_table_contains (payers, c));
      new_watches += !g_hash_table_contains (self->watches, c);
    }
  if (client->uid != 0 && held + new_for_client > self->limits.client_watch_limit)
    {
      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_LIMIT_EXCEEDED,
                   "Cannot watch '%s' (%u cgroups): uid %u already holds %u watches, the limit "
                   "for callers that are not root is %u (memory pressure counts twice)",
                   cgroup, wanted->len, client->uid, held, self->limits.client_watch_limit);
      return FALSE;
    }
  if (g_hash_table_size (self->watches) + new_watches > self->limits.total_watch_limit)
    {
      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_LIMIT_EXCEEDED,
                   "Cannot watch '%s' (%u cgroups): the daemon already watches %u cgroups, its "
                   "limit is %u (a memory pressure fd counts as a watch)",
                   cgroup, wanted->len, g_hash_table_size (self->watches),
                   self->limits.total_watch_limit);
      return FALSE;
    }
  return TRUE;
}

/* CGROUP and every cgroup below it, parents first. The walk stops as soon as the subtree is
 * larger than CLIENT could be given, so a refused call costs little. A child that cannot be
 * listed (removed meanwhile) is skipped; CGROUP itself must be there. */
GPtrArray *
ow_registry_walk_subtree (OwRegistry *self, OwClient *client, const char *cgroup, GError **error)
{
  g_autoptr (GPtrArray) subtree = g_ptr_array_new_with_free_func (g_free);
  guint cap = (client->uid == 0 ? self->limits.total_watch_limit : self->limits.client_watch_limit)
              + g_hash_table_size (client->cgroups);

  g_ptr_array_add (subtree, g_strdup (cgroup));
  for (guint i = 0; i < subtree->len; i++)
    {
      g_autoptr (GError) local = NULL;
      g_autoptr (GPtrArray) children = ow_hierarchy_list_children (
          self->context->hierarchy, g_ptr_array_index (subtree, i), &local);

      if (children == NULL && i == 0)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      for (guint j = 0; children != NULL && j < children->len; j++)
        g_ptr_array_add (subtree, g_strdup (g_ptr_array_index (children, j)));
      if (subtree->len > cap)
        {
          g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_LIMIT_EXCEEDED,
                       "Cannot watch '%s' recursively: it holds more than %u cgroups, more "
                       "than this caller may watch",
                       cgroup, cap);
          return NULL;
        }
    }
  return g_steal_pointer (&subtree);
}

static gboolean
follow_children (OwRegistry *self, const char *cgroup, GError **error)
{
  OwWatch *watch = g_hash_table_lookup (self->watches, cgroup);

  if (watch == NULL || watch->children_followed)
    return TRUE;
  if (!ow_cgroup_monitor_follow_children (self->monitor, cgroup, error))
    return FALSE;
  watch->children_followed = TRUE;
  return TRUE;
}

/* Below the root of a recursive watch, some cgroups are not ours to watch: not memory cgroups
 * (v2), gone meanwhile, or delegated to a user whose registration file the daemon may not
 * write (v1). They are left out (the last kind listed as skipped), not fatal to the rest. */
gboolean
ow_registry_skippable (OwRegistry *self, const char *cgroup, const GError *error)
{
  if (g_error_matches (error, OOMWATCH_ERROR, OOMWATCH_ERROR_PERMISSION_DENIED))
    {
      ow_registry_skip (self, cgroup, ow_registry_owner_of (self, cgroup), error->message);
      return TRUE;
    }
  return g_error_matches (error, OOMWATCH_ERROR, OOMWATCH_ERROR_INVALID_CGROUP)
         || g_error_matches (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NO_SUCH_CGROUP);
}

/* Adds every cgroup of WANTED to CLIENT, all or none. With FOLLOW, also follows each one's
 * new children. New sources report what their baseline leaves to report once all is set. */
gboolean
ow_registry_add_all (OwRegistry *self, const char *name, GPtrArray *wanted, GHashTable *payers,
                     gboolean follow, OwSourceBaseline baseline, GError **error)
{
  OwClient *client = g_hash_table_lookup (self->clients, name);
  g_autoptr (GPtrArray) added = g_ptr_array_new ();
  g_autoptr (GPtrArray) created = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < wanted->len; i++)
    {
      const char *cgroup = g_ptr_array_index (wanted, i);
      g_autoptr (GError) local = NULL;

      if (g_hash_table_contains (client->cgroups, cgroup))
        {
          if (ow_registry_apply_ask (self, cgroup, name, &local)
              && (!follow || follow_children (self, cgroup, &local)))
            continue;
        }
      else if (add_watcher (self, client, name, cgroup, payers, baseline, created, &local))
        {
          g_ptr_array_add (added, (gpointer)cgroup);
          if (!follow || follow_children (self, cgroup, &local))
            continue;
        }
      if (i > 0 && ow_registry_skippable (self, cgroup, local))
        continue;
      for (guint j = 0; j < added->len; j++)
        ow_registry_drop_watcher (self, g_ptr_array_index (added, j), name);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  /* A sync may find its cgroup gone and drop it: look each one up again. */
  for (guint i = 0; i < created->len; i++)
    {
      OwWatch *watch = g_hash_table_lookup (self->watches, g_ptr_array_index (created, i));

      if (watch != NULL)
        ow_source_sync (watch->source);
    }
  return TRUE;
}

gboolean
ow_registry_watch_full (OwRegistry *self, const char *name, guint32 uid, const char *cgroup,
                        gboolean recursive, const OwWatchAsk *ask, GError **error)
{
  OwClient *client = ow_registry_ensure_client (self, name, uid);
  g_autoptr (GPtrArray) wanted = NULL;
  g_autoptr (GHashTable) payers = NULL;
  gboolean ok;

  if (g_hash_table_contains (recursive ? client->recursive : client->plain, cgroup))
    return ow_registry_change_ask (self, name, cgroup, recursive, ask, error);
  ow_registry_remember_ask (client, cgroup, recursive, ask);
  if (recursive && (wanted = ow_registry_walk_subtree (self, client, cgroup, error)) != NULL)
    payers = ow_registry_plan_payers (self, client, wanted, 1);
  else if (!recursive)
    {
      wanted = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (wanted, g_strdup (cgroup));
    }
  ok = wanted != NULL && ow_registry_check_limits (self, client, cgroup, wanted, payers, error)
       && ow_registry_add_all (self, name, wanted, payers, recursive, OW_SOURCE_BASELINE_NOW,
                               error);
  /* The syncs at the end of add_all may have dropped the cgroup (removed meanwhile). */
  if (ok && (client = g_hash_table_lookup (self->clients, name)) != NULL
      && g_hash_table_contains (client->cgroups, cgroup))
    g_hash_table_add (recursive ? client->recursive : client->plain,
                      ow_str_intern (cgroup));
  else if ((client = g_hash_table_lookup (self->clients, name)) != NULL)
    ow_registry_forget_ask (client, cgroup, recursive);
  ow_registry_forget_client_if_idle (self, name);
  return ok;
}

gboolean
ow_registry_unwatch (OwRegistry *self, const char *name, const char *cgroup, GError **error)
{
  OwClient *client = g_hash_table_lookup (self->clients, name);
  g_autofree GStrv watched = NULL;

  ow_registry_forget_unwatched_ask (client, cgroup);
  if (client == NULL
      || (!g_hash_table_remove (client->recursive, cgroup)
          && !g_hash_table_remove (client->plain, cgroup)))
    {
      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NOT_WATCHED,
                   "Cgroup '%s' is not watched by this connection (%s)", cgroup, name);
      return FALSE;
    }
  watched = (GStrv)g_hash_table_get_keys_as_array (client->cgroups, NULL);
  for (gsize i = 0; watched[i] != NULL; i++)
    {
      g_autofree char *c = g_strdup (watched[i]);

      if (oomwatch_cgroup_is_at_or_below (c, cgroup) && !ow_registry_client_wants (client, c))
        ow_registry_drop_watcher (self, c, name);
    }
  ow_registry_reapply_asks (self, name, cgroup);
  ow_registry_forget_client_if_idle (self, name);
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
  watched = (GStrv)g_hash_table_get_keys_as_array (client->cgroups, NULL);
  for (gsize i = 0; watched[i] != NULL; i++)
    {
      g_autofree char *c = g_strdup (watched[i]);

      ow_registry_drop_watcher (self, c, name);
    }
  g_hash_table_remove (self->clients, name);
}

void
ow_registry_set_limits (OwRegistry *self, const OwLimits *limits)
{
  self->limits = *limits;
}

/* A watch and what the registry hung on it. */
static void
watch_free (OwWatch *watch)
{
  g_clear_pointer (&watch->pressure, ow_pressure_free);
  ow_watch_free (watch);
}

OwRegistry *
ow_registry_new (const OwSourceContext *context, const OwLimits *limits,
                 const OwRegistryListener *listener, gpointer user_data)
{
  OwRegistry *self = g_new0 (OwRegistry, 1);

  self->context = context;
  self->limits = *limits;
  self->listener = listener;
  self->user_data = user_data;
  self->watches
      = g_hash_table_new_full (ow_str_hash, g_str_equal, NULL, (GDestroyNotify)watch_free);
  self->to_sync = g_hash_table_new_full (ow_str_hash, g_str_equal, g_free, NULL);
  self->clients = g_hash_table_new_full (ow_str_hash, g_str_equal, g_free, client_free);
  self->uid_counts = g_hash_table_new (g_direct_hash, g_direct_equal);
  self->paid = g_hash_table_new_full (ow_str_hash, g_str_equal, g_free, g_free);
  self->skipped = g_hash_table_new_full (ow_str_hash, g_str_equal, g_free, NULL);
  self->skipped_counts = g_hash_table_new (g_direct_hash, g_direct_equal);
  self->log_limit = ow_log_limit_new ();
  self->pressured = g_hash_table_new (ow_str_hash, g_str_equal);
  self->monitor = ow_cgroup_monitor_new (context->hierarchy, &ow_registry_monitor_listener, self);
  return self;
}

void
ow_registry_free (OwRegistry *self)
{
  if (self == NULL)
    return;
  /* Freeing the watches closes every kernel registration; the monitor goes after them. */
  g_clear_handle_id (&self->sync_idle_id, g_source_remove);
  g_hash_table_unref (self->to_sync);
  g_hash_table_unref (self->clients);
  g_hash_table_unref (self->pressured);
  g_hash_table_unref (self->watches);
  g_clear_pointer (&self->monitor, ow_cgroup_monitor_free);
  g_hash_table_unref (self->uid_counts);
  g_hash_table_unref (self->paid);
  g_hash_table_unref (self->skipped);
  g_hash_table_unref (self->skipped_counts);
  ow_log_limit_free (self->log_limit);
  g_free (self);
}
