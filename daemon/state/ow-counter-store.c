/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-counter-store-private.h"
#include "ow-str-intern.h"
#include "ow-str-hash.h"
#include "ow-fd.h"
#include "oomwatch-error.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

void
ow_counter_entry_free (gpointer data)
{
  OwCounterEntry *entry = data;

  g_ref_string_release (entry->cgroup);
  g_free (entry->catch_up);
  g_free (entry);
}

/* What is still owed is saved as not seen: a crash before it is told tells it next time. */
guint64
ow_counter_entry_saved_seen (const OwCounterEntry *entry, guint i)
{
  guint64 owed = entry->catch_up != NULL ? entry->catch_up->owed[i] : 0;

  return entry->seen.value[i] - MIN (owed, entry->seen.value[i]);
}

OwCounterStore *
ow_counter_store_open (const char *dir, GError **error)
{
  g_autoptr (OwCounterStore) self = g_new0 (OwCounterStore, 1);

  self->dir = g_strdup (dir);
  self->log_path = g_build_filename (dir, OW_COUNTER_LOG_NAME, NULL);
  self->log_fd = -1;
  self->entries = g_hash_table_new_full (ow_str_hash, g_str_equal, NULL, ow_counter_entry_free);
  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      int saved = errno;

      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED, "Cannot create %s: %s", dir,
                   g_strerror (saved));
      return NULL;
    }
  /* Starts with the log read, when whole and root's alone; else with a compact log of the
   * entries loaded, with its current permissions. */
  if (!(ow_counter_store_load (self) && ow_counter_store_reopen (self))
      && !ow_counter_store_compact (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

void
ow_counter_store_free (OwCounterStore *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->entries, g_hash_table_unref);
  ow_fd_close (self->log_fd);
  g_free (self->log_path);
  g_free (self->dir);
  g_free (self);
}

OwCounterEntry *
ow_counter_store_lookup (OwCounterStore *self, const char *cgroup)
{
  return g_hash_table_lookup (self->entries, cgroup);
}

static int
compare_entries (gconstpointer a, gconstpointer b)
{
  return strcmp (((const OwCounterEntry *)a)->cgroup, ((const OwCounterEntry *)b)->cgroup);
}

GList *
ow_counter_store_entries (OwCounterStore *self)
{
  return g_list_sort (g_hash_table_get_values (self->entries), compare_entries);
}

/* What ENTRY's record says of the kernel's counters (the reported counts aside). */
typedef struct
{
  guint64 ino;
  guint64 seen[OW_N_COUNTERS];
  gboolean has[OW_N_COUNTERS];
} SavedSeen;

static void
get_saved_seen (const OwCounterEntry *entry, SavedSeen *out)
{
  out->ino = entry->ino;
  for (guint i = 0; i < OW_N_COUNTERS; i++)
    {
      out->has[i] = entry->seen.has[i];
      out->seen[i] = entry->seen.has[i] ? ow_counter_entry_saved_seen (entry, i) : 0;
    }
}

static gboolean
same_saved_seen (const SavedSeen *a, const SavedSeen *b)
{
  if (a->ino != b->ino)
    return FALSE;
  for (guint i = 0; i < OW_N_COUNTERS; i++)
    if (a->has[i] != b->has[i] || a->seen[i] != b->seen[i])
      return FALSE;
  return TRUE;
}

static OwCounterCatchUp *
catch_up (OwCounterEntry *entry)
{
  if (entry->catch_up == NULL)
    entry->catch_up = g_new0 (OwCounterCatchUp, 1);
  return entry->catch_up;
}

/* Dropped once nothing is owed and the entry is no longer pending. */
static void
maybe_caught_up (OwCounterEntry *entry)
{
  if (entry->catch_up == NULL || entry->pending)
    return;
  for (guint i = 0; i < OW_N_COUNTERS; i++)
    if (entry->catch_up->owed[i] > 0)
      return;
  g_clear_pointer (&entry->catch_up, g_free);
}

gboolean
ow_counter_store_save (OwCounterStore *self, OwCounterEntry *entry, GError **error)
{
  g_autoptr (GString) line = NULL;

  if (entry->saved)
    return TRUE; /* a watch made again with its counters as saved (each start-up) */
  line = g_string_sized_new (128);
  ow_counter_store_format (line, entry);
  entry->saved = ow_counter_store_append (self, line, error);
  return entry->saved;
}

void
ow_counter_store_forget (OwCounterStore *self, const char *cgroup)
{
  g_autoptr (GString) line = NULL;
  g_autoptr (GError) error = NULL;

  if (!g_hash_table_remove (self->entries, cgroup))
    return;
  line = g_string_new (NULL);
  ow_counter_store_format_forget (line, cgroup);
  if (!ow_counter_store_append (self, line, &error))
    g_warning ("Cannot forget the counters of %s: %s", cgroup, error->message);
}

OwCounterEntry *
ow_counter_store_reconcile (OwCounterStore *self, const char *cgroup, guint64 ino,
                            const OwCounters *baseline, OwCounters *missed)
{
  OwCounterEntry *entry = g_hash_table_lookup (self->entries, cgroup);
  SavedSeen old, now;
  OwCounterCatchUp *pending;

  memset (missed, 0, sizeof *missed);
  if (entry == NULL)
    {
      entry = g_new0 (OwCounterEntry, 1);
      entry->cgroup = ow_str_intern (cgroup);
      entry->ino = ino;
      entry->seen = *baseline;
      g_hash_table_replace (self->entries, entry->cgroup, entry);
      return entry;
    }
  if (!entry->pending)
    return entry;
  get_saved_seen (entry, &old);
  pending = catch_up (entry);
  for (guint i = 0; i < OW_N_COUNTERS; i++)
    {
      /* A cgroup made anew under the same name counts from zero. */
      guint64 before = entry->ino == ino && entry->seen.has[i] ? entry->seen.value[i] : 0;

      if (!baseline->has[i])
        continue;
      before += pending->emitted_while_pending[i];
      missed->has[i] = TRUE;
      missed->value[i] = baseline->value[i] > before ? baseline->value[i] - before : 0;
      entry->seen.has[i] = TRUE;
      entry->seen.value[i] = baseline->value[i];
      pending->owed[i] = missed->value[i];
      pending->emitted_while_pending[i] = 0;
    }
  entry->ino = ino;
  entry->pending = FALSE;
  get_saved_seen (entry, &now);
  entry->saved = entry->saved && same_saved_seen (&old, &now);
  maybe_caught_up (entry);
  return entry;
}

void
ow_counter_store_reported (OwCounterStore *self, const char *cgroup, OwCounter counter,
                           guint64 count, gboolean has_total, guint64 total, gboolean while_down)
{
  OwCounterEntry *entry = g_hash_table_lookup (self->entries, cgroup);
  g_autoptr (GError) error = NULL;

  if (entry == NULL)
    return; /* not a watched cgroup (e.g. removed meanwhile) */
  entry->reported[counter] += count;
  entry->saved = FALSE;
  if (while_down && entry->catch_up != NULL)
    entry->catch_up->owed[counter] -= MIN (count, entry->catch_up->owed[counter]);
  if (entry->pending && has_total)
    catch_up (entry)->emitted_while_pending[counter] += count;
  else if (has_total)
    {
      /* Counters only rise: a late report with an older total changes nothing. */
      entry->seen.has[counter] = TRUE;
      entry->seen.value[counter] = MAX (entry->seen.value[counter], total);
    }
  maybe_caught_up (entry);
  if (!ow_counter_store_save (self, entry, &error))
    g_warning ("Cannot save the counters of %s: %s", entry->cgroup, error->message);
}
