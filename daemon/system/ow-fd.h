/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A file descriptor that closes itself: g_auto(OwFd) fd = -1; (g_autofd needs GLib 2.76). */
#pragma once

#include <glib-unix.h>
#include <glib.h>
#include <glib/gstdio.h>

typedef int OwFd;

static inline void
ow_fd_close (OwFd fd)
{
  if (fd >= 0)
    g_close (fd, NULL);
}

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (OwFd, ow_fd_close, -1)

static inline int
ow_fd_steal (OwFd *fd)
{
  int stolen = *fd;

  *fd = -1;
  return stolen;
}

/* g_unix_fd_add_full(), but GLib does not block the source while its callback runs: it
 * unblocks a blocked fd source by waking its own main context, a write and one more loop
 * iteration per dispatch. For callbacks that never run a main loop of their own. */
static inline guint
ow_fd_add_watch (int priority, int fd, GIOCondition condition, GUnixFDSourceFunc func,
                 gpointer user_data)
{
  g_autoptr (GSource) source = g_unix_fd_source_new (fd, condition);

  g_source_set_priority (source, priority);
  g_source_set_can_recurse (source, TRUE);
  g_source_set_callback (source, G_SOURCE_FUNC (func), user_data, NULL);
  return g_source_attach (source, NULL);
}
