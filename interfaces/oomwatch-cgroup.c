/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "oomwatch-cgroup.h"

#include <string.h>

gboolean
oomwatch_cgroup_is_below (const char *cgroup, const char *ancestor)
{
  gsize len = strlen (ancestor);

  if (strcmp (ancestor, "/") == 0)
    return cgroup[0] == '/' && cgroup[1] != '\0';
  return strncmp (cgroup, ancestor, len) == 0 && cgroup[len] == '/';
}

gboolean
oomwatch_cgroup_is_at_or_below (const char *cgroup, const char *ancestor)
{
  return strcmp (cgroup, ancestor) == 0 || oomwatch_cgroup_is_below (cgroup, ancestor);
}

char *
oomwatch_cgroup_parent (const char *cgroup)
{
  const char *slash;

  if (cgroup[0] != '/' || cgroup[1] == '\0')
    return NULL;
  slash = strrchr (cgroup, '/');
  return slash == cgroup ? g_strdup ("/") : g_strndup (cgroup, (gsize)(slash - cgroup));
}
