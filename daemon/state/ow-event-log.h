/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One journal record per event, with stable fields that log shippers can alert on. */
#pragma once

#include "ow-event.h"
#include "ow-victim.h"
#include "oomwatch-unit.h"

G_BEGIN_DECLS

/* MESSAGE_ID of every OOM event record (journalctl MESSAGE_ID=…) */
#define OW_EVENT_MESSAGE_ID "5a0f6c1e9b3d4e7f8a2b6c4d1e0f9a3b"
/* MESSAGE_ID of WatchRemoved records */
#define OW_REMOVED_MESSAGE_ID "c3e1d2b4a5f64789b0a1c2d3e4f5a6b7"

void ow_event_log (const char *cgroup, const OwEvent *event, const OwVictim *victim,
                   const OomwatchUnitInfo *units);
void ow_event_log_removed (const char *cgroup);

G_END_DECLS
