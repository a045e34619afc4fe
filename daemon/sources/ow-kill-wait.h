/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The v1 sources that saw an OOM signal and wait for its kill. A v1 kill has no wake-up of
 * its own, but the kernel counts it before it logs "Killed process": while the kernel log is
 * followed, each such line wakes the waiters (once, from an idle) instead of timers. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _OwKillWait OwKillWait;

/* A waiter's wake-up: it is no longer waiting, and adds itself again if it still is. */
typedef void (*OwKillWaitFunc) (gpointer waiter);

OwKillWait *ow_kill_wait_new (void);
void ow_kill_wait_free (OwKillWait *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwKillWait, ow_kill_wait_free)

/* Whether kills are logged where the daemon reads them; if not, waiters use timers (those
 * waiting when it stops being followed are woken to take them up). */
void ow_kill_wait_set_followed (OwKillWait *self, gboolean followed);
gboolean ow_kill_wait_followed (OwKillWait *self);

void ow_kill_wait_add (OwKillWait *self, gpointer waiter, OwKillWaitFunc func);
void ow_kill_wait_remove (OwKillWait *self, gpointer waiter);
guint ow_kill_wait_count (OwKillWait *self);
/* A kill was logged: the waiters are woken from an idle, each at most once, including those
 * that start waiting before the idle runs. */
void ow_kill_wait_logged (OwKillWait *self);

G_END_DECLS
