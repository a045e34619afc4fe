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
  int fd;
  guint lines;
};

/* A line is "b " and the entry as a serialised GVariant in base64: cheaper to write than
 * GVariant's text form, which earlier versions wrote and which is still read. */
#define BINARY_PREFIX "b "

static char *
entry_to_line (const OwHistoryEntry *entry)
{
  g_autoptr (GVariant) uids = g_variant_ref_sink (g_variant_new_fixed_array (
      G_VARIANT_TYPE_UINT32, entry->uids->data, entry->uids->len, sizeof (guint32)));
  g_autoptr (GVariant) value = g_variant_ref_sink (g_variant_new (
      "(txssst@a{sv}@aubu)", entry->seq, entry->time, entry->signal, entry->cgroup, entry->kind,
      entry->count, entry->details, uids, entry->has_victim_uid, entry->victim_uid));
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
  entry = ow_history_entry_new (signal, cgroup, kind, count, details);
  entry->seq = seq;
  entry->time = time;
  entry->has_victim_uid = has_victim_uid;
  entry->victim_uid = victim_uid;
  uid = g_variant_get_fixed_array (uids, &n_uids, sizeof (guint32));
  for (gsize i = 0; i < n_uids; i++)
    ow_history_entry_add_uid (entry, uid[i]);
  return entry;
}

static void
load (OwHistoryFile *self, OwHistory *history)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  guint64 last = 0;

  if (!g_file_get_contents (self->path, &text, NULL, NULL))
    return;
  lines = g_strsplit (text, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      OwHistoryEntry *entry = lines[i][0] != '\0' ? line_to_entry (lines[i]) : NULL;

      if (entry == NULL)
        continue;
      /* Only increasing seqs: a file of an earlier epoch was removed with the directory. */
      if (entry->seq <= last)
        {
          ow_history_entry_free (entry);
          continue;
        }
      last = entry->seq;
      ow_history_append (history, entry);
      self->lines++;
    }
}

static gboolean
rewrite (OwHistoryFile *self, OwHistory *history, GError **error)
{
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GList) entries = ow_history_entries (history);
  g_auto (OwFd) fd = -1;

  for (GList *l = entries; l != NULL; l = l->next)
    {
      g_autofree char *line = entry_to_line (l->data);

      g_string_append (text, line);
    }
  fd = ow_state_file_replace_and_open (self->path, text->str, (gssize)text->len, 0600, error);
  if (fd < 0)
    return FALSE;
  ow_fd_close (self->fd);
  self->fd = ow_fd_steal (&fd);
  self->lines = g_list_length (entries);
  return TRUE;
}

OwHistoryFile *
ow_history_file_open (const char *path, OwHistory *history, GError **error)
{
  g_autoptr (OwHistoryFile) self = g_new0 (OwHistoryFile, 1);

  self->path = g_strdup (path);
  self->fd = -1;
  load (self, history);
  /* Starts with a compact file of the entries kept, with their current permissions. */
  if (!rewrite (self, history, error))
    return NULL;
  return g_steal_pointer (&self);
}

void
ow_history_file_free (OwHistoryFile *self)
{
  if (self == NULL)
    return;
  ow_fd_close (self->fd);
  g_free (self->path);
  g_free (self);
}

void
ow_history_file_append (OwHistoryFile *self, OwHistory *history, const OwHistoryEntry *entry)
{
  g_autofree char *line = entry_to_line (entry);
  g_autoptr (GError) error = NULL;
  gsize length = strlen (line);

  if (self->lines >= 2 * MAX (ow_history_get_capacity (history), 16))
    {
      if (!rewrite (self, history, &error))
        g_warning ("Cannot compact the history file: %s", error->message);
      return; /* the rewrite holds ENTRY already */
    }
  if (write (self->fd, line, length) != (gssize)length)
    g_warning ("Cannot save the history in %s: %s", self->path, g_strerror (errno));
  self->lines++;
}
