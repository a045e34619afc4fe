/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-metrics-retired.h"

#include <string.h>

typedef struct
{
  char *cgroup;
  OomwatchContainerInfo *container;
  guint64 reported[OW_N_COUNTERS];
  gint64 expires; /* monotonic */
} Retired;

struct _OwMetricsRetired
{
  GQueue series; /* Retired, oldest first */
  gint64 retention_usec;
};

static void
retired_free (Retired *retired)
{
  g_free (retired->cgroup);
  oomwatch_container_info_free (retired->container);
  g_free (retired);
}

OwMetricsRetired *
ow_metrics_retired_new (void)
{
  OwMetricsRetired *self = g_new0 (OwMetricsRetired, 1);

  return self;
}

void
ow_metrics_retired_free (OwMetricsRetired *self)
{
  if (self == NULL)
    return;
  g_queue_clear_full (&self->series, (GDestroyNotify)retired_free);
  g_free (self);
}

void
ow_metrics_retired_set_retention (OwMetricsRetired *self, guint seconds)
{
  self->retention_usec = (gint64)seconds * G_USEC_PER_SEC;
}

void
ow_metrics_retired_forget (OwMetricsRetired *self, const char *cgroup)
{
  for (GList *l = self->series.head; l != NULL;)
    {
      GList *next = l->next;
      Retired *retired = l->data;

      if (g_strcmp0 (retired->cgroup, cgroup) == 0)
        {
          retired_free (retired);
          g_queue_delete_link (&self->series, l);
        }
      l = next;
    }
}

void
ow_metrics_retired_add (OwMetricsRetired *self, const char *cgroup,
                        const OomwatchContainerInfo *container, const guint64 *reported)
{
  gboolean counted = FALSE;
  Retired *retired;

  for (guint c = 0; c < OW_N_COUNTERS; c++)
    counted |= reported[c] > 0;
  ow_metrics_retired_forget (self, cgroup);
  if (!counted || self->retention_usec == 0)
    return;
  if (self->series.length >= OW_METRICS_RETIRED_MAX)
    retired_free (g_queue_pop_head (&self->series));
  retired = g_new0 (Retired, 1);
  retired->cgroup = g_strdup (cgroup);
  retired->container = oomwatch_container_info_copy (container);
  memcpy (retired->reported, reported, sizeof retired->reported);
  retired->expires = g_get_monotonic_time () + self->retention_usec;
  g_queue_push_tail (&self->series, retired);
}

gint64
ow_metrics_retired_rows (OwMetricsRetired *self, GArray *rows)
{
  gint64 now = g_get_monotonic_time ();
  Retired *oldest;

  while ((oldest = g_queue_peek_head (&self->series)) != NULL && oldest->expires <= now)
    retired_free (g_queue_pop_head (&self->series));
  for (GList *l = self->series.head; l != NULL; l = l->next)
    {
      Retired *retired = l->data;
      OwMetricsRow row = { retired->cgroup, retired->reported, retired->container };

      g_array_append_val (rows, row);
    }
  return oldest != NULL ? oldest->expires : 0;
}
