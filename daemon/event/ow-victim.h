/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A process the kernel log says was OOM-killed. Reference-counted: the log reader, kill
 * attribution and pending reports each hold their own reference, so no one depends on how
 * long another keeps it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The victim's memory as the kernel's "Killed process" line gives it; older kernels print
 * fewer fields, and a field not printed is not present. */
typedef enum
{
  OW_VICTIM_TOTAL_VM,
  OW_VICTIM_ANON_RSS,
  OW_VICTIM_FILE_RSS,
  OW_VICTIM_SHMEM_RSS,
  OW_VICTIM_PGTABLES,
  OW_VICTIM_N_SIZES,
} OwVictimSize;

typedef struct
{
  guint present;                     /* bit (1 << OwVictimSize) per size printed */
  guint64 bytes[OW_VICTIM_N_SIZES];
  gboolean has_oom_score_adj;
  gint32 oom_score_adj;
} OwVictimMemory;

typedef struct
{
  guint32 pid;
  gboolean has_uid;
  guint32 uid;
  char *comm;
  char *task_cgroup; /* the victim's cgroup; NULL when the record was ambiguous */
  char *oom_cgroup;  /* the cgroup whose limit was hit; NULL for a global OOM */
  gboolean global;   /* a machine-wide OOM, not a cgroup limit */
  OwVictimMemory memory;
  gint64 seen;       /* monotonic time it was read */
  /*< private >*/
  gint ref_count;
} OwVictim;

OwVictim *ow_victim_new (void);
OwVictim *ow_victim_ref (OwVictim *victim);
void ow_victim_unref (OwVictim *victim);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwVictim, ow_victim_unref)

/* The details keys of MEMORY (identity keys: only for whom may see the victim). */
void ow_victim_memory_add_details (const OwVictimMemory *memory, GVariantBuilder *details);

G_END_DECLS
