/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsing /dev/kmsg records that name an OOM victim. */
#pragma once

#include "ow-victim.h"

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  OW_KMSG_OTHER,
  OW_KMSG_OOM_KILL, /* "oom-kill:constraint=…,oom_memcg=…,task_memcg=…,task=…,pid=…,uid=…" */
  OW_KMSG_KILLED_PROCESS, /* "[Memory cgroup out of memory|Out of memory]: Killed process PID (COMM)
                             …" */
} OwKmsgKind;

typedef struct
{
  OwKmsgKind kind;
  guint64 seq;
  guint32 pid;
  gboolean has_uid;
  guint32 uid;
  char *comm;         /* UTF-8: unescaped, or the kernel's \xNN form when not valid UTF-8 */
  char *task_memcg;   /* OOM_KILL: the victim's cgroup */
  char *oom_memcg;    /* OOM_KILL: the cgroup whose limit was hit; NULL for a global OOM */
  gboolean global;    /* a system-wide OOM, not a cgroup limit */
  gboolean ambiguous; /* OOM_KILL: names inside the line repeat field names: no cgroups */
  OwVictimMemory memory; /* KILLED_PROCESS: the fields this kernel prints */
} OwKmsgRecord;

gboolean ow_kmsg_parse (const char *data, gsize len, OwKmsgRecord *record);
void ow_kmsg_record_clear (OwKmsgRecord *record);
char *ow_kmsg_unescape (const char *text, gsize len);

G_END_DECLS
