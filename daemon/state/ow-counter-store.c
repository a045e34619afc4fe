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

  g_ref_string_release (entry->cgroup);
  g_free (entry->catch_up);
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

/* A cgroup name GKeyFile writes as it is (nothing to escape). */
static gboolean
plain_value (const char *value, gsize length)
{
  return length > 0 && value[0] != ' ' && strcspn (value, "\\\n\t\r") == length
         && g_utf8_validate (value, (gssize)length, NULL);
}

/* NUMBER, or FALSE for anything but decimal digits. */
static gboolean
parse_number (const char *text, guint64 *number)
{
  return text[0] >= '0' && text[0] <= '9'
         && g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, number, NULL);
}

static gboolean
parse_key (OwCounterEntry *entry, const char *key, const char *value)
{
  if (strcmp (key, "Cgroup") == 0)
    {
      if (entry->cgroup != NULL || value[0] != '/' || !plain_value (value, strlen (value)))
        return FALSE;
      entry->cgroup = g_ref_string_new_intern (value);
      return TRUE;
    }
  if (strcmp (key, "Inode") == 0)
    return parse_number (value, &entry->ino);
  for (guint i = 0; i < OW_N_COUNTERS; i++)
    {
      if (g_str_has_prefix (key, "Seen") && strcmp (key + 4, counter_keys[i]) == 0)
        return (entry->seen.has[i] = parse_number (value, &entry->seen.value[i]));
      if (g_str_has_prefix (key, "Reported") && strcmp (key + 8, counter_keys[i]) == 0)
        return parse_number (value, &entry->reported[i]);
    }
  return TRUE; /* a key of a later version */
}

/* The file as save_text() writes it: "[Counters]" and "Key=Value" lines. NULL for anything
 * else, which GKeyFile then reads (or refuses). */
static OwCounterEntry *
parse_plain (char *text)
{
  OwCounterEntry *entry = g_new0 (OwCounterEntry, 1);
  char *line = text, *next;

  if (!g_str_has_prefix (text, "[" GROUP "]\n"))
    goto refuse;
  for (line = text + strlen ("[" GROUP "]\n"); *line != '\0'; line = next)
    {
      char *end = strchr (line, '\n'), *equals = strchr (line, '=');

      if (end == NULL || equals == NULL || equals > end || equals == line)
        goto refuse;
      *end = *equals = '\0';
      next = end + 1;
      if (!parse_key (entry, line, equals + 1))
        goto refuse;
    }
  if (entry->cgroup != NULL)
    return entry;
refuse:
  g_clear_pointer (&entry->cgroup, g_ref_string_release);
  g_free (entry);
  return NULL;
}

static OwCounterEntry *
load_keyfile (const char *text, gsize length)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autofree char *cgroup = NULL;
  OwCounterEntry *entry;

  if (!g_key_file_load_from_data (file, text, length, G_KEY_FILE_NONE, NULL)
      || (cgroup = g_key_file_get_string (file, GROUP, "Cgroup", NULL)) == NULL || cgroup[0] != '/')
    return NULL;
  entry = g_new0 (OwCounterEntry, 1);
  entry->cgroup = g_ref_string_new_intern (cgroup);
  entry->ino = g_key_file_get_uint64 (file, GROUP, "Inode", NULL);
  for (guint i = 0; i < OW_N_COUNTERS; i++)
    {
      g_autofree char *seen_key = g_strconcat ("Seen", counter_keys[i], NULL);
      g_autofree char *reported_key = g_strconcat ("Reported", counter_keys[i], NULL);

      entry->seen.has[i] = g_key_file_has_key (file, GROUP, seen_key, NULL);
      entry->seen.value[i] = g_key_file_get_uint64 (file, GROUP, seen_key, NULL);
      entry->reported[i] = g_key_file_get_uint64 (file, GROUP, reported_key, NULL);
    }
  return entry;
}

static OwCounterEntry *
load_entry (const char *path)
{
  g_autofree char *text = NULL, *scratch = NULL;
  gsize length;
  OwCounterEntry *entry;

  if (!g_file_get_contents (path, &text, &length, NULL))
    return NULL;
  scratch = g_memdup2 (text, length + 1); /* parse_plain() cuts it into lines */
  entry = strlen (text) == length ? parse_plain (scratch) : NULL;
  if (entry == NULL)
    entry = load_keyfile (text, length);
  if (entry != NULL)
    entry->pending = entry->saved = TRUE;
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

/* What is still owed is saved as not seen: a crash before it is told tells it next time. */
static guint64
saved_seen (const OwCounterEntry *entry, guint i)
{
  guint64 owed = entry->catch_up != NULL ? entry->catch_up->owed[i] : 0;

  return entry->seen.value[i] - MIN (owed, entry->seen.value[i]);
}

/* What ENTRY's file says of the kernel's counters (the reported counts aside). */
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
      out->seen[i] = entry->seen.has[i] ? saved_seen (entry, i) : 0;
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

/* The file's text: written directly when the cgroup's name needs no escaping (GKeyFile reads
 * it all the same), else by GKeyFile. */
static char *
save_text (const OwCounterEntry *entry, gsize *length)
{
  g_autoptr (GKeyFile) file = NULL;
  GString *text;

  if (plain_value (entry->cgroup, strlen (entry->cgroup)))
    {
      text = g_string_sized_new (256);
      g_string_append_printf (text, "[" GROUP "]\nCgroup=%s\nInode=%" G_GUINT64_FORMAT "\n",
                              entry->cgroup, entry->ino);
      for (guint i = 0; i < OW_N_COUNTERS; i++)
        {
          if (entry->seen.has[i])
            g_string_append_printf (text, "Seen%s=%" G_GUINT64_FORMAT "\n", counter_keys[i],
                                    saved_seen (entry, i));
          g_string_append_printf (text, "Reported%s=%" G_GUINT64_FORMAT "\n", counter_keys[i],
                                  entry->reported[i]);
        }
      *length = text->len;
      return g_string_free (text, FALSE);
    }
  file = g_key_file_new ();
  g_key_file_set_string (file, GROUP, "Cgroup", entry->cgroup);
  g_key_file_set_uint64 (file, GROUP, "Inode", entry->ino);
  for (guint i = 0; i < OW_N_COUNTERS; i++)
    {
      g_autofree char *seen_key = g_strconcat ("Seen", counter_keys[i], NULL);
      g_autofree char *reported_key = g_strconcat ("Reported", counter_keys[i], NULL);

      if (entry->seen.has[i])
        g_key_file_set_uint64 (file, GROUP, seen_key, saved_seen (entry, i));
      g_key_file_set_uint64 (file, GROUP, reported_key, entry->reported[i]);
    }
  return g_key_file_to_data (file, length, NULL);
}

gboolean
ow_counter_store_save (OwCounterStore *self, OwCounterEntry *entry, GError **error)
{
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  gsize length;

  if (entry->saved)
    return TRUE; /* a watch made again with its counters as saved (each start-up) */
  path = entry_path (self, entry->cgroup);
  text = save_text (entry, &length);
  /* write + rename: a reader (or the next run) sees the old file or the new one. */
  entry->saved = ow_state_file_replace (path, text, (gssize)length, 0600, error);
  return entry->saved;
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
  SavedSeen old, now;
  OwCounterCatchUp *pending;

  memset (missed, 0, sizeof *missed);
  if (entry == NULL)
    {
      entry = g_new0 (OwCounterEntry, 1);
      entry->cgroup = g_ref_string_new_intern (cgroup);
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
