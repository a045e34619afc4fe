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

  ow_continuity_sent (self, item->cgroup, &item->event);
  if (item->entry != NULL)
    ow_continuity_keep (self, g_steal_pointer (&item->entry));
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

void
ow_continuity_record (OwContinuity *self, const char *cgroup, const OwEvent *event,
                      OwVictim *victim, OwHistoryEntry *entry, gboolean log)
{
  Item *item = g_new0 (Item, 1);

  item->cgroup = g_strdup (cgroup);
  item->event = *event;
  item->event.reason = item->reason = g_strdup (event->reason);
  item->event.task_cgroup = item->task_cgroup = g_strdup (event->task_cgroup);
  item->victim = victim != NULL ? ow_victim_ref (victim) : NULL;
  item->entry = entry;
  item->log = log;
  g_queue_push_tail (&self->recorded, item);
  if (self->record_timeout_id == 0)
    self->record_timeout_id = g_timeout_add (OW_RECORD_DELAY_MS, on_timeout, self);
}
