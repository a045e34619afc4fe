/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CGROUP arguments as the daemon takes them: paths from the hierarchy's root. */
#pragma once

#include "oomwatch-generated.h"

G_BEGIN_DECLS

/* ARG as given when absolute; a relative one (., kid, ../x) from CWD, which must lie inside
 * the hierarchy mounted at MOUNT. */
char *oomctl_resolve_cgroup (const char *arg, const char *cwd, const char *mount,
                             GError **error);

/* Every argument resolved; asks the daemon where the hierarchy is mounted when one is
 * relative. */
GStrv oomctl_resolve_cgroups (OomwatchManager *manager, const char *const *args,
                              GError **error);

G_END_DECLS
