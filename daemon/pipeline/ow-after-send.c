/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-after-send.h"
#include "ow-event-log.h"
#include "ow-event-units.h"

struct _OwAfterSend
{
  OwRegistry *registry;     /* borrowed */
  OwContinuity *continuity; /* borrowed */
  GQueue pending;           /* Item, oldest first */
  guint timeout_id;
};

typedef struct
{
  char *cgroup;
  OwEvent event; /* its strings are the item's own */
  char *reason, *task_cgroup;
  OwVictim *victim;
  OwHistoryEntry *entry; /* NULL: not kept in the history */
  gboolean log, while_down;
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
item_do (OwAfterSend *self, Item *item)
{
  g_autoptr (OomwatchUnitInfo) scratch = NULL;

  ow_continuity_sent (self->continuity, item->cgroup, &item->event, item->while_down);
  if (item->entry != NULL)
    ow_continuity_keep (self->continuity, g_steal_pointer (&item->entry));
  if (item->log)
    ow_event_log (item->cgroup, &item->event, item->victim,
                  ow_event_units_for (self->registry, item->cgroup, &item->event, item->victim,
                                      &scratch));
}

void
ow_after_send_flush (OwAfterSend *self)
{
  Item *item;

  g_clear_handle_id (&self->timeout_id, g_source_remove);
  while ((item = g_queue_pop_head (&self->pending)) != NULL)
    {
      item_do (self, item);
      item_free (item);
    }
}

static gboolean
on_timeout (gpointer user_data)
{
  OwAfterSend *self = user_data;

  self->timeout_id = 0;
  ow_after_send_flush (self);
  return G_SOURCE_REMOVE;
}

void
ow_after_send_add (OwAfterSend *self, const char *cgroup, const OwEvent *event, OwVictim *victim,
                   OwHistoryEntry *entry, gboolean log, gboolean while_down)
{
  Item *item = g_new0 (Item, 1);

  item->cgroup = g_strdup (cgroup);
  item->event = *event;
  item->event.reason = item->reason = g_strdup (event->reason);
  item->event.task_cgroup = item->task_cgroup = g_strdup (event->task_cgroup);
  item->victim = victim != NULL ? ow_victim_ref (victim) : NULL;
  item->entry = entry;
  item->log = log;
  item->while_down = while_down;
  g_queue_push_tail (&self->pending, item);
  if (self->timeout_id == 0)
    self->timeout_id = g_timeout_add (OW_AFTER_SEND_MS, on_timeout, self);
}

OwAfterSend *
ow_after_send_new (OwRegistry *registry)
{
  OwAfterSend *self = g_new0 (OwAfterSend, 1);

  self->registry = registry;
  g_queue_init (&self->pending);
  return self;
}

void
ow_after_send_set_continuity (OwAfterSend *self, OwContinuity *continuity)
{
  self->continuity = continuity;
}

void
ow_after_send_free (OwAfterSend *self)
{
  if (self == NULL)
    return;
  ow_after_send_flush (self);
  g_free (self);
}
