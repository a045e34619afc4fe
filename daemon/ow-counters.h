/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel's cumulative OOM counters of one cgroup, as far as its hierarchy keeps them:
 * v1 memory.oom_control has oom_kill only; v2 memory.events has all three. */
#pragma once

#include "ow-event.h"

G_BEGIN_DECLS

typedef enum
{
  OW_COUNTER_OOM,
  OW_COUNTER_OOM_KILL,
  OW_COUNTER_OOM_GROUP_KILL,
  OW_N_COUNTERS,
} OwCounter;

typedef struct
{
  guint64 value[OW_N_COUNTERS];
  gboolean has[OW_N_COUNTERS];
} OwCounters;

/* The counter an event kind is counted in; FALSE for kinds without a kernel counter
 * (oom-recovered; systemd-oomd's kills, which no counter of ours holds) and for high/max,
 * which are frequent, sent only on request and not caught up after a restart. */
static inline gboolean
ow_counter_for_kind (OwEventKind kind, OwCounter *counter)
{
  switch (kind)
    {
    case OW_EVENT_OOM:
      *counter = OW_COUNTER_OOM;
      return TRUE;
    case OW_EVENT_OOM_KILL:
      *counter = OW_COUNTER_OOM_KILL;
      return TRUE;
    case OW_EVENT_OOM_GROUP_KILL:
      *counter = OW_COUNTER_OOM_GROUP_KILL;
      return TRUE;
    case OW_EVENT_OOM_RECOVERED:
    case OW_EVENT_OOMD_KILL:
    case OW_EVENT_HIGH:
    case OW_EVENT_MAX:
      break;
    }
  return FALSE;
}

static inline OwEventKind
ow_counter_kind (OwCounter counter)
{
  return counter == OW_COUNTER_OOM        ? OW_EVENT_OOM
         : counter == OW_COUNTER_OOM_KILL ? OW_EVENT_OOM_KILL
                                          : OW_EVENT_OOM_GROUP_KILL;
}

G_END_DECLS
