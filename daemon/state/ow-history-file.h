/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The history on disk, so that a restart of the daemon keeps it too: one line per entry,
 * appended as it comes (O_APPEND: a crash loses at most the line being written, and a torn
 * line is skipped when read), rewritten with only the kept entries when it has grown to twice
 * their number. It is also where History() reads the entries' details. Mode 0600: entries
 * hold the victims' identities. */
#pragma once

#include "ow-history.h"

G_BEGIN_DECLS

typedef struct _OwHistoryFile OwHistoryFile;

/* Opens PATH (created when missing) and appends what it holds to HISTORY, oldest first. */
OwHistoryFile *ow_history_file_open (const char *path, OwHistory *history, GError **error);
void ow_history_file_free (OwHistoryFile *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwHistoryFile, ow_history_file_free)

/* ENTRY was appended to HISTORY: write it, and compact the file when it is time. Written
 * out, its details are read back from the file when asked for, not kept in memory. */
void ow_history_file_append (OwHistoryFile *self, OwHistory *history, OwHistoryEntry *entry);

G_END_DECLS
