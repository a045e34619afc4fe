/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The cgroup hierarchy that holds the memory controller: found once at start from
 * /proc/self/mountinfo. It turns client strings into canonical paths and opens them safely
 * inside the mount; nothing else. */
#pragma once

#include <glib.h>
#include <sys/stat.h>

G_BEGIN_DECLS

typedef struct
{
  char *mount_point;
  guint version;       /* 1 or 2 */
  gboolean has_memory; /* v1: "memory" in the super options; v2: filled in by the caller */
} OwCgroupMount;

GPtrArray *ow_mountinfo_parse_cgroup_mounts (const char *mountinfo);

typedef struct _OwHierarchy OwHierarchy;

OwHierarchy *ow_hierarchy_new_from_system (GError **error);
OwHierarchy *ow_hierarchy_new (guint version, const char *mount_point,
                               const char *const *other_mounts, GError **error);
/* Test seam: a hierarchy of VERSION over plain directories below DIR (no cgroup filesystem
 * check), so unit tests run the registry and the cgroup monitor without root or cgroups. */
OwHierarchy *ow_hierarchy_new_for_tests (guint version, const char *dir, GError **error);
guint32 ow_hierarchy_owner (OwHierarchy *self, uid_t uid);
void ow_hierarchy_free (OwHierarchy *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwHierarchy, ow_hierarchy_free)

guint ow_hierarchy_get_version (OwHierarchy *self);
const char *ow_hierarchy_get_mount_point (OwHierarchy *self);

char *ow_hierarchy_canonicalize (OwHierarchy *self, const char *input, GError **error);
/* Each of PATHS canonicalized; one that is not is left out with a warning (persistent watches
 * from the configuration). */
GStrv ow_hierarchy_canonicalize_all (OwHierarchy *self, GStrv paths);
int ow_hierarchy_open_cgroup (OwHierarchy *self, const char *canonical, GError **error);
int ow_hierarchy_open_cgroup_file (OwHierarchy *self, const char *canonical, const char *name,
                                   GError **error);
/* TRUE: CANONICAL still names the cgroup directory ST was taken of. */
gboolean ow_hierarchy_cgroup_is (OwHierarchy *self, const char *canonical, const struct stat *st);
/* The canonical paths of the child cgroups of CANONICAL. */
GPtrArray *ow_hierarchy_list_children (OwHierarchy *self, const char *canonical, GError **error);

G_END_DECLS
