/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-cgroup-memory.h"
#include "ow-fd.h"
#include "oomwatch-names.h"

#include <string.h>
#include <unistd.h>

typedef struct
{
  const char *v1;
  const char *v2;
  const char *key;
} SizeFile;

static const SizeFile size_files[OW_CGROUP_N_SIZES] = {
  [OW_CGROUP_LIMIT] = { "memory.limit_in_bytes", "memory.max", OOMWATCH_KEY_LIMIT },
  [OW_CGROUP_USAGE] = { "memory.usage_in_bytes", "memory.current", OOMWATCH_KEY_USAGE },
  [OW_CGROUP_PEAK] = { "memory.max_usage_in_bytes", "memory.peak", OOMWATCH_KEY_PEAK },
  /* v1 counts memory and swap together: swap is the difference */
  [OW_CGROUP_SWAP] = { "memory.memsw.usage_in_bytes", "memory.swap.current",
                       OOMWATCH_KEY_SWAP_USAGE },
};

/* One number, or "max" (FALSE: unlimited, as is absent). */
static gboolean
read_size (OwHierarchy *hierarchy, const char *cgroup, const char *name, guint64 *value)
{
  g_autoptr (GError) error = NULL;
  g_auto (OwFd) fd = ow_hierarchy_open_cgroup_file (hierarchy, cgroup, name, &error);
  char buf[32];
  ssize_t len;

  if (fd < 0)
    {
      g_debug ("%s", error->message);
      return FALSE;
    }
  len = pread (fd, buf, sizeof buf - 1, 0);
  if (len <= 0)
    return FALSE;
  buf[len] = '\0';
  g_strchomp (buf);
  return g_ascii_string_to_unsigned (buf, 10, 0, G_MAXUINT64, value, NULL);
}

void
ow_cgroup_memory_read (OwHierarchy *hierarchy, const char *cgroup, OwCgroupMemory *memory)
{
  gboolean v1 = ow_hierarchy_get_version (hierarchy) == 1;
  /* v1 prints "no limit" as the page counter's maximum, in bytes */
  guint64 page = (guint64)sysconf (_SC_PAGESIZE);
  guint64 v1_unlimited = (guint64)G_MAXINT64 / page * page;

  memset (memory, 0, sizeof *memory);
  if (ow_hierarchy_get_version (hierarchy) != 1 && ow_hierarchy_get_version (hierarchy) != 2)
    return;
  for (guint i = 0; i < OW_CGROUP_N_SIZES; i++)
    if (read_size (hierarchy, cgroup, v1 ? size_files[i].v1 : size_files[i].v2,
                   &memory->bytes[i]))
      memory->present |= 1u << i;
  if (v1 && (memory->present & (1u << OW_CGROUP_LIMIT))
      && memory->bytes[OW_CGROUP_LIMIT] >= v1_unlimited)
    memory->present &= ~(1u << OW_CGROUP_LIMIT);
  if (v1 && (memory->present & (1u << OW_CGROUP_SWAP)))
    {
      if (memory->present & (1u << OW_CGROUP_USAGE))
        memory->bytes[OW_CGROUP_SWAP] -= MIN (memory->bytes[OW_CGROUP_SWAP],
                                              memory->bytes[OW_CGROUP_USAGE]);
      else
        memory->present &= ~(1u << OW_CGROUP_SWAP);
    }
}

void
ow_cgroup_memory_add_details (const OwCgroupMemory *memory, GVariantDict *details)
{
  for (guint i = 0; i < OW_CGROUP_N_SIZES; i++)
    if (memory->present & (1u << i))
      g_variant_dict_insert (details, size_files[i].key, "t", memory->bytes[i]);
}
