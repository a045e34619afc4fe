/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel's cumulative OOM counters of one cgroup, as far as its hierarchy keeps them:
 * v1 memory.oom_control has oom_kill only; v2 memory.events has all three. */
#pragma once

#include "ow-event.h"

G_BEGIN_DECLS

typedef struct
{
  guint64 value[OW_N_COUNTERS];
  gboolean has[OW_N_COUNTERS];
} OwCounters;

/* The counter an event kind is counted in (ow-event.c); FALSE for kinds without one. */
static inline gboolean
ow_counter_for_kind (OwEventKind kind, OwCounter *counter)
{
  OwCounter c = ow_event_kind_info (kind)->counter;

  if (c == OW_COUNTER_NONE)
    return FALSE;
  *counter = c;
  return TRUE;
}

static inline OwEventKind
ow_counter_kind (OwCounter counter)
{
  for (OwEventKind kind = 0; kind < OW_EVENT_N_KINDS; kind++)
    if (ow_event_kind_info (kind)->counter == counter)
      return kind;
  g_return_val_if_reached (OW_EVENT_OOM);
}

G_END_DECLS
