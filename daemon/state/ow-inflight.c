/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-inflight.h"
#include "ow-fd.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "OWINFL1"

typedef struct
{
  char magic[8];
  guint32 slots;
  guint32 mark_size;
  OwInflightMark marks[OW_INFLIGHT_SLOTS];
} Layout;

struct _OwInflight
{
  Layout *map;
  gboolean carried[OW_INFLIGHT_SLOTS]; /* an earlier run's mark, not yet resolved */
  guint n_carried;
  guint cursor; /* where the next free slot is looked for */
};

/* FNV-1a: marks name their cgroup by a hash, so that a slot has a fixed size. */
static guint64
hash_cgroup (const char *cgroup)
{
  guint64 hash = 14695981039346656037ull;

  for (const guchar *p = (const guchar *)cgroup; *p != '\0'; p++)
    hash = (hash ^ *p) * 1099511628211ull;
  return hash;
}

static OwInflightState
state_of (OwInflightMark *mark)
{
  return (OwInflightState)g_atomic_int_get (&mark->state);
}

/* The state is stored last: a mark half written when the run is killed reads as free. */
static void
set_state (OwInflightMark *mark, OwInflightState state)
{
  g_atomic_int_set (&mark->state, state);
}

OwInflight *
ow_inflight_open (const char *path, gboolean reset, GError **error)
{
  g_autoptr (OwInflight) self = g_new0 (OwInflight, 1);
  g_auto (OwFd) fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  struct stat st = { 0 };
  void *map;
  int failed = 0;

  if (fd < 0 || fstat (fd, &st) < 0
      || (S_ISREG (st.st_mode) && st.st_size != sizeof (Layout)
          && ftruncate (fd, sizeof (Layout)) < 0))
    failed = errno;
  else if (!S_ISREG (st.st_mode))
    failed = EINVAL;
  else /* its pages now: a store into a hole of a full tmpfs would be a SIGBUS */
    failed = posix_fallocate (fd, 0, sizeof (Layout));
  if (failed != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (failed), "Cannot open %s: %s", path,
                   g_strerror (failed));
      return NULL;
    }
  map = mmap (NULL, sizeof (Layout), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "Cannot map %s: %s", path,
                   g_strerror (saved));
      return NULL;
    }
  self->map = map;
  if (reset || st.st_size != sizeof (Layout) || memcmp (self->map->magic, MAGIC, sizeof MAGIC) != 0
      || self->map->slots != OW_INFLIGHT_SLOTS || self->map->mark_size != sizeof (OwInflightMark))
    {
      memset (self->map, 0, sizeof (Layout));
      memcpy (self->map->magic, MAGIC, sizeof MAGIC);
      self->map->slots = OW_INFLIGHT_SLOTS;
      self->map->mark_size = sizeof (OwInflightMark);
    }
  for (guint i = 0; i < OW_INFLIGHT_SLOTS; i++)
    if (state_of (&self->map->marks[i]) != OW_INFLIGHT_FREE)
      {
        self->carried[i] = TRUE;
        self->n_carried++;
      }
  return g_steal_pointer (&self);
}

void
ow_inflight_free (OwInflight *self)
{
  if (self == NULL)
    return;
  if (self->map != NULL)
    munmap (self->map, sizeof (Layout));
  g_free (self);
}

static void
resolve (OwInflight *self, guint slot)
{
  if (self->carried[slot])
    {
      self->carried[slot] = FALSE;
      self->n_carried--;
    }
}

guint
ow_inflight_sent (OwInflight *self, const char *cgroup, OwCounter counter, guint64 seq,
                  guint64 count, guint64 total)
{
  OwInflightMark *mark;

  if (self == NULL)
    return OW_INFLIGHT_NONE;
  for (guint k = 0; k < OW_INFLIGHT_SLOTS; k++)
    {
      guint i = (self->cursor + k) % OW_INFLIGHT_SLOTS;

      mark = &self->map->marks[i];
      if (self->carried[i] || state_of (mark) != OW_INFLIGHT_FREE)
        continue;
      mark->counter = (gint)counter;
      mark->seq = seq;
      mark->count = count;
      mark->total = total;
      mark->cgroup_hash = hash_cgroup (cgroup);
      set_state (mark, OW_INFLIGHT_SENT);
      self->cursor = (i + 1) % OW_INFLIGHT_SLOTS;
      return i;
    }
  return OW_INFLIGHT_NONE;
}

guint
ow_inflight_claim (OwInflight *self, guint64 seq)
{
  for (guint i = 0; self != NULL && self->n_carried > 0 && i < OW_INFLIGHT_SLOTS; i++)
    if (self->carried[i] && self->map->marks[i].seq == seq)
      {
        resolve (self, i);
        return i;
      }
  return OW_INFLIGHT_NONE;
}

gboolean
ow_inflight_evict (OwInflight *self)
{
  guint oldest = OW_INFLIGHT_NONE;

  for (guint i = 0; self != NULL && self->n_carried > 0 && i < OW_INFLIGHT_SLOTS; i++)
    if (self->carried[i]
        && (oldest == OW_INFLIGHT_NONE || self->map->marks[i].seq < self->map->marks[oldest].seq))
      oldest = i;
  if (oldest == OW_INFLIGHT_NONE)
    return FALSE;
  g_debug ("Dropping the mark of seq %" G_GUINT64_FORMAT ": no watch claimed it",
           self->map->marks[oldest].seq);
  ow_inflight_done (self, oldest);
  return TRUE;
}

void
ow_inflight_kept (OwInflight *self, guint slot)
{
  if (self != NULL && slot < OW_INFLIGHT_SLOTS)
    set_state (&self->map->marks[slot], OW_INFLIGHT_KEPT);
}

void
ow_inflight_done (OwInflight *self, guint slot)
{
  if (self == NULL || slot >= OW_INFLIGHT_SLOTS)
    return;
  resolve (self, slot);
  set_state (&self->map->marks[slot], OW_INFLIGHT_FREE);
}

static gint
by_seq (gconstpointer a, gconstpointer b)
{
  guint64 sa = ((const OwInflightMark *)a)->seq, sb = ((const OwInflightMark *)b)->seq;

  return sa < sb ? -1 : sa > sb;
}

GArray *
ow_inflight_left (OwInflight *self, const char *cgroup)
{
  GArray *marks = g_array_new (FALSE, FALSE, sizeof (OwInflightMark));
  guint64 hash;

  if (self == NULL || self->n_carried == 0)
    return marks;
  hash = hash_cgroup (cgroup);
  for (guint i = 0; i < OW_INFLIGHT_SLOTS; i++)
    if (self->carried[i] && self->map->marks[i].cgroup_hash == hash)
      g_array_append_val (marks, self->map->marks[i]);
  g_array_sort (marks, by_seq);
  return marks;
}

void
ow_inflight_forget (OwInflight *self, const char *cgroup, guint64 seq)
{
  guint64 hash;

  if (self == NULL || self->n_carried == 0)
    return;
  hash = hash_cgroup (cgroup);
  for (guint i = 0; i < OW_INFLIGHT_SLOTS; i++)
    if (self->carried[i] && self->map->marks[i].cgroup_hash == hash
        && (seq == 0 || self->map->marks[i].seq == seq))
      ow_inflight_done (self, i);
}
