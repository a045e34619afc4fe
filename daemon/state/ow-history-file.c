/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-history-file.h"
#include "ow-state-file.h"
#include "ow-fd.h"
#include "oomwatch-error.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define ENTRY_TYPE "(txsssta{sv}aubu)"

struct _OwHistoryFile
{
  char *path;
  int fd; /* read and appended to */
  goffset size;
  guint lines;
  OwHistory *history; /* borrowed: whose entries' details are here */
};

/* A line is "b " and the entry as a serialised GVariant in base64: cheaper to write than
 * GVariant's text form, which earlier versions wrote and which is still read. */
#define BINARY_PREFIX "b "

static char *
entry_to_line (const OwHistoryEntry *entry)
{
  /* ENTRY_TYPE, made of its children: g_variant_new() would parse a format string per field */
  GVariant *fields[] = {
    g_variant_new_uint64 (entry->seq),
    g_variant_new_int64 (entry->time),
    g_variant_new_string (entry->signal),
    g_variant_new_string (entry->cgroup),
    g_variant_new_string (entry->kind),
    g_variant_new_uint64 (entry->count),
    entry->details,
    g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32, entry->uids, entry->n_uids, sizeof (guint32)),
    g_variant_new_boolean (entry->has_victim_uid),
    g_variant_new_uint32 (entry->victim_uid),
  };
  g_autoptr (GVariant) value
      = g_variant_ref_sink (g_variant_new_tuple (fields, G_N_ELEMENTS (fields)));
  g_autofree char *text
      = g_base64_encode (g_variant_get_data (value), g_variant_get_size (value));

  return g_strconcat (BINARY_PREFIX, text, "\n", NULL);
}

static GVariant *
parse_line (const char *line)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GVariant) value = NULL;
  guchar *data;
  gsize length;

  if (!g_str_has_prefix (line, BINARY_PREFIX))
    return g_variant_parse (G_VARIANT_TYPE (ENTRY_TYPE), line, NULL, NULL, NULL);
  data = g_base64_decode (line + strlen (BINARY_PREFIX), &length);
  bytes = g_bytes_new_take (data, length);
  value = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (ENTRY_TYPE), bytes, FALSE));
  /* A line torn by a crash is not in normal form (or, rarely, reads as an older seq). */
  return g_variant_is_normal_form (value) ? g_steal_pointer (&value) : NULL;
}

static OwHistoryEntry *
line_to_entry (const char *line)
{
  g_autoptr (GVariant) value = parse_line (line);
  g_autoptr (GVariant) details = NULL;
  g_autoptr (GVariant) uids = NULL;
  const char *signal, *cgroup, *kind;
  OwHistoryEntry *entry;
  const guint32 *uid;
  gsize n_uids;
  gint64 time;
  guint64 seq, count;
  gboolean has_victim_uid;
  guint32 victim_uid;

  if (value == NULL)
    return NULL; /* torn by a crash, or not ours */
  g_variant_get (value, "(tx&s&s&st@a{sv}@aubu)", &seq, &time, &signal, &cgroup, &kind, &count,
                 &details, &uids, &has_victim_uid, &victim_uid);
  entry = ow_history_entry_new (signal, cgroup, kind, count, details, time);
  entry->seq = seq;
  entry->has_victim_uid = has_victim_uid;
  entry->victim_uid = victim_uid;
  uid = g_variant_get_fixed_array (uids, &n_uids, sizeof (guint32));
  for (gsize i = 0; i < n_uids; i++)
    ow_history_entry_add_uid (entry, uid[i]);
  return entry;
}

/* ENTRY's line as written, with its newline (NULL: it cannot be read back). */
static char *
read_stored (OwHistoryFile *self, const OwHistoryEntry *entry)
{
  g_autofree char *line = g_malloc (entry->stored_length + 1);

  if (pread (self->fd, line, entry->stored_length, entry->stored_at)
      != (gssize)entry->stored_length)
    return NULL;
  line[entry->stored_length] = '\0';
  return g_steal_pointer (&line);
}

static GVariant *
load_details (const OwHistoryEntry *entry, gpointer user_data)
{
  OwHistoryFile *self = user_data;
  g_autofree char *line = read_stored (self, entry);
  g_autoptr (GVariant) value = NULL;
  guint64 seq;

  if (line == NULL || !g_str_has_suffix (line, "\n"))
    return NULL;
  line[entry->stored_length - 1] = '\0';
  value = parse_line (line);
  if (value == NULL)
    return NULL;
  g_variant_get_child (value, 0, "t", &seq);
  return seq == entry->seq ? g_variant_get_child_value (value, 6) : NULL;
}

/* ENTRY's line is at AT in the file: its details are read back from there from now on. */
static void
stored (OwHistoryEntry *entry, goffset at, gsize length)
{
  entry->stored_at = at;
  entry->stored_length = (guint)length;
  g_clear_pointer (&entry->details, g_variant_unref);
}

static void
load (OwHistoryFile *self, OwHistory *history)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (self->path, &text, NULL, NULL))
    return;
  lines = g_strsplit (text, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      OwHistoryEntry *entry = lines[i][0] != '\0' ? line_to_entry (lines[i]) : NULL;

      if (entry == NULL)
        continue;
      /* A file of an earlier epoch was removed with the directory. Lines out of seq order are
       * signals told again after a restart; one told twice is kept once. */
      ow_history_append (history, entry);
      self->lines++;
    }
}

/* A file of HISTORY's entries alone. Those written out before are copied from the file. */
static gboolean
rewrite (OwHistoryFile *self, OwHistory *history, GError **error)
{
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GList) entries = ow_history_entries (history);
  g_autoptr (GArray) ends = g_array_new (FALSE, FALSE, sizeof (gsize)); /* of each line */
  g_auto (OwFd) fd = -1;
  gsize start = 0;
  guint i = 0;

  for (GList *l = entries; l != NULL; l = l->next)
    {
      OwHistoryEntry *entry = l->data;
      g_autofree char *line
          = entry->details != NULL ? entry_to_line (entry) : read_stored (self, entry);

      if (line != NULL)
        g_string_append (text, line);
      g_array_append_val (ends, text->len);
    }
  fd = ow_state_file_replace_and_open (self->path, text->str, (gssize)text->len, 0600, error);
  if (fd < 0)
    return FALSE;
  ow_fd_close (self->fd);
  self->fd = ow_fd_steal (&fd);
  self->size = (goffset)text->len;
  self->lines = 0;
  for (GList *l = entries; l != NULL; l = l->next, i++)
    {
      gsize end = g_array_index (ends, gsize, i);

      /* A line that could not be read back is not in the new file: its details are lost. */
      stored (l->data, (goffset)start, end - start);
      self->lines += end > start;
      start = end;
    }
  return TRUE;
}

OwHistoryFile *
ow_history_file_open (const char *path, OwHistory *history, GError **error)
{
  g_autoptr (OwHistoryFile) self = g_new0 (OwHistoryFile, 1);

  self->path = g_strdup (path);
  self->fd = -1;
  self->history = history;
  load (self, history);
  /* Starts with a compact file of the entries kept, with their current permissions. */
  if (!rewrite (self, history, error))
    return NULL;
  ow_history_set_store (history, load_details, self);
  return g_steal_pointer (&self);
}

void
ow_history_file_free (OwHistoryFile *self)
{
  if (self == NULL)
    return;
  if (self->history != NULL)
    ow_history_set_store (self->history, NULL, NULL);
  ow_fd_close (self->fd);
  g_free (self->path);
  g_free (self);
}

void
ow_history_file_append (OwHistoryFile *self, OwHistory *history, OwHistoryEntry *entry)
{
  g_autofree char *line = entry_to_line (entry);
  g_autoptr (GError) error = NULL;
  gsize length = strlen (line);
  gssize written;

  if (self->lines >= 2 * MAX (ow_history_get_capacity (history), 16))
    {
      if (rewrite (self, history, &error))
        return; /* the rewrite holds ENTRY already */
      g_warning ("Cannot compact the history file: %s", error->message);
      self->lines -= MAX (ow_history_get_capacity (history), 16); /* not at every event */
    }
  written = write (self->fd, line, length);
  if (written == (gssize)length)
    {
      stored (entry, self->size, length);
      self->size += (goffset)length;
      self->lines++;
      return;
    }
  /* Kept in memory; the lines after it start where the file ends. */
  g_warning ("Cannot save the history in %s: %s", self->path,
             written < 0 ? g_strerror (errno) : "short write");
  /* A part of a line would run into the next one: cut it off, or end it. */
  if (written > 0 && ftruncate (self->fd, self->size) < 0)
    {
      goffset end;

      if (write (self->fd, "\n", 1) != 1)
        g_debug ("Cannot end the part written: %s", g_strerror (errno));
      if ((end = lseek (self->fd, 0, SEEK_END)) >= 0)
        self->size = end;
    }
  self->lines++;
}
