/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The metrics file and what History() and Metrics() return. */
#include "ow-continuity-private.h"

#include <string.h>

gboolean
ow_continuity_watched_by (const char *cgroup, guint32 uid, gpointer user_data)
{
  OwContinuity *self = user_data;
  OwWatch *watch = ow_registry_lookup (self->registry, cgroup);
  GHashTableIter iter;
  const char *name;
  guint32 watcher_uid;

  if (watch == NULL)
    return FALSE;
  g_hash_table_iter_init (&iter, watch->watchers);
  while (g_hash_table_iter_next (&iter, (gpointer *)&name, NULL))
    if (ow_registry_get_client_uid (self->registry, name, &watcher_uid) && watcher_uid == uid)
      return TRUE;
  return FALSE;
}

/* Metrics */

static gboolean
on_retired_expired (gpointer user_data)
{
  OwContinuity *self = user_data;

  self->retired_timeout_id = 0;
  ow_continuity_metrics_changed (self);
  return G_SOURCE_REMOVE;
}

static int
compare_rows (gconstpointer a, gconstpointer b)
{
  return strcmp (((const OwMetricsRow *)a)->cgroup, ((const OwMetricsRow *)b)->cgroup);
}

char *
ow_continuity_render_metrics (OwContinuity *self, OwMetricsFormat format)
{
  g_autoptr (GList) entries = ow_counter_store_entries (self->store);
  g_autoptr (GArray) rows = g_array_new (FALSE, FALSE, sizeof (OwMetricsRow));
  gint64 expires;

  for (GList *l = entries; l != NULL; l = l->next)
    {
      OwCounterEntry *entry = l->data;
      OwWatch *watch = ow_registry_lookup (self->registry, entry->cgroup);
      OwMetricsRow row = { entry->cgroup, entry->reported, NULL };

      /* Saved by an earlier run but not watched now: no series. */
      if (!entry->pending && watch != NULL)
        {
          row.container = ow_watch_container (watch);
          g_array_append_val (rows, row);
        }
    }
  expires = ow_metrics_retired_rows (self->retired, rows);
  g_array_sort (rows, compare_rows);
  /* Written again when a kept series expires. */
  g_clear_handle_id (&self->retired_timeout_id, g_source_remove);
  if (expires > 0 && self->metrics_file != NULL)
    self->retired_timeout_id
        = g_timeout_add_seconds ((guint)((expires - g_get_monotonic_time ()) / G_USEC_PER_SEC + 1),
                                 on_retired_expired, self);
  return ow_metrics_render ((OwMetricsRow *)(gpointer)rows->data, rows->len,
                            ow_registry_count (self->registry), format);
}

/* At an idle moment after a change, not on a timer: a burst of events is one write. */
static gboolean
on_metrics_idle (gpointer user_data)
{
  OwContinuity *self = user_data;
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;

  self->metrics_idle_id = 0;
  if (self->metrics_file == NULL)
    return G_SOURCE_REMOVE;
  text = ow_continuity_render_metrics (self, OW_METRICS_PROMETHEUS);
  if (g_strcmp0 (text, self->metrics_written) == 0)
    return G_SOURCE_REMOVE;
  if (!ow_metrics_write (self->metrics_file, text, &error))
    g_warning ("Cannot write the metrics: %s", error->message);
  else
    {
      g_free (self->metrics_written);
      self->metrics_written = g_steal_pointer (&text);
    }
  return G_SOURCE_REMOVE;
}

void
ow_continuity_metrics_changed (OwContinuity *self)
{
  if (self->metrics_file != NULL && self->metrics_idle_id == 0)
    self->metrics_idle_id = g_idle_add_full (G_PRIORITY_LOW, on_metrics_idle, self, NULL);
}

GVariant *
ow_continuity_query_history (OwContinuity *self, guint32 uid, guint64 after, guint64 since,
                             guint32 max)
{
  g_auto (GVariantDict) info = G_VARIANT_DICT_INIT (NULL);
  GVariant *events = ow_history_query (self->history, after, (gint64)MIN (since, (guint64)G_MAXINT64),
                                       max, uid, ow_continuity_watched_by, self);

  g_variant_dict_insert (&info, "last-seq", "t", ow_seq_last (self->seq));
  g_variant_dict_insert (&info, "oldest-seq", "t", ow_history_oldest_seq (self->history));
  g_variant_dict_insert (&info, "capacity", "u", ow_history_get_capacity (self->history));
  g_variant_dict_insert (&info, "epoch", "s", ow_seq_epoch (self->seq));
  return g_variant_new ("(@aa{sv}@a{sv})", events, g_variant_dict_end (&info));
}
