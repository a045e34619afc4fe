/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What an event source reports to the manager. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  OW_EVENT_OOM,
  OW_EVENT_OOM_KILL,
  OW_EVENT_OOM_RECOVERED,
  OW_EVENT_OOM_GROUP_KILL,
  OW_EVENT_OOMD_KILL, /* systemd-oomd killed task_cgroup (ow-oomd.c) */
  OW_EVENT_HIGH, /* v2 memory.events, sent only to watchers who asked */
  OW_EVENT_MAX,
} OwEventKind;

typedef struct
{
  OwEventKind kind;
  guint64 count;
  gboolean has_total;
  guint64 total;
  gboolean has_under_oom;
  gboolean under_oom;
  const char *reason;      /* oomd-kill: systemd-oomd's reason */
  const char *task_cgroup; /* oomd-kill: the cgroup it killed */
  gboolean logged;         /* the journal has it already (once per oomd kill, not per watch) */
} OwEvent;

const char *ow_event_kind_to_string (OwEventKind kind);

G_END_DECLS
