/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The last events of a child removed before they were read (cgroup v2).
 *
 * A transient scope that OOMs at birth is gone within milliseconds: the kernel defers the
 * wake-up of a memory.events poller that was woken less than 10 ms before, and drops it when
 * the cgroup is removed, so the kill is never read from the scope itself. Its parent's
 * memory.events still counts it: every event is added to the cgroup's counters and to each
 * ancestor's. So a watched parent whose children are all watched keeps a ledger: what its
 * descendants accounted for when the ledger opened (BASE), and what was told on its children
 * since (REPORTED). At any moment the parent's descendant counters less BASE less REPORTED is
 * what happened in the children and was not told yet. When a child is removed and that is not
 * zero, every live sibling is read (each tells its own pending events); what is left is the
 * removed child's, and is told on it before its WatchRemoved.
 *
 * Exact as long as the removed child is the only one that died unread meanwhile. When two
 * die at once, or a child appeared and vanished before it could be opened, their remainder
 * cannot be told apart: it is reported on the parent only (by its own counters), and the
 * ledger moves on. A parent with a child nobody watches (refused by a limit, skipped) has no
 * ledger. */
#include "ow-registry-private.h"
#include "oomwatch-cgroup.h"

#include <string.h>

/* The watched children of PARENT, by name (their watches may go while we read them). */
static GPtrArray *
watched_children (OwRegistry *self, const char *parent)
{
  GPtrArray *children = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  const char *cgroup;

  g_hash_table_iter_init (&iter, self->watches);
  while (g_hash_table_iter_next (&iter, (gpointer *)&cgroup, NULL))
    {
      g_autofree char *up = oomwatch_cgroup_parent (cgroup);

      if (up != NULL && strcmp (up, parent) == 0)
        g_ptr_array_add (children, g_strdup (cgroup));
    }
  return children;
}

/* Reads every live child of PARENT but SKIP: each reports what it has pending. */
static void
sync_children (OwRegistry *self, const char *parent, const char *skip)
{
  g_autoptr (GPtrArray) children = watched_children (self, parent);

  for (guint i = 0; i < children->len; i++)
    {
      const char *child = g_ptr_array_index (children, i);
      OwWatch *watch = g_hash_table_lookup (self->watches, child);

      if (watch != NULL && (skip == NULL || strcmp (child, skip) != 0))
        ow_source_sync (watch->source);
    }
}

static gboolean
same_counters (const OwCounters *a, const OwCounters *b)
{
  for (guint c = 0; c < OW_N_COUNTERS; c++)
    if (a->has[c] != b->has[c] || a->value[c] != b->value[c])
      return FALSE;
  return TRUE;
}

static gboolean
all_children_watched (OwRegistry *self, const char *parent)
{
  g_autoptr (GPtrArray) children
      = ow_hierarchy_list_children (self->context->hierarchy, parent, NULL);

  for (guint i = 0; children != NULL && i < children->len; i++)
    if (!g_hash_table_contains (self->watches, g_ptr_array_index (children, i)))
      return FALSE;
  return children != NULL;
}

/* Closes PARENT's ledger: until a later child is created with every child watched, or for
 * good (FOREVER) when its counters cannot serve. */
static void
close_ledger (OwWatch *parent, const char *why, gboolean forever)
{
  if (parent->ledger.open || (forever && !parent->ledger.refused))
    g_debug ("%s: no ledger of its children's events: %s", parent->cgroup, why);
  parent->ledger.refused |= forever;
  parent->ledger.unwatched_child |= !forever;
  parent->ledger.open = FALSE;
}

/* Opens PARENT's ledger, once: after its first child created while watched was added (so
 * that child is in it). The descendants' share is read before and after reading every child;
 * if nothing happened in between, nothing was pending when it opened. */
void
ow_registry_ledger_open (OwRegistry *self, const char *parent)
{
  OwWatch *watch = g_hash_table_lookup (self->watches, parent);
  OwCounters before, after;

  /* Not retried for every new child while one is not watched: a user making children past
   * the limit would make the daemon list the directory once per mkdir. */
  if (watch == NULL || !watch->children_followed || watch->ledger.open || watch->ledger.refused
      || watch->ledger.unwatched_child)
    return;
  if (!ow_source_read_descendants (watch->source, &before))
    {
      close_ledger (watch, "its counters are not hierarchical, or cannot be read", TRUE);
      return;
    }
  if (!all_children_watched (self, parent))
    return; /* a child not followed yet: the next one opens it */
  for (guint attempt = 0; attempt < 3; attempt++)
    {
      if (attempt > 0)
        before = after;
      sync_children (self, parent, NULL);
      if ((watch = g_hash_table_lookup (self->watches, parent)) == NULL
          || !ow_source_read_descendants (watch->source, &after))
        return;
      if (same_counters (&before, &after))
        {
          memcpy (watch->ledger.base, after.value, sizeof after.value);
          memset (watch->ledger.reported, 0, sizeof watch->ledger.reported);
          watch->ledger.open = TRUE;
          return;
        }
    }
  g_debug ("%s: its children's counters kept moving; the ledger opens with the next child",
           parent);
}

/* A child of PARENT is there and not watched. */
void
ow_registry_ledger_close (OwRegistry *self, const char *parent, const char *why)
{
  OwWatch *watch = parent != NULL ? g_hash_table_lookup (self->watches, parent) : NULL;

  if (watch != NULL)
    close_ledger (watch, why, FALSE);
}

/* EVENT was told on CGROUP: its parent's ledger counts it. */
void
ow_registry_ledger_count (OwRegistry *self, const char *cgroup, const OwEvent *event)
{
  g_autofree char *parent = NULL;
  OwWatch *watch;
  OwCounter counter;

  if (!ow_counter_for_kind (event->kind, &counter) || (parent = oomwatch_cgroup_parent (cgroup)) == NULL
      || (watch = g_hash_table_lookup (self->watches, parent)) == NULL || !watch->ledger.open)
    return;
  watch->ledger.reported[counter] += event->count;
}

/* What happened in PARENT's children and was not told: FALSE when nothing (or no ledger). */
static gboolean
untold (OwWatch *parent, guint64 out[OW_N_COUNTERS])
{
  OwCounters now;
  gboolean any = FALSE;

  if (!ow_source_read_descendants (parent->source, &now))
    return FALSE; /* being removed itself */
  for (guint c = 0; c < OW_N_COUNTERS; c++)
    {
      guint64 told = parent->ledger.base[c] + parent->ledger.reported[c];

      if (now.value[c] < told)
        {
          close_ledger (parent, "its counters do not add up (memory_localevents?)", TRUE);
          return FALSE;
        }
      out[c] = now.value[c] - told;
      any |= out[c] > 0;
    }
  return any;
}

/* GONE is being removed: tells on it what its parent's ledger says it did not tell yet.
 * TELL sends one event on GONE (counted, to its watchers). */
void
ow_registry_ledger_settle (OwRegistry *self, OwWatch *gone,
                           void (*tell) (OwRegistry *self, OwWatch *watch, const OwEvent *event))
{
  g_autofree char *parent = oomwatch_cgroup_parent (gone->cgroup);
  OwWatch *watch = parent != NULL ? g_hash_table_lookup (self->watches, parent) : NULL;
  guint64 rest[OW_N_COUNTERS];
  OwCounters seen;

  if (watch != NULL)
    watch->ledger.unwatched_child = FALSE; /* a child went: opening may be tried again */
  if (watch == NULL || !watch->ledger.open)
    return;
  if (watch->ledger.settling)
    {
      watch->ledger.died_meanwhile++;
      return;
    }
  if (!untold (watch, rest))
    return;
  watch->ledger.settling = TRUE;
  watch->ledger.died_meanwhile = 0;
  sync_children (self, parent, gone->cgroup);
  watch->ledger.settling = FALSE; /* the parent outlives its children's syncs */
  if (!untold (watch, rest))
    return;
  if (watch->ledger.died_meanwhile > 0)
    {
      g_debug ("%s: %u children died unread at once; their last events are told on %s only",
               gone->cgroup, watch->ledger.died_meanwhile + 1, parent);
      for (guint c = 0; c < OW_N_COUNTERS; c++)
        watch->ledger.base[c] += rest[c];
      return;
    }
  ow_source_get_counters (gone->source, &seen);
  for (guint c = 0; c < OW_N_COUNTERS; c++)
    if (rest[c] > 0)
      {
        OwEvent event = {
          .kind = ow_counter_kind (c),
          .count = rest[c],
          .total = seen.value[c] + rest[c],
          .has_total = TRUE,
        };

        g_debug ("%s: %" G_GUINT64_FORMAT " %s read from %s after its removal", gone->cgroup,
                 rest[c], ow_event_kind_to_string (event.kind), parent);
        tell (self, gone, &event);
      }
}

/* A child of PARENT vanished before it could be opened: its events, if any, stay untold. */
void
ow_registry_ledger_skip_unread (OwRegistry *self, const char *parent)
{
  OwWatch *watch = parent != NULL ? g_hash_table_lookup (self->watches, parent) : NULL;
  guint64 rest[OW_N_COUNTERS];

  if (watch == NULL || !watch->ledger.open || watch->ledger.settling)
    return;
  sync_children (self, parent, NULL);
  if ((watch = g_hash_table_lookup (self->watches, parent)) == NULL || !untold (watch, rest))
    return;
  g_debug ("%s: a child removed before it could be opened; its events are told on it only",
           parent);
  for (guint c = 0; c < OW_N_COUNTERS; c++)
    watch->ledger.base[c] += rest[c];
}
