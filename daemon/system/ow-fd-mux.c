/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-fd-mux.h"
#include "ow-fd.h"
#include "oomwatch-error.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/epoll.h>

#define BATCH 64

struct _OwFdMux
{
  int epoll_fd;
  guint source_id;
  guint next_id;
  GHashTable *entries; /* id → Entry */
};

typedef struct
{
  int fd;
  OwFdMuxFunc func;
  gpointer user_data;
} Entry;

static gboolean
on_ready (int epoll_fd, GIOCondition condition, gpointer user_data)
{
  OwFdMux *self = user_data;
  struct epoll_event ready[BATCH];
  int n = epoll_wait (epoll_fd, ready, BATCH, 0);

  for (int i = 0; i < n; i++)
    {
      guint id = (guint)ready[i].data.u32;
      /* An earlier callback of this batch may have removed it. */
      Entry *entry = g_hash_table_lookup (self->entries, GUINT_TO_POINTER (id));

      if (entry != NULL)
        entry->func (entry->fd, ready[i].events, entry->user_data);
    }
  return G_SOURCE_CONTINUE;
}

OwFdMux *
ow_fd_mux_new (GError **error)
{
  g_autoptr (OwFdMux) self = g_new0 (OwFdMux, 1);

  self->entries = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  self->epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  if (self->epoll_fd < 0)
    {
      int saved = errno;

      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED, "Cannot create an epoll fd: %s",
                   g_strerror (saved));
      return NULL;
    }
  self->source_id = ow_fd_add_watch (G_PRIORITY_DEFAULT, self->epoll_fd, G_IO_IN, on_ready, self);
  return g_steal_pointer (&self);
}

void
ow_fd_mux_free (OwFdMux *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->source_id, g_source_remove);
  ow_fd_close (self->epoll_fd);
  g_hash_table_unref (self->entries);
  g_free (self);
}

guint
ow_fd_mux_add (OwFdMux *self, int fd, guint32 events, OwFdMuxFunc func, gpointer user_data,
               GError **error)
{
  struct epoll_event event = { .events = events };
  Entry *entry;
  guint id;

  do
    id = ++self->next_id;
  while (id == 0 || g_hash_table_contains (self->entries, GUINT_TO_POINTER (id)));
  event.data.u32 = id;
  if (epoll_ctl (self->epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0)
    {
      oomwatch_set_error_errno (error, errno, "Cannot poll fd %d", fd);
      return 0;
    }
  entry = g_new0 (Entry, 1);
  entry->fd = fd;
  entry->func = func;
  entry->user_data = user_data;
  g_hash_table_insert (self->entries, GUINT_TO_POINTER (id), entry);
  return id;
}

void
ow_fd_mux_remove (OwFdMux *self, guint *id)
{
  Entry *entry = *id != 0 ? g_hash_table_lookup (self->entries, GUINT_TO_POINTER (*id)) : NULL;

  if (entry != NULL)
    {
      epoll_ctl (self->epoll_fd, EPOLL_CTL_DEL, entry->fd, NULL);
      g_hash_table_remove (self->entries, GUINT_TO_POINTER (*id));
    }
  *id = 0;
}
