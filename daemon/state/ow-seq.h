/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon-wide sequence number of signals: strictly increasing, also across restarts of
 * the daemon within one boot. The runtime directory keeps a high-water mark reserved in
 * blocks, so a number is never handed out twice even after SIGKILL, at the cost of a jump
 * of at most one block per restart, and one small write per block. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define OW_SEQ_BLOCK 1024
#define OW_BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

typedef struct _OwSeq OwSeq;

/* PATH: the state file; BOOT_ID: this boot's id (a mark of another boot starts again at 1).
 * Each time numbering starts again (another boot, or the state file was lost) it gets a new
 * epoch: seq numbers compare only within one epoch. */
OwSeq *ow_seq_open (const char *path, const char *boot_id, guint block, GError **error);
void ow_seq_free (OwSeq *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwSeq, ow_seq_free)

guint64 ow_seq_next (OwSeq *self);
guint64 ow_seq_last (OwSeq *self); /* the last number handed out; 0 before the first */
const char *ow_seq_epoch (OwSeq *self);

char *ow_seq_read_boot_id (const char *path); /* the id, or "" when unreadable */

G_END_DECLS
