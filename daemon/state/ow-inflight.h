/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Signals sent and not yet recorded. Each kept OomEvent with a kernel counter is marked here
 * before its send and unmarked once its record is done; the marks live in a small file of the
 * runtime directory, mapped shared, so that marking is a store to memory (no system call on
 * the send's path) and a SIGKILL leaves them for the next run. That run tells a marked event
 * again with its own seq (a client drops a seq it has) rather than as one missed anew. */
#pragma once

#include "ow-event.h"

#include <glib.h>

G_BEGIN_DECLS

#define OW_INFLIGHT_SLOTS 64
#define OW_INFLIGHT_NONE G_MAXUINT

typedef enum
{
  OW_INFLIGHT_FREE,
  OW_INFLIGHT_SENT, /* numbered and sent (or about to be): nothing recorded */
  OW_INFLIGHT_KEPT, /* its History() entry is written; its counters not yet */
} OwInflightState;

typedef struct
{
  gint state;     /* OwInflightState */
  gint counter;   /* OwCounter */
  guint64 seq;
  guint64 count;
  guint64 total;
  guint64 cgroup_hash;
} OwInflightMark;

typedef struct _OwInflight OwInflight;

/* PATH is made when missing; with RESET (numbering started again) an earlier run's marks
 * are dropped. */
OwInflight *ow_inflight_open (const char *path, gboolean reset, GError **error);
void ow_inflight_free (OwInflight *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwInflight, ow_inflight_free)

/* Marks the event numbered SEQ on CGROUP as sent: its slot, or OW_INFLIGHT_NONE when all are
 * taken. */
guint ow_inflight_sent (OwInflight *self, const char *cgroup, OwCounter counter, guint64 seq,
                        guint64 count, guint64 total);
/* An earlier run's mark of SEQ, told again now, is this run's: its slot, or OW_INFLIGHT_NONE. */
guint ow_inflight_claim (OwInflight *self, guint64 seq);
/* Frees the slot of the oldest mark an earlier run left and no watch claimed: FALSE if none. */
gboolean ow_inflight_evict (OwInflight *self);
/* SLOT's History() entry is written / its record is done (OW_INFLIGHT_NONE: nothing). */
void ow_inflight_kept (OwInflight *self, guint slot);
void ow_inflight_done (OwInflight *self, guint slot);

/* The marks an earlier run left for CGROUP, oldest seq first (copies). */
GArray *ow_inflight_left (OwInflight *self, const char *cgroup);
/* Drops the marks an earlier run left for CGROUP (SEQ 0), or the one with SEQ. */
void ow_inflight_forget (OwInflight *self, const char *cgroup, guint64 seq);

G_END_DECLS
