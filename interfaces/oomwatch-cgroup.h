/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Cgroup ancestry on canonical paths ("/", "/a", "/a/b"), shared by daemon and clients. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* CGROUP is strictly below ANCESTOR. */
gboolean oomwatch_cgroup_is_below (const char *cgroup, const char *ancestor);
/* CGROUP is ANCESTOR or below it. */
gboolean oomwatch_cgroup_is_at_or_below (const char *cgroup, const char *ancestor);
/* The parent of CGROUP, or NULL for "/" (and for anything not canonical). */
char *oomwatch_cgroup_parent (const char *cgroup);

G_END_DECLS
