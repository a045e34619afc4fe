/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-container.h"
#include "ow-fd.h"

#include <sys/stat.h>

/* Whether root owns the cgroup CGROUP[0..END): the component that ends there. */
static gboolean
root_owns (OwHierarchy *hierarchy, const char *cgroup, gsize end)
{
  g_autofree char *prefix = g_strndup (cgroup, end);
  g_autoptr (GError) error = NULL;
  g_auto (OwFd) dir = ow_hierarchy_open_cgroup (hierarchy, prefix, &error);
  struct stat st;

  if (dir < 0)
    {
      g_debug ("%s: cannot check its owner: %s", prefix, error->message);
      return FALSE;
    }
  return fstat (dir, &st) == 0 && st.st_uid == 0;
}

OomwatchContainerInfo *
ow_container_identify (OwHierarchy *hierarchy, OwContainerNames *names, const char *cgroup)
{
  g_autoptr (OomwatchContainerInfo) info = oomwatch_container_info_new (cgroup);

  if (info == NULL)
    return NULL;
  if ((info->pod_end > 0 && !root_owns (hierarchy, cgroup, info->pod_end))
      || (info->container_end > 0 && !root_owns (hierarchy, cgroup, info->container_end)))
    {
      g_debug ("%s: named like a pod or container, but not root's: no identity", cgroup);
      return NULL;
    }
  ow_container_names_fill (names, info, TRUE);
  return g_steal_pointer (&info);
}
