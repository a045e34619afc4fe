/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-kill-wait.h"

typedef struct
{
  OwKillWaitFunc func;
} Wake;

struct _OwKillWait
{
  GHashTable *waiters; /* waiter → Wake */
  gboolean followed;
  guint idle_id;
};

OwKillWait *
ow_kill_wait_new (void)
{
  OwKillWait *self = g_new0 (OwKillWait, 1);

  self->waiters = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  return self;
}

void
ow_kill_wait_free (OwKillWait *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->idle_id, g_source_remove);
  g_hash_table_unref (self->waiters);
  g_free (self);
}

static gboolean on_idle (gpointer user_data);

static void
wake_soon (OwKillWait *self)
{
  if (self->idle_id == 0)
    self->idle_id = g_idle_add (on_idle, self);
}

/* No longer followed: the waiters go back to their timers. */
void
ow_kill_wait_set_followed (OwKillWait *self, gboolean followed)
{
  if (self->followed && !followed && g_hash_table_size (self->waiters) > 0)
    wake_soon (self);
  self->followed = followed;
}

gboolean
ow_kill_wait_followed (OwKillWait *self)
{
  return self->followed;
}

void
ow_kill_wait_add (OwKillWait *self, gpointer waiter, OwKillWaitFunc func)
{
  Wake *wake = g_new (Wake, 1);

  wake->func = func;
  g_hash_table_insert (self->waiters, waiter, wake);
}

void
ow_kill_wait_remove (OwKillWait *self, gpointer waiter)
{
  g_hash_table_remove (self->waiters, waiter);
}

guint
ow_kill_wait_count (OwKillWait *self)
{
  return g_hash_table_size (self->waiters);
}

/* Each waiter leaves the set before its wake-up: one freed by another's wake-up has left it
 * too and is skipped, and one that adds itself again waits for the next line. */
static gboolean
on_idle (gpointer user_data)
{
  OwKillWait *self = user_data;
  g_autofree gpointer *waiters = NULL;
  guint n;

  self->idle_id = 0;
  waiters = g_hash_table_get_keys_as_array (self->waiters, &n);
  for (guint i = 0; i < n; i++)
    {
      gpointer wake;

      if (g_hash_table_steal_extended (self->waiters, waiters[i], NULL, &wake))
        {
          OwKillWaitFunc func = ((Wake *)wake)->func;

          g_free (wake);
          func (waiters[i]);
        }
    }
  return G_SOURCE_REMOVE;
}

/* Also with nobody waiting yet: a source that starts waiting in the same dispatch (its line
 * read by another's drain) looks at its counters once more. */
void
ow_kill_wait_logged (OwKillWait *self)
{
  wake_soon (self);
}
