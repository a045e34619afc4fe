/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The last N signals the daemon sent, so that a client that was away (restarted, connected
 * late, or lost the daemon for a while) can ask for what it missed. Memory is bounded by N.
 * Each entry keeps who could see it, so the privacy rules of the signals apply at query
 * time: the uids that watched the cgroup when it happened, and the victim's uid. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  guint64 seq;
  gint64 time;        /* microseconds since the epoch */
  const char *signal; /* interned: "OomEvent" or "WatchRemoved" */
  char *cgroup;       /* a GRefString, interned: shared with the watches */
  const char *kind;   /* interned. OomEvent: the kind; WatchRemoved: the reason */
  guint64 count;      /* OomEvent only */
  /* a{sv}, complete (victim identity included); NULL once written out (below) */
  GVariant *details;
  /* The uids that watched the cgroup then: N_UIDS of them, in FEW while they fit (most
   * entries have one or two: no allocation of their own). */
  guint32 *uids;
  guint n_uids;
  guint32 few[2];
  gboolean has_victim_uid;
  guint32 victim_uid;
  /* Where the history's store (ow-history-file.h) wrote the entry: its details are read
   * back from there when asked for, so that they take no memory meanwhile. */
  goffset stored_at;
  guint stored_length; /* 0: not written out */
} OwHistoryEntry;

/* TIME: the signal's (its details' timestamp), so that History() and the signal agree. */
OwHistoryEntry *ow_history_entry_new (const char *signal, const char *cgroup, const char *kind,
                                      guint64 count, GVariant *details, gint64 time);
void ow_history_entry_free (OwHistoryEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwHistoryEntry, ow_history_entry_free)
void ow_history_entry_add_uid (OwHistoryEntry *entry, guint32 uid);

/* Does a connection of UID watch CGROUP now? A uid that watches a cgroup now sees its past
 * events too: it could have watched it then (anyone may watch any cgroup). */
typedef gboolean (*OwHistoryWatchedFunc) (const char *cgroup, guint32 uid, gpointer user_data);

typedef struct _OwHistory OwHistory;

/* Reads back the details of an entry written out (a new reference; NULL: lost). */
typedef GVariant *(*OwHistoryLoadFunc) (const OwHistoryEntry *entry, gpointer user_data);

OwHistory *ow_history_new (guint capacity);
void ow_history_free (OwHistory *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwHistory, ow_history_free)

/* Entries whose details were written out get them back through LOAD. */
void ow_history_set_store (OwHistory *self, OwHistoryLoadFunc load, gpointer user_data);
void ow_history_set_capacity (OwHistory *self, guint capacity);
guint ow_history_get_capacity (OwHistory *self);
guint ow_history_length (OwHistory *self);
guint64 ow_history_oldest_seq (OwHistory *self); /* 0 when empty */
GList *ow_history_entries (OwHistory *self);     /* borrowed entries, oldest first */
/* ENTRY's details: its own, or read back from the store (a new reference; NULL: lost). */
GVariant *ow_history_entry_details (OwHistory *self, const OwHistoryEntry *entry);
/* Takes ENTRY, kept in seq order (one told again after a restart is older than the newest).
 * FALSE when it is not kept (freed): its seq is there already, or it is older than all it keeps. */
gboolean ow_history_append (OwHistory *self, OwHistoryEntry *entry);

gboolean ow_history_visible (const OwHistoryEntry *entry, guint32 uid, OwHistoryWatchedFunc watched,
                             gpointer user_data);
/* The entries after AFTER (and at or after SINCE, µs; 0: any time) that UID may see, oldest
 * first, as aa{sv}: seq, time, signal, cgroup, kind or reason, count, details (victim identity
 * only for root and the victim's own uid). At most MAX entries (the newest); 0: no limit. */
GVariant *ow_history_query (OwHistory *self, guint64 after, gint64 since, guint max, guint32 uid,
                            OwHistoryWatchedFunc watched, gpointer user_data);

/* DETAILS without the victim's identity unless UID may see it. */
GVariant *ow_history_filter_details (GVariant *details, gboolean has_victim_uid, guint32 victim_uid,
                                     guint32 uid);

G_END_DECLS
