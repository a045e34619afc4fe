/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A file descriptor that closes itself: g_auto(OwFd) fd = -1; (g_autofd needs GLib 2.76). */
#pragma once

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
