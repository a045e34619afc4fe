/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The counters the daemon last reported for each watched cgroup, kept in one log in the
 * runtime directory: a save appends one line, the last line of a cgroup wins, and the log is
 * written anew when it has grown to twice its entries. After a restart, the difference
 * between the kernel's counters and the saved ones is what happened while the daemon was
 * down. The store also keeps what was reported in all (the metrics' counters), so those
 * continue across restarts too. */
#pragma once

#include "ow-counters.h"

#include <gio/gio.h>

G_BEGIN_DECLS

/* An entry saved by an earlier run, while it catches up with what happened meanwhile. */
typedef struct
{
  guint64 emitted_while_pending[OW_N_COUNTERS];
  guint64 owed[OW_N_COUNTERS]; /* found missed, not yet reported: not saved as seen */
} OwCounterCatchUp;

typedef struct
{
  char *cgroup;
  guint64 ino;     /* the cgroup directory's inode: a recreated cgroup starts at zero */
  OwCounters seen; /* the kernel's counters as last reported */
  guint64 reported[OW_N_COUNTERS]; /* event counts reported in all, while-down included */
  gboolean pending; /* saved by an earlier run and not yet compared with the kernel */
  gboolean saved;   /* the log holds what a save would write */
  OwCounterCatchUp *catch_up; /* NULL when pending with nothing emitted, or nothing owed */
} OwCounterEntry;

typedef struct _OwCounterStore OwCounterStore;

/* Loads every saved entry of DIR (created when missing); they start pending. */
OwCounterStore *ow_counter_store_open (const char *dir, GError **error);
void ow_counter_store_free (OwCounterStore *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwCounterStore, ow_counter_store_free)

OwCounterEntry *ow_counter_store_lookup (OwCounterStore *self, const char *cgroup);
GList *ow_counter_store_entries (OwCounterStore *self); /* OwCounterEntry, sorted by cgroup */
gboolean ow_counter_store_save (OwCounterStore *self, OwCounterEntry *entry, GError **error);
void ow_counter_store_forget (OwCounterStore *self, const char *cgroup);

/* CGROUP (directory inode INO) is watched again, its source's first reading is BASELINE.
 * Fills MISSED with what rose since the saved counters (zero when nothing was saved) and
 * makes sure an entry exists. Returns the entry; the caller saves it once MISSED is told. */
OwCounterEntry *ow_counter_store_reconcile (OwCounterStore *self, const char *cgroup, guint64 ino,
                                            const OwCounters *baseline, OwCounters *missed);

/* An event of COUNT on CGROUP was reported (WHILE_DOWN: the report of what reconcile found
 * missed); TOTAL (if HAS_TOTAL) is the kernel's counter after it. Saves the entry at once: a
 * crash after the signal must not report it again. */
void ow_counter_store_reported (OwCounterStore *self, const char *cgroup, OwCounter counter,
                                guint64 count, gboolean has_total, guint64 total,
                                gboolean while_down);

G_END_DECLS
