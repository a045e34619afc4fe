/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-continuity-private.h"
#include "ow-event-log.h"
#include "ow-seq.h"
#include "ow-fd.h"
#include "oomwatch-error.h"
#include "oomwatch-names.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

/* Who got the signal: the uids of the cgroup's watchers (the registry still holds them when a
 * removal is sent). Monitors are root, who sees everything anyway. */
static void
add_watcher_uids (OwContinuity *self, const char *cgroup, OwHistoryEntry *entry)
{
  OwWatch *watch = ow_registry_lookup (self->registry, cgroup);
  GHashTableIter iter;
  const char *name;
  guint32 uid;

  if (watch == NULL)
    return;
  g_hash_table_iter_init (&iter, watch->watchers);
  while (g_hash_table_iter_next (&iter, (gpointer *)&name, NULL))
    if (ow_registry_get_client_uid (self->registry, name, &uid))
      ow_history_entry_add_uid (entry, uid);
}

/* The record stage */

guint64
ow_continuity_next_seq (OwContinuity *self)
{
  return ow_seq_next (self->seq);
}

/* The counters saved of an event recorded (ow-continuity-record.c). */
void
ow_continuity_sent (OwContinuity *self, const char *cgroup, const OwEvent *event)
{
  OwCounter counter;

  if (ow_counter_for_kind (event->kind, &counter))
    ow_counter_store_reported (self->store, cgroup, counter, event->count, event->has_total,
                               event->total, event->while_down);
  ow_continuity_metrics_changed (self);
}

void
ow_continuity_keep (OwContinuity *self, OwHistoryEntry *entry)
{
  ow_history_append (self->history, entry);
  if (self->history_file != NULL && ow_history_get_capacity (self->history) > 0)
    ow_history_file_append (self->history_file, self->history, entry);
}

/* The entry of a signal sent now: its seq and who watched its cgroup, as they are now. */
static OwHistoryEntry *
stamp (OwContinuity *self, OwHistoryEntry *entry, guint64 seq)
{
  entry->seq = seq;
  add_watcher_uids (self, entry->cgroup, entry);
  return entry;
}

OwHistoryEntry *
ow_continuity_entry (OwContinuity *self, const char *cgroup, const OwEvent *event, OwVictim *victim,
                     GVariant *details, guint64 seq)
{
  OwHistoryEntry *entry = ow_history_entry_new ("OomEvent", cgroup,
                                                ow_event_kind_to_string (event->kind), event->count,
                                                details);

  if (victim != NULL && victim->has_uid)
    {
      entry->has_victim_uid = TRUE;
      entry->victim_uid = victim->uid;
    }
  return stamp (self, entry, seq);
}

GVariant *
ow_continuity_removed (OwContinuity *self, const char *cgroup, const char *reason, guint64 seq)
{
  g_auto (GVariantDict) details = G_VARIANT_DICT_INIT (NULL);
  g_autoptr (GBytes) bytes = NULL;
  OwHistoryEntry *entry;

  ow_continuity_flush (self); /* the history stays in order */
  g_variant_dict_insert (&details, OOMWATCH_KEY_TIMESTAMP, "t", (guint64)g_get_real_time ());
  g_variant_dict_insert (&details, OOMWATCH_KEY_SEQ, "t", seq);
  entry = ow_history_entry_new ("WatchRemoved", cgroup, reason, 0, g_variant_dict_end (&details));
  /* A floating copy of the same bytes: the sender's g_variant_new() takes it over. */
  bytes = g_variant_get_data_as_bytes (entry->details);
  ow_continuity_keep (self, stamp (self, entry, seq));
  ow_event_log_removed (cgroup);
  return g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, TRUE);
}

/* Restarts */

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

static void
tell (OwContinuity *self, const char *cgroup, OwEvent *event)
{
  self->listener->missed (cgroup, event, self->listener_data);
}

/* Told at an idle moment after the watch was made: by then the Watch() call that made it has
 * its answer and the caller is one of the watchers. */
static gboolean
on_owed_idle (gpointer user_data)
{
  OwContinuity *self = user_data;
  g_autoptr (GHashTable) owed = g_steal_pointer (&self->owed);
  GHashTableIter iter;
  const char *cgroup;
  OwOwed *what;

  self->owed_idle_id = 0;
  self->owed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)owed_free);
  g_hash_table_iter_init (&iter, owed);
  while (g_hash_table_iter_next (&iter, (gpointer *)&cgroup, (gpointer *)&what))
    {
      OwCounterEntry *entry = ow_counter_store_lookup (self->store, cgroup);

      if (entry == NULL || ow_registry_lookup (self->registry, cgroup) == NULL)
        continue;
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

guint64
ow_continuity_last_seq (OwContinuity *self)
{
  return ow_seq_last (self->seq);
}

/* Life */

/* Saved counters of cgroups removed while the daemon was down describe nothing any more.
 * Looked at once the start-up's watches are made: a cgroup watched again is there. */
static gboolean
forget_removed (gpointer user_data)
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

void
ow_continuity_set_metrics_retention (OwContinuity *self, int seconds)
{
  ow_metrics_retired_set_retention (self->retired,
                                    seconds >= 0 ? (guint)seconds : OW_DEFAULT_METRICS_RETENTION);
}

void
ow_continuity_configure (OwContinuity *self, guint history_size, const char *metrics_file)
{
  if (history_size > OW_MAX_HISTORY_SIZE)
    g_warning ("HistorySize=%u: keeping %u signals at most", history_size, OW_MAX_HISTORY_SIZE);
  ow_history_set_capacity (self->history, MIN (history_size, OW_MAX_HISTORY_SIZE));
  if (g_strcmp0 (metrics_file, self->metrics_file) != 0)
    {
      g_free (self->metrics_file);
      self->metrics_file = g_strdup (metrics_file);
      g_clear_pointer (&self->metrics_written, g_free);
    }
  ow_continuity_metrics_changed (self);
}

OwContinuity *
ow_continuity_new (const char *runtime_dir, const char *boot_id_path, OwHierarchy *hierarchy,
                   OwRegistry *registry, const OwContinuityListener *listener,
                   gpointer user_data, GError **error)
{
  g_autoptr (OwContinuity) self = g_new0 (OwContinuity, 1);
  g_autofree char *seq_path = g_build_filename (runtime_dir, "seq", NULL);
  g_autofree char *counters_dir = g_build_filename (runtime_dir, "counters", NULL);
  g_autofree char *history_path = g_build_filename (runtime_dir, "history", NULL);
  g_autofree char *inflight_path = g_build_filename (runtime_dir, "inflight", NULL);
  g_autoptr (GError) local_error = NULL;
  g_autofree char *boot_id = ow_seq_read_boot_id (boot_id_path);

  self->hierarchy = hierarchy;
  self->retired = ow_metrics_retired_new ();
  self->registry = registry;
  self->listener = listener;
  self->listener_data = user_data;
  g_queue_init (&self->recorded);
  self->history = ow_history_new (OW_DEFAULT_HISTORY_SIZE);
  self->owed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)owed_free);
  self->record_delay_ms = OW_RECORD_DELAY_MS;
  if (g_getenv (OW_RECORD_DELAY_ENV) != NULL)
    self->record_delay_ms = (guint)g_ascii_strtoull (g_getenv (OW_RECORD_DELAY_ENV), NULL, 10);
  /* The counters dir is made with its parents: the runtime dir itself, outside systemd. */
  self->store = ow_counter_store_open (counters_dir, error);
  if (self->store == NULL)
    return NULL;
  self->seq = ow_seq_open (seq_path, boot_id, OW_SEQ_BLOCK, error);
  if (self->seq == NULL)
    return NULL;
  /* A history of other numbers (numbering started again) would mislead: it goes. */
  if (ow_seq_last (self->seq) == 0)
    g_unlink (history_path);
  self->inflight = ow_inflight_open (inflight_path, ow_seq_last (self->seq) == 0, &local_error);
  if (self->inflight == NULL)
    g_warning ("Signals a SIGKILL interrupts may be told twice: %s", local_error->message);
  self->history_file = ow_history_file_open (history_path, self->history, error);
  if (self->history_file == NULL)
    return NULL;
  self->forget_idle_id = g_idle_add (forget_removed, self);
  g_message ("Runtime state in %s; signals continue from seq %" G_GUINT64_FORMAT, runtime_dir,
             ow_seq_last (self->seq) + 1);
  return g_steal_pointer (&self);
}

void
ow_continuity_free (OwContinuity *self)
{
  if (self == NULL)
    return;
  ow_continuity_flush (self);
  g_clear_handle_id (&self->owed_idle_id, g_source_remove);
  g_clear_handle_id (&self->forget_idle_id, g_source_remove);
  /* The metrics file is left as it is: the counters continue in the next run. */
  g_clear_handle_id (&self->metrics_idle_id, g_source_remove);
  g_clear_handle_id (&self->retired_timeout_id, g_source_remove);
  g_clear_pointer (&self->retired, ow_metrics_retired_free);
  g_clear_pointer (&self->owed, g_hash_table_unref);
  g_clear_pointer (&self->store, ow_counter_store_free);
  g_clear_pointer (&self->history_file, ow_history_file_free);
  g_clear_pointer (&self->history, ow_history_free);
  g_clear_pointer (&self->seq, ow_seq_free);
  g_clear_pointer (&self->inflight, ow_inflight_free);
  g_free (self->metrics_file);
  g_free (self->metrics_written);
  g_free (self);
}
