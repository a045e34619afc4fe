/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The record stage's queue: what follows a signal and no client waits for (its counters
 * saved, its history entry, its journal record), done a moment after the send. */
#include "ow-continuity-private.h"
#include "ow-event-log.h"

typedef struct
{
  char *cgroup;
  OwEvent event; /* its strings are the item's own */
  char *reason, *task_cgroup;
  OwVictim *victim;
  OwHistoryEntry *entry; /* NULL: not kept in the history */
  guint mark;            /* ow-inflight.h, cleared once recorded */
  gboolean log;
} Item;

static void
item_free (Item *item)
{
  g_free (item->cgroup);
  g_free (item->reason);
  g_free (item->task_cgroup);
  g_clear_pointer (&item->victim, ow_victim_unref);
  g_clear_pointer (&item->entry, ow_history_entry_free);
  g_free (item);
}

static void
item_do (OwContinuity *self, Item *item)
{
  g_autoptr (OomwatchUnitInfo) scratch = NULL;

  /* In this order, each step marked: a run after a SIGKILL between two of them knows which
   * were done. */
  if (item->entry != NULL)
    ow_continuity_keep (self, g_steal_pointer (&item->entry));
  ow_inflight_kept (self->inflight, item->mark);
  ow_continuity_sent (self, item->cgroup, &item->event);
  ow_inflight_done (self->inflight, item->mark);
  if (item->log)
    ow_event_log (item->cgroup, &item->event, item->victim,
                  ow_registry_units_for (self->registry, item->cgroup, &item->event, item->victim,
                                         &scratch));
}

void
ow_continuity_flush (OwContinuity *self)
{
  Item *item;

  g_clear_handle_id (&self->record_timeout_id, g_source_remove);
  while ((item = g_queue_pop_head (&self->recorded)) != NULL)
    {
      item_do (self, item);
      item_free (item);
    }
}

static gboolean
on_timeout (gpointer user_data)
{
  OwContinuity *self = user_data;

  self->record_timeout_id = 0;
  ow_continuity_flush (self);
  return G_SOURCE_REMOVE;
}

guint
ow_continuity_begin (OwContinuity *self, const char *cgroup, const OwEvent *event, guint64 seq)
{
  OwCounter counter;
  guint mark;

  if (self->inflight == NULL)
    return OW_INFLIGHT_NONE;
  if (event->seq != 0) /* told again: the earlier run's mark, with or without a total */
    return ow_inflight_claim (self->inflight, event->seq);
  if (!event->has_total || !ow_counter_for_kind (event->kind, &counter))
    return OW_INFLIGHT_NONE;
  mark = ow_inflight_sent (self->inflight, cgroup, counter, seq, event->count, event->total);
  if (mark == OW_INFLIGHT_NONE && !g_queue_is_empty (&self->recorded))
    {
      ow_continuity_flush (self); /* a flood: what is recorded frees its marks */
      mark = ow_inflight_sent (self->inflight, cgroup, counter, seq, event->count, event->total);
    }
  /* Marks no watch claimed since the restart give way to this run's. */
  while (mark == OW_INFLIGHT_NONE && ow_inflight_evict (self->inflight))
    mark = ow_inflight_sent (self->inflight, cgroup, counter, seq, event->count, event->total);
  return mark;
}

void
ow_continuity_record (OwContinuity *self, const char *cgroup, const OwEvent *event,
                      OwVictim *victim, OwHistoryEntry *entry, guint mark, gboolean log)
{
  Item *item = g_new0 (Item, 1);

  item->cgroup = g_strdup (cgroup);
  item->event = *event;
  item->event.reason = item->reason = g_strdup (event->reason);
  item->event.task_cgroup = item->task_cgroup = g_strdup (event->task_cgroup);
  item->victim = victim != NULL ? ow_victim_ref (victim) : NULL;
  item->entry = entry;
  item->mark = mark;
  item->log = log;
  g_queue_push_tail (&self->recorded, item);
  if (self->record_timeout_id == 0)
    self->record_timeout_id = g_timeout_add (self->record_delay_ms, on_timeout, self);
}
