/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-counter-store.h"
#include "ow-state-file.h"
#include "oomwatch-error.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#define GROUP "Counters"
#define SUFFIX ".counters"

static const char *const counter_keys[OW_N_COUNTERS] = { "Oom", "OomKill", "OomGroupKill" };

struct _OwCounterStore
{
  char *dir;
  GHashTable *entries; /* cgroup → OwCounterEntry */
};

static void
entry_free (gpointer data)
{
  OwCounterEntry *entry = data;

  g_free (entry->cgroup);
  g_free (entry);
}

/* Cgroup names may be long and hold any byte but '/': the file is named by a digest. */
static char *
entry_path (OwCounterStore *self, const char *cgroup)
{
  g_autofree char *digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, cgroup, -1);
  g_autofree char *name = g_strconcat (digest, SUFFIX, NULL);

  return g_build_filename (self->dir, name, NULL);
}

static OwCounterEntry *
load_entry (const char *path)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autofree char *cgroup = NULL;
  OwCounterEntry *entry;

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, NULL)
      || (cgroup = g_key_file_get_string (file, GROUP, "Cgroup", NULL)) == NULL || cgroup[0] != '/')
    return NULL;
  entry = g_new0 (OwCounterEntry, 1);
  entry->cgroup = g_steal_pointer (&cgroup);
  entry->ino = g_key_file_get_uint64 (file, GROUP, "Inode", NULL);
  for (guint i = 0; i < OW_N_COUNTERS; i++)
    {
      g_autofree char *seen_key = g_strconcat ("Seen", counter_keys[i], NULL);
      g_autofree char *reported_key = g_strconcat ("Reported", counter_keys[i], NULL);

      entry->seen.has[i] = g_key_file_has_key (file, GROUP, seen_key, NULL);
      entry->seen.value[i] = g_key_file_get_uint64 (file, GROUP, seen_key, NULL);
      entry->reported[i] = g_key_file_get_uint64 (file, GROUP, reported_key, NULL);
    }
  entry->pending = TRUE;
  return entry;
}

OwCounterStore *
ow_counter_store_open (const char *dir, GError **error)
{
  g_autoptr (OwCounterStore) self = g_new0 (OwCounterStore, 1);
  g_autoptr (GDir) listing = NULL;
  const char *name;

  self->dir = g_strdup (dir);
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, entry_free);
  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      int saved = errno;

      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED, "Cannot create %s: %s", dir,
                   g_strerror (saved));
      return NULL;
    }
  listing = g_dir_open (dir, 0, error);
  if (listing == NULL)
    return NULL;
  while ((name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      OwCounterEntry *entry;

      if (!g_str_has_suffix (name, SUFFIX))
        continue; /* a temporary file of an interrupted save */
      entry = load_entry (path);
      if (entry == NULL)
        g_warning ("Ignoring the unreadable counter file %s", path);
      else
        g_hash_table_replace (self->entries, entry->cgroup, entry);
    }
  return g_steal_pointer (&self);
}

void
ow_counter_store_free (OwCounterStore *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->entries, g_hash_table_unref);
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

gboolean
ow_counter_store_save (OwCounterStore *self, OwCounterEntry *entry, GError **error)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autofree char *path = entry_path (self, entry->cgroup);
  g_autofree char *text = NULL;
  gsize length;

  g_key_file_set_string (file, GROUP, "Cgroup", entry->cgroup);
  g_key_file_set_uint64 (file, GROUP, "Inode", entry->ino);
  for (guint i = 0; i < OW_N_COUNTERS; i++)
    {
      g_autofree char *seen_key = g_strconcat ("Seen", counter_keys[i], NULL);
      g_autofree char *reported_key = g_strconcat ("Reported", counter_keys[i], NULL);

      /* What is still owed is saved as not seen: a crash before it is told tells it next time. */
      if (entry->seen.has[i])
        g_key_file_set_uint64 (file, GROUP, seen_key,
                               entry->seen.value[i] - MIN (entry->owed[i], entry->seen.value[i]));
      g_key_file_set_uint64 (file, GROUP, reported_key, entry->reported[i]);
    }
  text = g_key_file_to_data (file, &length, NULL);
  /* write + rename: a reader (or the next run) sees the old file or the new one. */
  return ow_state_file_replace (path, text, (gssize)length, 0600, error);
}

void
ow_counter_store_forget (OwCounterStore *self, const char *cgroup)
{
  g_autofree char *path = entry_path (self, cgroup);

  if (g_hash_table_remove (self->entries, cgroup) && g_unlink (path) < 0 && errno != ENOENT)
    g_warning ("Cannot remove %s: %s", path, g_strerror (errno));
}

OwCounterEntry *
ow_counter_store_reconcile (OwCounterStore *self, const char *cgroup, guint64 ino,
                            const OwCounters *baseline, OwCounters *missed)
{
  OwCounterEntry *entry = g_hash_table_lookup (self->entries, cgroup);

  memset (missed, 0, sizeof *missed);
  if (entry == NULL)
    {
      entry = g_new0 (OwCounterEntry, 1);
      entry->cgroup = g_strdup (cgroup);
      entry->ino = ino;
      entry->seen = *baseline;
      g_hash_table_replace (self->entries, entry->cgroup, entry);
      return entry;
    }
  if (!entry->pending)
    return entry;
  for (guint i = 0; i < OW_N_COUNTERS; i++)
    {
      /* A cgroup made anew under the same name counts from zero. */
      guint64 before = entry->ino == ino && entry->seen.has[i] ? entry->seen.value[i] : 0;

      if (!baseline->has[i])
        continue;
      before += entry->emitted_while_pending[i];
      missed->has[i] = TRUE;
      missed->value[i] = baseline->value[i] > before ? baseline->value[i] - before : 0;
      entry->seen.has[i] = TRUE;
      entry->seen.value[i] = baseline->value[i];
      entry->owed[i] = missed->value[i];
      entry->emitted_while_pending[i] = 0;
    }
  entry->ino = ino;
  entry->pending = FALSE;
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
  if (while_down)
    entry->owed[counter] -= MIN (count, entry->owed[counter]);
  if (entry->pending && has_total)
    entry->emitted_while_pending[counter] += count;
  else if (has_total)
    {
      /* Counters only rise: a late report with an older total changes nothing. */
      entry->seen.has[counter] = TRUE;
      entry->seen.value[counter] = MAX (entry->seen.value[counter], total);
    }
  if (!ow_counter_store_save (self, entry, &error))
    g_warning ("Cannot save the counters of %s: %s", entry->cgroup, error->message);
}
