/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-cgroup-memory.h"
#include "ow-fd.h"
#include "oomwatch-details.h"
#include "oomwatch-names.h"

#include <errno.h>
#include <fcntl.h>
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
  [OW_CGROUP_SWAP]
  = { "memory.memsw.usage_in_bytes", "memory.swap.current", OOMWATCH_KEY_SWAP_USAGE },
};

/* Cgroups whose files stay open, and for how long after their last read. */
#define KEPT_CGROUPS 4
#define KEEP_USEC ((gint64)10 * G_USEC_PER_SEC)

typedef struct
{
  char *cgroup;              /* NULL: a free slot */
  struct stat dir;           /* the cgroup's directory the files were opened in */
  gint64 used_at;            /* monotonic */
  int fd[OW_CGROUP_N_SIZES]; /* -1: the kernel has no such file */
} Kept;

struct _OwCgroupMemoryFiles
{
  OwHierarchy *hierarchy;  /* borrowed */
  Kept kept[KEPT_CGROUPS]; /* the most recently read first */
  guint close_id;
};

static void
kept_close (Kept *kept)
{
  g_clear_pointer (&kept->cgroup, g_free);
  for (guint i = 0; i < OW_CGROUP_N_SIZES; i++)
    ow_fd_close (ow_fd_steal (&kept->fd[i]));
}

/* Opens CGROUP's files in KEPT. FALSE: not worth keeping (the cgroup is gone, or a file the
 * kernel has could not be opened now); what did open is still read once. */
static gboolean
kept_open (OwCgroupMemoryFiles *files, Kept *kept, const char *cgroup)
{
  gboolean v1 = ow_hierarchy_get_version (files->hierarchy) == 1;
  g_autoptr (GError) error = NULL;
  g_auto (OwFd) dir = ow_hierarchy_open_cgroup (files->hierarchy, cgroup, &error);
  gboolean complete = TRUE;

  if (dir < 0 || fstat (dir, &kept->dir) < 0)
    {
      g_debug ("%s", error != NULL ? error->message : g_strerror (errno));
      return FALSE;
    }
  kept->cgroup = g_strdup (cgroup);
  for (guint i = 0; i < OW_CGROUP_N_SIZES; i++)
    {
      const char *name = v1 ? size_files[i].v1 : size_files[i].v2;

      kept->fd[i] = openat (dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      if (kept->fd[i] < 0 && errno != ENOENT)
        {
          g_debug ("Cannot open %s of cgroup '%s': %s", name, cgroup, g_strerror (errno));
          complete = FALSE;
        }
    }
  return complete;
}

/* The slot of CGROUP's kept files, or the least recently read one when CGROUP's are not kept,
 * moved to the front. */
static Kept *
kept_front (OwCgroupMemoryFiles *files, const char *cgroup)
{
  guint i = 0;
  Kept found;

  while (i < KEPT_CGROUPS - 1 && g_strcmp0 (files->kept[i].cgroup, cgroup) != 0)
    i++;
  found = files->kept[i];
  memmove (&files->kept[1], &files->kept[0], i * sizeof (Kept));
  files->kept[0] = found;
  return &files->kept[0];
}

/* One number, or "max" (FALSE: unlimited, as is absent). */
static gboolean
parse_size (char *text, guint64 *value)
{
  g_strchomp (text);
  return g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, value, NULL);
}

/* FALSE: a file failed to read (its cgroup was removed meanwhile). */
static gboolean
kept_read (const Kept *kept, OwCgroupMemory *memory)
{
  memory->present = 0;
  for (guint i = 0; i < OW_CGROUP_N_SIZES; i++)
    {
      char buf[32];
      ssize_t len;

      if (kept->fd[i] < 0)
        continue;
      len = pread (kept->fd[i], buf, sizeof buf - 1, 0);
      if (len < 0)
        return FALSE;
      buf[len] = '\0';
      if (parse_size (buf, &memory->bytes[i]))
        memory->present |= 1u << i;
    }
  return TRUE;
}

/* Closes the files read KEEP_USEC ago or more; comes back for the next ones due. */
static gboolean
on_close (gpointer user_data)
{
  OwCgroupMemoryFiles *files = user_data;
  gint64 now = g_get_monotonic_time (), next = G_MAXINT64;

  files->close_id = 0;
  for (guint i = 0; i < KEPT_CGROUPS; i++)
    {
      Kept *kept = &files->kept[i];

      if (kept->cgroup == NULL)
        continue;
      if (now - kept->used_at >= KEEP_USEC)
        kept_close (kept);
      else
        next = MIN (next, kept->used_at + KEEP_USEC);
    }
  if (next != G_MAXINT64)
    files->close_id
        = g_timeout_add_seconds ((guint)((next - now) / G_USEC_PER_SEC + 1), on_close, files);
  return G_SOURCE_REMOVE;
}

OwCgroupMemoryFiles *
ow_cgroup_memory_files_new (OwHierarchy *hierarchy)
{
  OwCgroupMemoryFiles *files = g_new0 (OwCgroupMemoryFiles, 1);

  files->hierarchy = hierarchy;
  for (guint i = 0; i < KEPT_CGROUPS; i++)
    for (guint j = 0; j < OW_CGROUP_N_SIZES; j++)
      files->kept[i].fd[j] = -1;
  return files;
}

void
ow_cgroup_memory_files_free (OwCgroupMemoryFiles *files)
{
  if (files == NULL)
    return;
  g_clear_handle_id (&files->close_id, g_source_remove);
  for (guint i = 0; i < KEPT_CGROUPS; i++)
    kept_close (&files->kept[i]);
  g_free (files);
}

void
ow_cgroup_memory_read (OwCgroupMemoryFiles *files, const char *cgroup, OwCgroupMemory *memory)
{
  guint version = ow_hierarchy_get_version (files->hierarchy);
  gboolean v1 = version == 1;
  /* v1 prints "no limit" as the page counter's maximum, in bytes */
  guint64 page = (guint64)sysconf (_SC_PAGESIZE);
  guint64 v1_unlimited = (guint64)G_MAXINT64 / page * page;
  gboolean keep = TRUE;
  Kept *kept;

  memset (memory, 0, sizeof *memory);
  if (version != 1 && version != 2)
    return;
  /* A kept file follows its cgroup when renamed (v1) and fails once it is removed: the
   * name is checked to still be the same directory first. */
  kept = kept_front (files, cgroup);
  if (kept->cgroup == NULL || strcmp (kept->cgroup, cgroup) != 0
      || !ow_hierarchy_cgroup_is (files->hierarchy, cgroup, &kept->dir))
    {
      kept_close (kept);
      keep = kept_open (files, kept, cgroup);
    }
  if (!kept_read (kept, memory))
    {
      memory->present = 0;
      keep = FALSE;
    }
  if (!keep)
    kept_close (kept);
  else
    {
      kept->used_at = g_get_monotonic_time ();
      if (files->close_id == 0)
        files->close_id
            = g_timeout_add_seconds ((guint)(KEEP_USEC / G_USEC_PER_SEC), on_close, files);
    }
  if (v1 && (memory->present & (1u << OW_CGROUP_LIMIT))
      && memory->bytes[OW_CGROUP_LIMIT] >= v1_unlimited)
    memory->present &= ~(1u << OW_CGROUP_LIMIT);
  if (v1 && (memory->present & (1u << OW_CGROUP_SWAP)))
    {
      if (memory->present & (1u << OW_CGROUP_USAGE))
        memory->bytes[OW_CGROUP_SWAP]
            -= MIN (memory->bytes[OW_CGROUP_SWAP], memory->bytes[OW_CGROUP_USAGE]);
      else
        memory->present &= ~(1u << OW_CGROUP_SWAP);
    }
}

void
ow_cgroup_memory_add_details (const OwCgroupMemory *memory, GVariantBuilder *details)
{
  for (guint i = 0; i < OW_CGROUP_N_SIZES; i++)
    if (memory->present & (1u << i))
      oomwatch_details_add (details, size_files[i].key, g_variant_new_uint64 (memory->bytes[i]));
}
