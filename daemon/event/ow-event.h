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
  OW_EVENT_HIGH,
  OW_EVENT_MAX,
  OW_EVENT_LOW,
  OW_EVENT_N_KINDS
} OwEventKind;

/* The kernel's cumulative counters a kind is counted in (v1 memory.oom_control has oom_kill
 * only; v2 memory.events all three). */
typedef enum
{
  OW_COUNTER_NONE = -1,
  OW_COUNTER_OOM,
  OW_COUNTER_OOM_KILL,
  OW_COUNTER_OOM_GROUP_KILL,
  OW_N_COUNTERS,
} OwCounter;

/* What each kind is, in one table (ow-event.c) that the sources, the emitter, History and the
 * Watch option "events" read. */
typedef struct
{
  OwEventKind kind;
  const char *name;       /* OomEvent's kind */
  const char *events_key; /* the v2 memory.events counter it reports, or NULL */
  gboolean opt_in;        /* only to watchers who asked (Watch option "events", v2) */
  gboolean kept;          /* numbered into History, journalled, counters saved */
  OwCounter counter;      /* caught up after a restart from this counter, or NONE */
} OwEventKindInfo;

#define OW_EVENT_KIND_BIT(kind) (1u << (kind))

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
  gboolean while_down;     /* it happened while the daemon was not running */
  guint64 seq;             /* told again: the number an earlier run sent it with; 0: none */
} OwEvent;

const OwEventKindInfo *ow_event_kind_info (OwEventKind kind);
/* The kind named NAME, or NULL. */
const OwEventKindInfo *ow_event_kind_by_name (const char *name);
const char *ow_event_kind_to_string (OwEventKind kind);
/* The opt-in kinds' names, comma-separated, for error messages. */
char *ow_event_kind_opt_in_names (void);

G_END_DECLS
