/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A process the kernel log says was OOM-killed. Reference-counted: the log reader, kill
 * attribution and pending reports each hold their own reference, so no one depends on how
 * long another keeps it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint32 pid;
  gboolean has_uid;
  guint32 uid;
  char *comm;
  char *task_cgroup; /* the victim's cgroup; NULL when the record was ambiguous */
  char *oom_cgroup;  /* the cgroup whose limit was hit; NULL for a global OOM */
  gboolean global;   /* a machine-wide OOM, not a cgroup limit */
  gint64 seen;       /* monotonic time it was read */
  /*< private >*/
  gint ref_count;
} OwVictim;

OwVictim *ow_victim_new (void);
OwVictim *ow_victim_ref (OwVictim *victim);
void ow_victim_unref (OwVictim *victim);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwVictim, ow_victim_unref)

G_END_DECLS
