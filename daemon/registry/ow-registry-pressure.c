/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The registry's side of memory pressure and memory.events high/max: what each
 * client asked for with each Watch (plain or recursive root), applied to every cgroup the
 * watch covers, and its cost against the limits: a cgroup with pressure armed counts twice
 * for its uid (the watch and the pressure), and every pressure fd counts towards the daemon's
 * total, like a watch's own fd. */
#include "ow-registry-private.h"
#include "oomwatch-cgroup.h"

static char *
ask_key (const char *cgroup, gboolean recursive)
{
  return g_strconcat (recursive ? "r" : "p", cgroup, NULL);
}

void
ow_registry_remember_ask (OwClient *client, const char *cgroup, gboolean recursive,
                          const OwWatchAsk *ask)
{
  if (ask == NULL || (ask->pressure == OW_PRESSURE_NONE && ask->events == 0))
    ow_registry_forget_ask (client, cgroup, recursive);
  else
    g_hash_table_insert (client->asks, ask_key (cgroup, recursive), ow_watch_ask_pack (ask));
}

void
ow_registry_forget_ask (OwClient *client, const char *cgroup, gboolean recursive)
{
  g_autofree char *key = ask_key (cgroup, recursive);

  g_hash_table_remove (client->asks, key);
}

/* Unwatch drops the recursive watch of CGROUP first, if any, else the plain one. */
void
ow_registry_forget_unwatched_ask (OwClient *client, const char *cgroup)
{
  if (client != NULL)
    ow_registry_forget_ask (client, cgroup, g_hash_table_contains (client->recursive, cgroup));
}

/* What CLIENT asks for on CGROUP: its plain watch of it and every recursive watch above. */
static void
ask_for (OwClient *client, const char *cgroup, OwWatchAsk *ask)
{
  GHashTableIter iter;
  const char *key;
  gpointer packed;

  ask->pressure = OW_PRESSURE_NONE;
  ask->events = 0;
  g_hash_table_iter_init (&iter, client->asks);
  while (g_hash_table_iter_next (&iter, (gpointer *)&key, &packed))
    if (key[0] == 'r' ? oomwatch_cgroup_is_at_or_below (cgroup, key + 1)
                      : g_str_equal (cgroup, key + 1))
      {
        OwWatchAsk one;

        ow_watch_ask_unpack (packed, &one);
        ow_watch_ask_merge (ask, &one);
      }
}

static void
on_pressure (const char *cgroup, const char *level, GPtrArray *watchers, GVariant *details,
             gpointer user_data)
{
  OwRegistry *self = user_data;

  if (self->listener->pressure != NULL)
    self->listener->pressure (cgroup, level, watchers, details, self->user_data);
  else
    g_variant_unref (g_variant_ref_sink (details));
}

static const OwPressureListener pressure_listener = {
  .report = on_pressure,
};

gboolean
ow_registry_apply_ask (OwRegistry *self, const char *cgroup, const char *name, GError **error)
{
  OwWatch *watch = g_hash_table_lookup (self->watches, cgroup);
  OwClient *client = g_hash_table_lookup (self->clients, name);
  OwWatchAsk ask;

  if (watch == NULL || client == NULL)
    return TRUE;
  ask_for (client, cgroup, &ask);
  if (watch->pressure == NULL && ask.pressure == OW_PRESSURE_NONE && ask.events == 0)
    return TRUE;
  if (watch->pressure == NULL)
    {
      watch->pressure = ow_pressure_new (self->context->hierarchy, self->context->mux, cgroup,
                                         &pressure_listener, self);
      g_hash_table_add (self->pressured, watch->cgroup);
    }
  return ow_pressure_set (watch->pressure, name, &ask, error);
}

/* A new watcher whose pressure the kernel refuses is not added at all. */
gboolean
ow_registry_apply_ask_or_drop (OwRegistry *self, const char *cgroup, const char *name,
                               GError **error)
{
  if (ow_registry_apply_ask (self, cgroup, name, error))
    return TRUE;
  ow_registry_drop_watcher (self, cgroup, name);
  return FALSE;
}

/* After an Unwatch: what NAME still watches at or below BELOW gets what remains asked. */
void
ow_registry_reapply_asks (OwRegistry *self, const char *name, const char *below)
{
  OwClient *client = g_hash_table_lookup (self->clients, name);
  g_autofree GStrv watched = NULL;

  if (client == NULL)
    return;
  watched = (GStrv)g_hash_table_get_keys_as_array (client->cgroups, NULL);
  for (gsize i = 0; watched[i] != NULL; i++)
    if (oomwatch_cgroup_is_at_or_below (watched[i], below))
      ow_registry_apply_ask (self, watched[i], name, NULL); /* disarming only: cannot fail */
}

void
ow_registry_forget_pressure (OwWatch *watch, const char *name)
{
  const OwWatchAsk none = { 0 };

  if (watch->pressure != NULL)
    ow_pressure_set (watch->pressure, name, &none, NULL); /* disarming cannot fail */
}

/* Pressure units UID holds, with the asks now remembered (a cgroup with pressure: one). */
static guint
held_units (OwRegistry *self, guint32 uid)
{
  GHashTableIter iter;
  OwClient *client;
  guint units = 0;

  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&client))
    {
      GHashTableIter cgroups;
      const char *cgroup;

      if (client->uid != uid || g_hash_table_size (client->asks) == 0)
        continue;
      g_hash_table_iter_init (&cgroups, client->cgroups);
      while (g_hash_table_iter_next (&cgroups, (gpointer *)&cgroup, NULL))
        {
          OwWatchAsk ask;

          ask_for (client, cgroup, &ask);
          units += ask.pressure != OW_PRESSURE_NONE;
        }
    }
  return units;
}

/* What CLIENT's uid holds and the daemon's pressure fds come to once WANTED is added. Root has
 * no per-uid limit: its units are not counted. */
void
ow_registry_pressure_costs (OwRegistry *self, OwClient *client, GPtrArray *wanted, guint *units,
                            guint *fds)
{
  GHashTableIter iter;
  const char *pressured;

  *units = client->uid != 0 ? held_units (self, client->uid) : 0;
  *fds = 0;
  g_hash_table_iter_init (&iter, self->pressured);
  while (g_hash_table_iter_next (&iter, (gpointer *)&pressured, NULL))
    {
      OwWatch *watch = g_hash_table_lookup (self->watches, pressured);

      *fds += ow_pressure_fd_count (watch->pressure);
    }
  for (guint i = 0; i < wanted->len; i++)
    {
      const char *cgroup = g_ptr_array_index (wanted, i);
      OwWatch *existing = g_hash_table_lookup (self->watches, cgroup);
      OwWatchAsk ask;

      ask_for (client, cgroup, &ask);
      if (ask.pressure == OW_PRESSURE_NONE)
        continue;
      *fds += ow_pressure_fds_needed (existing != NULL ? existing->pressure : NULL, &ask);
      *units += client->uid != 0 && !g_hash_table_contains (client->cgroups, cgroup);
    }
}

/* A second Watch of what CLIENT already watches, with other options: applied to every
 * cgroup the watch covers, within the limits; on failure the old asks stay. */
gboolean
ow_registry_change_ask (OwRegistry *self, const char *name, const char *cgroup, gboolean recursive,
                        const OwWatchAsk *ask, GError **error)
{
  OwClient *client = g_hash_table_lookup (self->clients, name);
  g_autofree char *key = ask_key (cgroup, recursive);
  gpointer old = g_hash_table_lookup (client->asks, key);
  g_autoptr (GPtrArray) covered = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  const char *c;

  g_hash_table_iter_init (&iter, client->cgroups);
  while (g_hash_table_iter_next (&iter, (gpointer *)&c, NULL))
    if (recursive ? oomwatch_cgroup_is_at_or_below (c, cgroup) : g_str_equal (c, cgroup))
      g_ptr_array_add (covered, g_strdup (c));
  ow_registry_remember_ask (client, cgroup, recursive, ask);
  for (guint i = 0; i < covered->len; i++)
    {
      /* Checked one by one: each may arm levels the next one's count depends on. */
      g_autoptr (GPtrArray) one = g_ptr_array_new ();

      g_ptr_array_add (one, g_ptr_array_index (covered, i));
      if (!ow_registry_check_limits (self, client, cgroup, one, NULL, error)
          || !ow_registry_apply_ask (self, g_ptr_array_index (covered, i), name, error))
        {
          if (old != NULL)
            g_hash_table_insert (client->asks, g_strdup (key), old);
          else
            g_hash_table_remove (client->asks, key);
          for (guint j = 0; j <= i; j++)
            ow_registry_apply_ask (self, g_ptr_array_index (covered, j), name, NULL);
          return FALSE;
        }
    }
  return TRUE;
}
