/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-pressure.h"
#include "ow-str-hash.h"
#include "ow-pressure-source.h"
#include "oomwatch-names.h"

#include <string.h>
#include <unistd.h>

struct _OwPressure
{
  OwHierarchy *hierarchy; /* borrowed */
  OwFdMux *mux;           /* borrowed */
  const OwPressureListener *listener;
  gpointer user_data;
  char *cgroup;
  GHashTable *asks;                                    /* watcher name → packed OwWatchAsk */
  OwPressureSource *sources[OW_PRESSURE_N_LEVELS + 1]; /* by level; [0] unused */
};

OwPressure *
ow_pressure_new (OwHierarchy *hierarchy, OwFdMux *mux, const char *cgroup,
                 const OwPressureListener *listener, gpointer user_data)
{
  OwPressure *self = g_new0 (OwPressure, 1);

  self->hierarchy = hierarchy;
  self->mux = mux;
  self->listener = listener;
  self->user_data = user_data;
  self->cgroup = g_strdup (cgroup);
  self->asks = g_hash_table_new_full (ow_str_hash, g_str_equal, g_free, NULL);
  return self;
}

void
ow_pressure_free (OwPressure *self)
{
  if (self == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (self->sources); i++)
    g_clear_pointer (&self->sources[i], ow_pressure_source_free);
  g_hash_table_unref (self->asks);
  g_free (self->cgroup);
  g_free (self);
}

void
ow_pressure_get (OwPressure *self, const char *name, OwWatchAsk *ask)
{
  gpointer packed = self != NULL ? g_hash_table_lookup (self->asks, name) : NULL;

  ask->pressure = OW_PRESSURE_NONE;
  ask->events = 0;
  if (packed != NULL)
    ow_watch_ask_unpack (packed, ask);
}

/* The lowest level any watcher asks for, NAME's ask counted as ASK (NULL: as it is). */
static OwPressureLevel
lowest_level (OwPressure *self, const char *name, const OwWatchAsk *ask)
{
  OwWatchAsk all = { 0 };
  GHashTableIter iter;
  const char *watcher;
  gpointer packed;

  g_hash_table_iter_init (&iter, self->asks);
  while (g_hash_table_iter_next (&iter, (gpointer *)&watcher, &packed))
    if (ask == NULL || name == NULL || strcmp (watcher, name) != 0)
      {
        OwWatchAsk one;

        ow_watch_ask_unpack (packed, &one);
        ow_watch_ask_merge (&all, &one);
      }
  if (ask != NULL)
    ow_watch_ask_merge (&all, ask);
  return all.pressure;
}

static gboolean
level_armed_for (OwPressureLevel lowest, OwPressureLevel level)
{
  return lowest != OW_PRESSURE_NONE && level >= lowest;
}

guint
ow_pressure_fd_count (OwPressure *self)
{
  guint fds = 0;

  for (guint i = 0; self != NULL && i < G_N_ELEMENTS (self->sources); i++)
    fds += self->sources[i] != NULL;
  return fds;
}

guint
ow_pressure_fds_needed (OwPressure *self, const OwWatchAsk *ask)
{
  OwPressureLevel lowest = self != NULL ? lowest_level (self, NULL, ask) : ask->pressure;
  guint fds = 0;

  for (OwPressureLevel level = OW_PRESSURE_LOW; level <= OW_PRESSURE_CRITICAL; level++)
    fds += level_armed_for (lowest, level) && (self == NULL || self->sources[level] == NULL);
  return fds;
}

/* The PSI averages of memory.pressure, read through the trigger's own fd. */
static void
add_psi_averages (GVariantDict *details, int fd)
{
  char buf[512];
  ssize_t len = pread (fd, buf, sizeof buf - 1, 0);
  g_auto (GStrv) lines = NULL;

  if (len <= 0)
    return;
  buf[len] = '\0';
  lines = g_strsplit (buf, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      const char *avg = strstr (lines[i], "avg10=");
      double value;

      if (avg == NULL)
        continue;
      value = g_ascii_strtod (avg + strlen ("avg10="), NULL);
      if (g_str_has_prefix (lines[i], "some "))
        g_variant_dict_insert (details, OOMWATCH_KEY_SOME_AVG10, "d", value);
      else if (g_str_has_prefix (lines[i], "full "))
        g_variant_dict_insert (details, OOMWATCH_KEY_FULL_AVG10, "d", value);
    }
}

static void
on_level (OwPressureLevel level, int fd, gpointer user_data)
{
  OwPressure *self = user_data;
  guint version = ow_hierarchy_get_version (self->hierarchy);
  g_autoptr (GPtrArray) watchers = g_ptr_array_new ();
  g_auto (GVariantDict) details = G_VARIANT_DICT_INIT (NULL);
  GHashTableIter iter;
  const char *name;
  gpointer packed;

  /* The kernel fired the lower levels with this one (or this one with a higher): one report,
   * of the highest, and every level that fired keeps quiet for its period. */
  for (OwPressureLevel other = OW_PRESSURE_LOW; other <= OW_PRESSURE_CRITICAL; other++)
    if (other != level && self->sources[other] != NULL
        && ow_pressure_source_take_pending (self->sources[other]) && other > level)
      {
        level = other;
        fd = ow_pressure_source_get_fd (self->sources[other]);
      }
  /* Levels do not go down within a quiet period: PSI triggers have windows of their own, so
   * "low" may come just after "medium" for the same stall. */
  for (OwPressureLevel other = level + 1; other <= OW_PRESSURE_CRITICAL; other++)
    if (self->sources[other] != NULL && ow_pressure_source_is_quiet (self->sources[other]))
      return;
  g_hash_table_iter_init (&iter, self->asks);
  while (g_hash_table_iter_next (&iter, (gpointer *)&name, &packed))
    {
      OwWatchAsk ask;

      ow_watch_ask_unpack (packed, &ask);
      if (level_armed_for (ask.pressure, level))
        g_ptr_array_add (watchers, (gpointer)name);
    }
  g_variant_dict_insert (&details, OOMWATCH_KEY_TIMESTAMP, "t", (guint64)g_get_real_time ());
  g_variant_dict_insert (&details, OOMWATCH_KEY_HIERARCHY, "u", version);
  g_variant_dict_insert (&details, OOMWATCH_KEY_LEVEL_VALUE, "u", ow_pressure_level_value (level));
  if (version == 2)
    add_psi_averages (&details, fd);
  g_debug ("%s: memory pressure %s", self->cgroup, ow_pressure_level_to_string (level));
  self->listener->report (self->cgroup, ow_pressure_level_to_string (level), watchers,
                          g_variant_dict_end (&details), self->user_data);
}

static const OwPressureSourceListener source_listener = {
  .level = on_level,
};

/* Registers every level from LOWEST up, drops those below; all or nothing. */
static gboolean
arm (OwPressure *self, OwPressureLevel lowest, GError **error)
{
  OwPressureSource *made[OW_PRESSURE_N_LEVELS + 1] = { NULL };

  for (OwPressureLevel level = OW_PRESSURE_LOW; level <= OW_PRESSURE_CRITICAL; level++)
    if (level_armed_for (lowest, level) && self->sources[level] == NULL)
      {
        made[level]
            = ow_pressure_source_new (self->hierarchy, self->mux, self->cgroup, level,
                                      &source_listener, self, error);
        if (made[level] == NULL)
          {
            for (guint i = 0; i < G_N_ELEMENTS (made); i++)
              g_clear_pointer (&made[i], ow_pressure_source_free);
            return FALSE;
          }
      }
  for (OwPressureLevel level = OW_PRESSURE_LOW; level <= OW_PRESSURE_CRITICAL; level++)
    if (made[level] != NULL)
      self->sources[level] = made[level];
    else if (!level_armed_for (lowest, level))
      g_clear_pointer (&self->sources[level], ow_pressure_source_free);
  return TRUE;
}

gboolean
ow_pressure_set (OwPressure *self, const char *name, const OwWatchAsk *ask, GError **error)
{
  if (!arm (self, lowest_level (self, name, ask), error))
    return FALSE;
  if (ask->pressure == OW_PRESSURE_NONE && ask->events == 0)
    g_hash_table_remove (self->asks, name);
  else
    g_hash_table_insert (self->asks, g_strdup (name), ow_watch_ask_pack (ask));
  return TRUE;
}

gboolean
ow_pressure_wants_event (OwPressure *self, const char *name, OwEventKind kind)
{
  OwWatchAsk ask;

  ow_pressure_get (self, name, &ask);
  return (ask.events & OW_EVENT_KIND_BIT (kind)) != 0;
}

void
ow_pressure_describe (OwPressure *self, GVariantDict *dict)
{
  OwWatchAsk all = { 0 };
  GHashTableIter iter;
  gpointer packed;
  g_autoptr (GPtrArray) events = g_ptr_array_new ();

  if (self == NULL)
    return;
  g_hash_table_iter_init (&iter, self->asks);
  while (g_hash_table_iter_next (&iter, NULL, &packed))
    {
      OwWatchAsk one;

      ow_watch_ask_unpack (packed, &one);
      ow_watch_ask_merge (&all, &one);
    }
  if (all.pressure != OW_PRESSURE_NONE)
    {
      g_variant_dict_insert (dict, OOMWATCH_KEY_PRESSURE, "s",
                             ow_pressure_level_to_string (all.pressure));
      g_variant_dict_insert (dict, OOMWATCH_KEY_PRESSURE_FDS, "u", ow_pressure_fd_count (self));
    }
  for (OwEventKind kind = 0; kind < OW_EVENT_N_KINDS; kind++)
    if (all.events & OW_EVENT_KIND_BIT (kind))
      g_ptr_array_add (events, (gpointer)ow_event_kind_to_string (kind));
  if (events->len > 0)
    g_variant_dict_insert_value (
        dict, OOMWATCH_KEY_EVENTS,
        g_variant_new_strv ((const char *const *)events->pdata, events->len));
}
