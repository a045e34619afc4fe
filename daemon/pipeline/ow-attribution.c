/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-attribution.h"
#include "ow-str-hash.h"
#include "oomwatch-cgroup.h"

#include <string.h>

/* The counter rise and the log record of one kill are milliseconds apart. */
#define VICTIM_MEMORY_USEC ((gint64)10 * G_USEC_PER_SEC)

typedef struct
{
  OwVictim *victim;
  GHashTable *claimed; /* cgroups it was reported on */
} Remembered;

struct _OwAttribution
{
  guint hierarchy;
  const OwAttributionLookup *lookup;
  gpointer user_data;
  GQueue remembered; /* Remembered, oldest first */
};

void
ow_report_free (OwReport *report)
{
  if (report == NULL)
    return;
  g_free (report->cgroup);
  g_clear_pointer (&report->victim, ow_victim_unref);
  g_free (report);
}

static void
remembered_free (gpointer data)
{
  Remembered *r = data;

  ow_victim_unref (r->victim);
  g_hash_table_unref (r->claimed);
  g_free (r);
}

static void
forget_old (OwAttribution *self)
{
  gint64 now = g_get_monotonic_time ();
  Remembered *oldest;

  while ((oldest = g_queue_peek_head (&self->remembered)) != NULL
         && now - oldest->victim->seen > VICTIM_MEMORY_USEC)
    remembered_free (g_queue_pop_head (&self->remembered));
}

void
ow_attribution_add_victim (OwAttribution *self, OwVictim *victim)
{
  Remembered *r = g_new0 (Remembered, 1);

  forget_old (self);
  r->victim = ow_victim_ref (victim);
  r->claimed = g_hash_table_new_full (ow_str_hash, g_str_equal, g_free, NULL);
  g_queue_push_tail (&self->remembered, r);
}

void
ow_attribution_clear (OwAttribution *self)
{
  g_queue_clear_full (&self->remembered, remembered_free);
}

static gboolean
claim (Remembered *r, const char *cgroup)
{
  return g_hash_table_add (r->claimed, g_strdup (cgroup));
}

static void
add_report (GPtrArray *reports, const char *cgroup, const OwEvent *event, OwVictim *victim)
{
  OwReport *report = g_new0 (OwReport, 1);

  report->cgroup = g_strdup (cgroup);
  report->event = *event;
  report->victim = victim != NULL ? ow_victim_ref (victim) : NULL;
  g_ptr_array_add (reports, report);
}

/* Up to MAX remembered victims in CGROUP (or below it, with BELOW_TOO) not yet reported on
 * CGROUP, oldest first. */
static GPtrArray *
unreported (OwAttribution *self, const char *cgroup, gboolean below_too, guint64 max)
{
  GPtrArray *found = g_ptr_array_new ();

  for (GList *l = self->remembered.head; l != NULL && found->len < max; l = l->next)
    {
      Remembered *r = l->data;
      const char *task = r->victim->task_cgroup;

      if (task == NULL || g_hash_table_contains (r->claimed, cgroup))
        continue;
      if (strcmp (task, cgroup) == 0 || (below_too && oomwatch_cgroup_is_below (task, cgroup)))
        g_ptr_array_add (found, r);
    }
  return found;
}

/* COUNT kills on CGROUP: one report per victim the log named, one for the rest. TOTAL: the
 * counter after the rise, or 0 without one (ancestors on v1). A victim already reported on
 * CGROUP still accounts for its kill, but is not repeated. */
static void
split (GPtrArray *reports, const char *cgroup, guint64 count, guint64 total, GPtrArray *victims)
{
  OwEvent part = { .kind = OW_EVENT_OOM_KILL, .count = 1, .has_total = total > 0 };
  guint64 accounted = 0;

  for (guint i = 0; i < victims->len && accounted < count; i++, accounted++)
    {
      Remembered *r = g_ptr_array_index (victims, i);

      part.total = total - count + accounted + 1;
      if (claim (r, cgroup))
        add_report (reports, cgroup, &part, r->victim);
    }
  if (count > accounted)
    {
      part.count = count - accounted;
      part.total = total;
      add_report (reports, cgroup, &part, NULL);
    }
}

/* The watched strict ancestors of CGROUP, nearest first. */
static GPtrArray *
watched_ancestors (OwAttribution *self, const char *cgroup)
{
  GPtrArray *ancestors = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *ancestor = oomwatch_cgroup_parent (cgroup);

  while (ancestor != NULL)
    {
      char *parent = oomwatch_cgroup_parent (ancestor);

      if (self->lookup->is_watched (ancestor, self->user_data))
        g_ptr_array_add (ancestors, g_steal_pointer (&ancestor));
      g_free (ancestor);
      ancestor = parent;
    }
  return ancestors;
}

GPtrArray *
ow_attribution_kills (OwAttribution *self, const char *cgroup, const OwEvent *event)
{
  GPtrArray *reports = g_ptr_array_new_with_free_func ((GDestroyNotify)ow_report_free);
  gboolean v1 = self->hierarchy == 1;
  g_autoptr (GPtrArray) victims = NULL;

  forget_old (self);
  victims = unreported (self, cgroup, !v1, event->count);
  split (reports, cgroup, event->count, event->total, victims);
  if (v1)
    {
      g_autoptr (GPtrArray) ancestors = watched_ancestors (self, cgroup);

      for (guint i = 0; i < ancestors->len; i++)
        split (reports, g_ptr_array_index (ancestors, i), event->count, 0, victims);
    }
  return reports;
}

GPtrArray *
ow_attribution_victim_ancestors (OwAttribution *self, OwVictim *victim)
{
  GPtrArray *reports = g_ptr_array_new_with_free_func ((GDestroyNotify)ow_report_free);
  OwEvent event = { .kind = OW_EVENT_OOM_KILL, .count = 1 };
  g_autoptr (GPtrArray) ancestors = NULL;
  Remembered *r = NULL;

  for (GList *l = self->remembered.head; l != NULL && r == NULL; l = l->next)
    if (((Remembered *)l->data)->victim == victim)
      r = l->data;
  /* Forgotten already: too late to tell it apart from a kill reported by a counter. And when
   * the victim's own cgroup is watched, its counter reports the kill to the ancestors, exactly:
   * a record read after that rise must not add a second, named, report of the same kill. */
  if (self->hierarchy != 1 || r == NULL || victim->task_cgroup == NULL
      || self->lookup->is_watched (victim->task_cgroup, self->user_data))
    return reports;
  ancestors = watched_ancestors (self, victim->task_cgroup);
  for (guint i = 0; i < ancestors->len; i++)
    if (claim (r, g_ptr_array_index (ancestors, i)))
      add_report (reports, g_ptr_array_index (ancestors, i), &event, victim);
  return reports;
}

OwAttribution *
ow_attribution_new (guint hierarchy, const OwAttributionLookup *lookup, gpointer user_data)
{
  OwAttribution *self = g_new0 (OwAttribution, 1);

  self->hierarchy = hierarchy;
  self->lookup = lookup;
  self->user_data = user_data;
  g_queue_init (&self->remembered);
  return self;
}

void
ow_attribution_free (OwAttribution *self)
{
  if (self == NULL)
    return;
  ow_attribution_clear (self);
  g_free (self);
}
