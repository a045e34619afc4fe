/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A cgroup's memory at an OOM kill: its limit, usage, peak and swap, read from its own files
 * (v1 memory.limit_in_bytes, memory.usage_in_bytes, memory.max_usage_in_bytes,
 * memory.memsw.usage_in_bytes; v2 memory.max, memory.current, memory.peak,
 * memory.swap.current). A file the kernel does not have, or an unlimited limit, is absent.
 * The files of the last few cgroups read stay open a few seconds: during a run of OOMs in one
 * cgroup each kill reads its four numbers with four pread()s, not four opens and closes. */
#pragma once

#include "ow-hierarchy.h"

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  OW_CGROUP_LIMIT,
  OW_CGROUP_USAGE,
  OW_CGROUP_PEAK,
  OW_CGROUP_SWAP,
  OW_CGROUP_N_SIZES,
} OwCgroupSize;

typedef struct
{
  guint present; /* bit (1 << OwCgroupSize) per size read */
  guint64 bytes[OW_CGROUP_N_SIZES];
} OwCgroupMemory;

typedef struct _OwCgroupMemoryFiles OwCgroupMemoryFiles;

OwCgroupMemoryFiles *ow_cgroup_memory_files_new (OwHierarchy *hierarchy);
void ow_cgroup_memory_files_free (OwCgroupMemoryFiles *files);
void ow_cgroup_memory_read (OwCgroupMemoryFiles *files, const char *cgroup, OwCgroupMemory *memory);
void ow_cgroup_memory_add_details (const OwCgroupMemory *memory, GVariantBuilder *details);

G_END_DECLS
