/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The events a stopped oomctl --exec had not handed to its hook yet, kept next to its state
 * file (PATH.queue), so that the next run handles them first: the daemon's History() may
 * not have them (it keeps what it sent a moment later, and a daemon SIGKILLed meanwhile
 * loses that moment). One line per event: EPOCH, a tab, the event (s cgroup, s kind,
 * t count, a{sv} details) in GVariant text form. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *oomctl_exec_spool_line (const char *epoch, const char *cgroup, const char *kind,
                              guint64 count, GVariant *details);
/* Writes LINES (NULL or empty: removes the file). */
void oomctl_exec_spool_save (const char *state_file, GPtrArray *lines);

typedef void (*OomctlSpoolFunc) (const char *epoch, const char *cgroup, const char *kind,
                                 guint64 count, GVariant *details, gpointer user_data);
/* Calls FUNC for every event kept, oldest first. */
void oomctl_exec_spool_load (const char *state_file, OomctlSpoolFunc func, gpointer user_data);

G_END_DECLS
