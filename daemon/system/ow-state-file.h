/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Replaces a small state file (counters, sequence mark, history, metrics) so that a reader, or
 * the next run after a crash, finds the old contents or the new ones, never a mix. */
#pragma once

#include <glib.h>

/* Writes DATA (LENGTH bytes, or up to its NUL when -1) to a temporary file beside PATH and
 * renames it over PATH. The file has exactly MODE, whatever the umask: the daemon's own state
 * asks 0600, a file another service reads asks what that reader needs. The data is flushed to
 * the disk before the rename, except on a tmpfs or ramfs (as /run is): there a flush would be
 * a system call that does nothing, on the path of every OOM event, since nothing there
 * survives the machine anyway. */
gboolean ow_state_file_replace (const char *path, const char *data, gssize length, int mode,
                                GError **error);
/* The same, then opens PATH for appending: a log written anew. Returns the fd, or -1. */
int ow_state_file_replace_and_open (const char *path, const char *data, gssize length, int mode,
                                    GError **error);
