/* The cgroup hierarchy that holds the memory controller: found once at start from
 * /proc/self/mountinfo; resolves client paths inside it and makes event sources. */
#pragma once

#include "ow-fd-mux.h"
#include "ow-source.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *mount_point;
  guint version;      /* 1 or 2 */
  gboolean has_memory; /* v1: "memory" in the super options; v2: filled in by the caller */
} OwCgroupMount;

GPtrArray *ow_mountinfo_parse_cgroup_mounts (const char *mountinfo);

typedef struct _OwHierarchy OwHierarchy;

OwHierarchy *ow_hierarchy_new_from_system (GError **error);
OwHierarchy *ow_hierarchy_new (guint version, const char *mount_point,
                               const char *const *other_mounts, GError **error);
void ow_hierarchy_free (OwHierarchy *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwHierarchy, ow_hierarchy_free)

guint ow_hierarchy_get_version (OwHierarchy *self);
const char *ow_hierarchy_get_mount_point (OwHierarchy *self);

char *ow_hierarchy_canonicalize (OwHierarchy *self, const char *input, GError **error);
int ow_hierarchy_open_cgroup (OwHierarchy *self, const char *canonical, GError **error);
int ow_hierarchy_open_cgroup_file (OwHierarchy *self, const char *canonical, const char *name,
                                   GError **error);
/* The sources' fds all go through one epoll fd (see ow-fd-mux.h). */
guint ow_hierarchy_poll_fd (OwHierarchy *self, int fd, guint32 events, OwFdMuxFunc func,
                            gpointer user_data, GError **error);
void ow_hierarchy_unpoll_fd (OwHierarchy *self, guint *id);
OwSource *ow_hierarchy_create_source (OwHierarchy *self,
                                      const char *canonical,
                                      const OwSourceCallbacks *callbacks,
                                      gpointer user_data,
                                      GError **error);

/* For sources whose kernel side does not report removal (v2): SOURCE is told through
 * ow_source_emit_removed() when CANONICAL is removed. */
gboolean ow_hierarchy_watch_removal (OwHierarchy *self, const char *canonical, OwSource *source,
                                     GError **error);
void ow_hierarchy_unwatch_removal (OwHierarchy *self, const char *canonical);

/* Following new cgroups (recursive watches): FUNC is told of each directory created in a
 * directory watched with ow_hierarchy_watch_children(). */
typedef void (*OwCgroupCreatedFunc) (const char *canonical, gpointer user_data);
void ow_hierarchy_set_created_func (OwHierarchy *self, OwCgroupCreatedFunc func, gpointer user_data);
gboolean ow_hierarchy_watch_children (OwHierarchy *self, const char *canonical, GError **error);
void ow_hierarchy_unwatch_children (OwHierarchy *self, const char *canonical);
GPtrArray *ow_hierarchy_list_children (OwHierarchy *self, const char *canonical, GError **error);

G_END_DECLS
