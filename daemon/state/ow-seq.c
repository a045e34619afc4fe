/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-seq.h"
#include "ow-state-file.h"

#include <string.h>

struct _OwSeq
{
  char *path;
  char *boot_id;
  char *epoch;
  guint block;
  guint64 last;
  guint64 reserved; /* every number up to this one may have been handed out already */
};

/* Written before any number of the block is used: a crash right after the write loses numbers,
 * never repeats one. */
static gboolean
reserve (OwSeq *self, guint64 up_to, GError **error)
{
  g_autofree char *text
      = g_strdup_printf ("%s %s %" G_GUINT64_FORMAT "\n", self->boot_id, self->epoch, up_to);

  if (!ow_state_file_replace (self->path, text, -1, 0600, error))
    return FALSE;
  self->reserved = up_to;
  return TRUE;
}

static guint64
read_mark (const char *path, const char *boot_id, char **epoch)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) fields = NULL;
  guint64 mark;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  fields = g_strsplit (g_strstrip (text), " ", 3);
  if (g_strv_length (fields) != 3 || strcmp (fields[0], boot_id) != 0 || fields[1][0] == '\0'
      || !g_ascii_string_to_unsigned (fields[2], 10, 0, G_MAXUINT64 / 2, &mark, NULL))
    return 0; /* another boot, or garbage: numbering starts again */
  *epoch = g_strdup (fields[1]);
  return mark;
}

OwSeq *
ow_seq_open (const char *path, const char *boot_id, guint block, GError **error)
{
  g_autoptr (OwSeq) self = g_new0 (OwSeq, 1);

  self->path = g_strdup (path);
  self->boot_id = g_strdup (boot_id[0] != '\0' ? boot_id : "unknown-boot");
  self->block = MAX (block, 1);
  self->last = read_mark (path, self->boot_id, &self->epoch);
  if (self->epoch == NULL)
    self->epoch = g_uuid_string_random ();
  if (!reserve (self, self->last + self->block, error))
    return NULL;
  return g_steal_pointer (&self);
}

void
ow_seq_free (OwSeq *self)
{
  if (self == NULL)
    return;
  g_free (self->path);
  g_free (self->boot_id);
  g_free (self->epoch);
  g_free (self);
}

guint64
ow_seq_next (OwSeq *self)
{
  g_autoptr (GError) error = NULL;

  if (self->last + 1 > self->reserved && !reserve (self, self->reserved + self->block, &error))
    {
      /* Numbers stay increasing in this run; only a restart could repeat them. */
      g_warning ("Cannot save the sequence number: %s", error->message);
      self->reserved += self->block;
    }
  return ++self->last;
}

const char *
ow_seq_epoch (OwSeq *self)
{
  return self->epoch;
}

guint64
ow_seq_last (OwSeq *self)
{
  return self->last;
}

char *
ow_seq_read_boot_id (const char *path)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return g_strdup ("");
  return g_strdup (g_strstrip (text));
}
