/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel-log reader: follows /dev/kmsg and tells its listener of every OOM victim a
 * record names. Counts never come from here (the kernel rate-limits these lines). */
#pragma once

#include "ow-victim.h"

G_BEGIN_DECLS

typedef struct _OwKmsg OwKmsg;

typedef struct
{
  /* A new victim; the listener takes its own reference if it keeps it. */
  void (*victim) (OwVictim *victim, gpointer user_data);
  /* A "Killed process" line was read, or records were lost (optional): a kill counted. Told
   * from every read, the caller's drains too. */
  void (*kill_logged) (gpointer user_data);
} OwKmsgListener;

OwKmsg *ow_kmsg_new (const char *path, const OwKmsgListener *listener, gpointer user_data,
                     GError **error);
void ow_kmsg_free (OwKmsg *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwKmsg, ow_kmsg_free)

/* Reads every record available now (a counter rose: its log lines came before it). */
/* Reads what the log holds now. The victims it names are returned (references, oldest first),
 * not told to the listener: the caller asked. The listener hears of those read at the log's
 * own wake-ups. */
GPtrArray *ow_kmsg_drain (OwKmsg *self);
guint64 ow_kmsg_get_overruns (OwKmsg *self);

G_END_DECLS
