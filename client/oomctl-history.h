/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomctl history / metrics, and the catch-up that `watch --since` shares with them. */
#pragma once

#include "oomwatch-generated.h"

G_BEGIN_DECLS

/* --since SEQ (a number) or TIME (ISO 8601, e.g. 2026-11-28T12:00:00Z or 2026-11-28 12:00:00
 * in local time, or a span back from now: 30s, 10m, 2h, 1d). */
typedef struct
{
  guint64 after; /* seq */
  guint64 time;  /* microseconds since the epoch; 0: any */
} OomctlSince;

gboolean oomctl_parse_since (const char *text, OomctlSince *since, GError **error);

/* History() of the signals after SINCE; INFO (optional) gets the daemon's info dict. */
GVariant *oomctl_history_call (OomwatchManager *manager, const OomctlSince *since, GVariant **info,
                               GError **error);

G_END_DECLS
