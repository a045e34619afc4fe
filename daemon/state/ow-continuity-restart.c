/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Restarts: what a watch made again is owed (what an earlier run sent and did not record, what
 * the kernel counted while no run was there), told through the listener at an idle moment;
 * saved state of watches that ended or of cgroups that went meanwhile dropped. */
#include "ow-continuity-private.h"
#include "ow-str-hash.h"
#include "ow-fd.h"
#include "oomwatch-error.h"

#include <sys/stat.h>

static gboolean
read_ino (OwContinuity *self, const char *cgroup, guint64 *ino)
{
  g_autoptr (GError) error = NULL;
  g_auto (OwFd) dir = ow_hierarchy_open_cgroup (self->hierarchy, cgroup, &error);
  struct stat st;

  if (dir < 0 || fstat (dir, &st) < 0)
    return FALSE;
  *ino = st.st_ino;
  return TRUE;
}

/* What a watch made again is owed: events an earlier run sent and did not record, to tell
 * again with their seq, and counts the kernel kept while no run was there. */
typedef struct
{
  GArray *replays; /* OwInflightMark, oldest seq first */
  gboolean replays_have_total; /* the same cgroup as the counters saved (not made anew) */
  OwCounters missed;
} OwOwed;

static void
owed_free (OwOwed *owed)
{
  g_clear_pointer (&owed->replays, g_array_unref);
  g_free (owed);
}

GHashTable *
ow_continuity_owed_new (void)
{
  return g_hash_table_new_full (ow_str_hash, g_str_equal, g_free, (GDestroyNotify)owed_free);
}

static void
tell (OwContinuity *self, const char *cgroup, OwEvent *event)
{
  self->listener->missed (cgroup, event, self->listener_data);
}

static void
tell_again (OwContinuity *self, const char *cgroup, const OwOwed *what)
{
  for (guint i = 0; i < what->replays->len; i++)
    {
      const OwInflightMark *mark = &g_array_index (what->replays, OwInflightMark, i);
      OwEvent event = { .kind = ow_counter_kind (mark->counter),
                        .count = mark->count,
                        .has_total = what->replays_have_total,
                        .total = mark->total,
                        .while_down = TRUE,
                        .seq = mark->seq };

      g_message ("%s: %s seq %" G_GUINT64_FORMAT " told again: the run that sent it ended"
                 " before recording it", cgroup, ow_event_kind_to_string (event.kind), mark->seq);
      tell (self, cgroup, &event);
    }
}

static void
tell_missed (OwContinuity *self, const char *cgroup, const OwOwed *what,
             const OwCounterEntry *entry)
{
  for (guint c = 0; c < OW_N_COUNTERS; c++)
    {
      OwEvent event = { .kind = ow_counter_kind (c),
                        .count = what->missed.value[c],
                        .has_total = TRUE,
                        .total = entry->seen.value[c],
                        .while_down = TRUE };

      if (!what->missed.has[c] || what->missed.value[c] == 0)
        continue;
      g_message ("%s: %" G_GUINT64_FORMAT " %s while oomwatchd was not running", cgroup,
                 event.count, ow_event_kind_to_string (event.kind));
      tell (self, cgroup, &event);
    }
}

/* Told at an idle moment after the watch was made: by then the Watch() call that made it has
 * its answer and the caller is one of the watchers. Every event told again (its old seq)
 * before any count missed (a new seq), so that seqs rise for a client that keeps only the
 * last. */
static gboolean
on_owed_idle (gpointer user_data)
{
  OwContinuity *self = user_data;
  g_autoptr (GHashTable) owed = g_steal_pointer (&self->owed);
  GHashTableIter iter;
  const char *cgroup;
  OwOwed *what;

  self->owed_idle_id = 0;
  self->owed = ow_continuity_owed_new ();
  for (guint pass = 0; pass < 2; pass++)
    {
      g_hash_table_iter_init (&iter, owed);
      while (g_hash_table_iter_next (&iter, (gpointer *)&cgroup, (gpointer *)&what))
        {
          OwCounterEntry *entry = ow_counter_store_lookup (self->store, cgroup);

          if (entry == NULL || ow_registry_lookup (self->registry, cgroup) == NULL)
            continue;
          if (pass == 0)
            tell_again (self, cgroup, what);
          else
            tell_missed (self, cgroup, what, entry);
        }
    }
  return G_SOURCE_REMOVE;
}

/* The marks an earlier run left for CGROUP (ow-inflight.h). SAVED: the counters that run saved,
 * when the cgroup is still the same one (NULL: made anew, or never saved). A mark whose
 * counters were saved is done; one whose History() entry was written only has its counters
 * saved now; the others are to be told again. Neither is missed any more. */
static GArray *
take_left (OwContinuity *self, const char *cgroup, const OwCounters *saved, OwCounters *missed)
{
  g_autoptr (GArray) marks = ow_inflight_left (self->inflight, cgroup);
  GArray *replays = g_array_new (FALSE, FALSE, sizeof (OwInflightMark));

  for (guint i = 0; i < marks->len; i++)
    {
      const OwInflightMark *mark = &g_array_index (marks, OwInflightMark, i);
      guint c = (guint)mark->counter;

      if (c >= OW_N_COUNTERS
          || (saved != NULL && saved->has[c] && saved->value[c] >= mark->total))
        {
          ow_inflight_forget (self->inflight, cgroup, mark->seq); /* recorded */
          continue;
        }
      if (saved != NULL)
        missed->value[c] -= MIN (mark->count, missed->value[c]);
      if (mark->state == OW_INFLIGHT_SENT)
        {
          g_array_append_val (replays, *mark);
          continue;
        }
      if (saved != NULL)
        ow_counter_store_reported (self->store, cgroup, c, mark->count, TRUE, mark->total, TRUE);
      ow_inflight_forget (self->inflight, cgroup, mark->seq);
    }
  return replays;
}

static void
watch_created (OwContinuity *self, OwWatch *watch)
{
  OwCounters baseline, saved = { 0 };
  OwOwed *owed;
  OwCounterEntry *entry;
  gboolean same;
  guint64 ino = 0;
  g_autoptr (GError) error = NULL;

  if (watch->source == NULL || !ow_source_get_counters (watch->source, &baseline))
    return;
  ino = watch->source->ino;
  if (ino == 0)
    read_ino (self, watch->cgroup, &ino);
  entry = ow_counter_store_lookup (self->store, watch->cgroup);
  same = entry != NULL && entry->pending && entry->ino == ino;
  if (same)
    saved = entry->seen;
  owed = g_new0 (OwOwed, 1);
  entry = ow_counter_store_reconcile (self->store, watch->cgroup, ino, &baseline, &owed->missed);
  if (!ow_counter_store_save (self->store, entry, &error))
    g_warning ("Cannot save the counters of %s: %s", watch->cgroup, error->message);
  owed->replays = take_left (self, watch->cgroup, same ? &saved : NULL, &owed->missed);
  owed->replays_have_total = same;
  for (guint c = 0; c < OW_N_COUNTERS && owed != NULL; c++)
    if (owed->replays->len > 0 || (owed->missed.has[c] && owed->missed.value[c] > 0))
      {
        g_hash_table_replace (self->owed, g_strdup (watch->cgroup), g_steal_pointer (&owed));
        if (self->owed_idle_id == 0)
          self->owed_idle_id = g_idle_add (on_owed_idle, self);
      }
  g_clear_pointer (&owed, owed_free);
  ow_continuity_metrics_changed (self);
}

void
ow_continuity_watch_created (OwContinuity *self, OwWatch *watch)
{
  if (self == NULL)
    return;
  ow_continuity_flush (self); /* what was sent counts on the previous watch */
  ow_metrics_retired_forget (self->retired, watch->cgroup);
  watch_created (self, watch);
}

void
ow_continuity_watch_dropped (OwContinuity *self, const char *cgroup)
{
  OwCounterEntry *entry;
  OwWatch *watch;

  if (self == NULL)
    return;
  ow_continuity_flush (self); /* what was sent counts before the watch goes */
  g_hash_table_remove (self->owed, cgroup);
  if ((entry = ow_counter_store_lookup (self->store, cgroup)) != NULL
      && (watch = ow_registry_lookup (self->registry, cgroup)) != NULL)
    ow_metrics_retired_add (self->retired, cgroup, ow_watch_container (watch),
                            entry->reported);
  ow_counter_store_forget (self->store, cgroup);
  ow_inflight_forget (self->inflight, cgroup, 0);
  ow_continuity_metrics_changed (self);
}

/* Saved counters of cgroups removed while the daemon was down describe nothing any more.
 * Looked at once the start-up's watches are made: a cgroup watched again is there. */
gboolean
ow_continuity_forget_removed (gpointer user_data)
{
  OwContinuity *self = user_data;
  g_autoptr (GList) entries = ow_counter_store_entries (self->store);

  self->forget_idle_id = 0;
  if (ow_hierarchy_get_version (self->hierarchy) == 0)
    return G_SOURCE_REMOVE;
  for (GList *l = entries; l != NULL; l = l->next)
    {
      OwCounterEntry *entry = l->data;
      g_autoptr (GError) error = NULL;
      g_auto (OwFd) dir = -1;

      if (!entry->pending)
        continue;
      dir = ow_hierarchy_open_cgroup (self->hierarchy, entry->cgroup, &error);
      if (dir < 0 && g_error_matches (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NO_SUCH_CGROUP))
        {
          g_autofree char *cgroup = g_strdup (entry->cgroup);

          g_debug ("%s: removed while oomwatchd was not running", cgroup);
          ow_counter_store_forget (self->store, cgroup);
          ow_inflight_forget (self->inflight, cgroup, 0);
        }
    }
  return G_SOURCE_REMOVE;
}

