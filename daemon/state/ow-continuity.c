/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-continuity-private.h"
#include "ow-event-log.h"
#include "ow-seq.h"
#include "oomwatch-names.h"

#include <glib/gstdio.h>

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
  if (ow_history_append (self->history, entry) && self->history_file != NULL)
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
                     GVariant *details, guint64 seq, gint64 time)
{
  OwHistoryEntry *entry = ow_history_entry_new (
      "OomEvent", cgroup, ow_event_kind_to_string (event->kind), event->count, details, time);

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
  gint64 now = g_get_real_time ();

  ow_continuity_flush (self); /* the history stays in order */
  g_variant_dict_insert (&details, OOMWATCH_KEY_TIMESTAMP, "t", (guint64)now);
  g_variant_dict_insert (&details, OOMWATCH_KEY_SEQ, "t", seq);
  entry = ow_history_entry_new ("WatchRemoved", cgroup, reason, 0, g_variant_dict_end (&details),
                                now);
  /* A floating copy of the same bytes: the sender's g_variant_new() takes it over. */
  bytes = g_variant_get_data_as_bytes (entry->details);
  ow_continuity_keep (self, stamp (self, entry, seq));
  ow_event_log_removed (cgroup);
  return g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, TRUE);
}

guint64
ow_continuity_last_seq (OwContinuity *self)
{
  return ow_seq_last (self->seq);
}

/* Life */

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
  self->owed = ow_continuity_owed_new ();
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
  self->forget_idle_id = g_idle_add (ow_continuity_forget_removed, self);
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
