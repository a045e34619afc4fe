/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-history.h"
#include "oomwatch-names.h"

#include <string.h>

static const char *const identity_keys[] = { OOMWATCH_IDENTITY_KEYS, NULL };

struct _OwHistory
{
  GQueue entries; /* oldest first */
  guint capacity;
  OwHistoryLoadFunc load;
  gpointer load_data;
};

OwHistoryEntry *
ow_history_entry_new (const char *signal, const char *cgroup, const char *kind, guint64 count,
                      GVariant *details, gint64 time)
{
  OwHistoryEntry *entry = g_new0 (OwHistoryEntry, 1);

  entry->signal = g_intern_string (signal);
  entry->cgroup = g_ref_string_new_intern (cgroup);
  entry->kind = g_intern_string (kind);
  entry->count = count;
  entry->details = details != NULL ? g_variant_ref_sink (details) : NULL;
  entry->time = time;
  entry->uids = entry->few;
  return entry;
}

void
ow_history_entry_free (OwHistoryEntry *entry)
{
  if (entry == NULL)
    return;
  g_ref_string_release (entry->cgroup);
  g_clear_pointer (&entry->details, g_variant_unref);
  if (entry->uids != entry->few)
    g_free (entry->uids);
  g_free (entry);
}

void
ow_history_entry_add_uid (OwHistoryEntry *entry, guint32 uid)
{
  for (guint i = 0; i < entry->n_uids; i++)
    if (entry->uids[i] == uid)
      return;
  if (entry->uids == entry->few && entry->n_uids == G_N_ELEMENTS (entry->few))
    entry->uids = g_memdup2 (entry->few, sizeof entry->few);
  if (entry->uids != entry->few)
    entry->uids = g_renew (guint32, entry->uids, entry->n_uids + 1);
  entry->uids[entry->n_uids++] = uid;
}

OwHistory *
ow_history_new (guint capacity)
{
  OwHistory *self = g_new0 (OwHistory, 1);

  g_queue_init (&self->entries);
  self->capacity = capacity;
  return self;
}

void
ow_history_free (OwHistory *self)
{
  if (self == NULL)
    return;
  g_queue_clear_full (&self->entries, (GDestroyNotify)ow_history_entry_free);
  g_free (self);
}

static void
trim (OwHistory *self)
{
  while (self->entries.length > self->capacity)
    ow_history_entry_free (g_queue_pop_head (&self->entries));
}

void
ow_history_set_store (OwHistory *self, OwHistoryLoadFunc load, gpointer user_data)
{
  self->load = load;
  self->load_data = user_data;
}

GVariant *
ow_history_entry_details (OwHistory *self, const OwHistoryEntry *entry)
{
  if (entry->details != NULL)
    return g_variant_ref (entry->details);
  return self->load != NULL && entry->stored_length > 0 ? self->load (entry, self->load_data)
                                                        : NULL;
}

void
ow_history_set_capacity (OwHistory *self, guint capacity)
{
  self->capacity = capacity;
  trim (self);
}

guint
ow_history_get_capacity (OwHistory *self)
{
  return self->capacity;
}

guint
ow_history_length (OwHistory *self)
{
  return self->entries.length;
}

guint64
ow_history_oldest_seq (OwHistory *self)
{
  OwHistoryEntry *oldest = g_queue_peek_head (&self->entries);

  return oldest != NULL ? oldest->seq : 0;
}

GList *
ow_history_entries (OwHistory *self)
{
  return g_list_copy (self->entries.head);
}

gboolean
ow_history_append (OwHistory *self, OwHistoryEntry *entry)
{
  GList *before = self->entries.tail;

  while (before != NULL && ((OwHistoryEntry *)before->data)->seq > entry->seq)
    before = before->prev;
  if ((before != NULL && ((OwHistoryEntry *)before->data)->seq == entry->seq)
      || (before == NULL && self->entries.length >= self->capacity))
    {
      ow_history_entry_free (entry); /* there already, or older than all it keeps */
      return FALSE;
    }
  /* Kept serialised: built with a GVariantDict, details are a tree of small GVariants
   * (kilobytes per entry) until their bytes are asked for once. */
  if (entry->details != NULL)
    g_variant_get_data (entry->details);
  if (before == NULL)
    g_queue_push_head (&self->entries, entry);
  else
    g_queue_insert_after (&self->entries, before, entry);
  trim (self);
  return TRUE;
}

gboolean
ow_history_visible (const OwHistoryEntry *entry, guint32 uid, OwHistoryWatchedFunc watched,
                    gpointer user_data)
{
  if (uid == 0)
    return TRUE;
  for (guint i = 0; i < entry->n_uids; i++)
    if (entry->uids[i] == uid)
      return TRUE;
  return watched != NULL && watched (entry->cgroup, uid, user_data);
}

GVariant *
ow_history_filter_details (GVariant *details, gboolean has_victim_uid, guint32 victim_uid,
                           guint32 uid)
{
  GVariantBuilder builder;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  if (uid == 0 || (has_victim_uid && victim_uid == uid))
    return g_variant_ref (details);
  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&iter, details);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      if (!g_strv_contains (identity_keys, key))
        g_variant_builder_add (&builder, "{sv}", key, value);
      g_variant_unref (value);
    }
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

static GVariant *
describe (OwHistory *self, const OwHistoryEntry *entry, guint32 uid)
{
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  g_autoptr (GVariant) complete = ow_history_entry_details (self, entry);
  g_autoptr (GVariant) details = NULL;
  gboolean removed = strcmp (entry->signal, "WatchRemoved") == 0;

  if (complete == NULL) /* lost with its line of the file: the entry without them */
    complete = g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
  details = ow_history_filter_details (complete, entry->has_victim_uid, entry->victim_uid, uid);

  g_variant_dict_insert (&dict, "seq", "t", entry->seq);
  g_variant_dict_insert (&dict, "time", "t", (guint64)entry->time);
  g_variant_dict_insert (&dict, "signal", "s", entry->signal);
  g_variant_dict_insert (&dict, "cgroup", "s", entry->cgroup);
  g_variant_dict_insert (&dict, removed ? "reason" : "kind", "s", entry->kind);
  if (!removed)
    g_variant_dict_insert (&dict, "count", "t", entry->count);
  g_variant_dict_insert_value (&dict, "details", details);
  return g_variant_dict_end (&dict);
}

GVariant *
ow_history_query (OwHistory *self, guint64 after, gint64 since, guint max, guint32 uid,
                  OwHistoryWatchedFunc watched, gpointer user_data)
{
  g_autoptr (GPtrArray) picked = g_ptr_array_new ();
  GVariantBuilder builder;
  guint first = 0;

  for (GList *l = self->entries.head; l != NULL; l = l->next)
    {
      OwHistoryEntry *entry = l->data;

      if (entry->seq > after && entry->time >= since
          && ow_history_visible (entry, uid, watched, user_data))
        g_ptr_array_add (picked, entry);
    }
  if (max > 0 && picked->len > max)
    first = picked->len - max;
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = first; i < picked->len; i++)
    g_variant_builder_add_value (&builder, describe (self, g_ptr_array_index (picked, i), uid));
  return g_variant_builder_end (&builder);
}
