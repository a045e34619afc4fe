/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The container and pod a cgroup belongs to, believed only from path components root owns:
 * an unprivileged user can create cgroups only in a subtree delegated to them (owned by
 * them), so a root-owned component was named by root (a runtime, the kubelet). Checked once
 * per watch, with one open and fstat per identity component. */
#pragma once

#include "ow-container-names.h"
#include "ow-hierarchy.h"
#include "oomwatch-container.h"

G_BEGIN_DECLS

/* NULL: CGROUP names no pod or container, or one of its identity components is not root's.
 * NAMES (may be NULL) adds the names, reading the directories if need be (rate-limited). */
OomwatchContainerInfo *ow_container_identify (OwHierarchy *hierarchy, OwContainerNames *names,
                                              const char *cgroup);

G_END_DECLS
