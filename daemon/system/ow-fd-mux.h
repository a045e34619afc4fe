/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One epoll fd for every watched cgroup's fd, attached to the main loop as a single source:
 * GLib's loop polls all of its fds on every iteration, which with 10,000 watches made each
 * wake-up cost O(10,000). With the mux an iteration polls a handful of fds and dispatches only
 * the ready ones. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _OwFdMux OwFdMux;
/* Ownership rule: any callback may remove any entry, its own included (e.g. by freeing the
 * object that owns the fd); the mux looks each ready entry up again and never touches an
 * entry after calling it. */
typedef void (*OwFdMuxFunc) (int fd, guint32 events, gpointer user_data);

OwFdMux *ow_fd_mux_new (GError **error);
void ow_fd_mux_free (OwFdMux *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwFdMux, ow_fd_mux_free)

/* EVENTS: EPOLLIN, EPOLLPRI…. Returns an id (never 0). */
guint ow_fd_mux_add (OwFdMux *self, int fd, guint32 events, OwFdMuxFunc func, gpointer user_data,
                     GError **error);
/* Stops polling *ID (0: nothing to do) and clears it. */
void ow_fd_mux_remove (OwFdMux *self, guint *id);

G_END_DECLS
