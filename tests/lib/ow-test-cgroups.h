/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The harness's own cgroup helpers (the ones tests call are in ow-test-env.h). */
#pragma once

#include "ow-test-env.h"

G_BEGIN_DECLS

char *ow_test_cgroups_memory_mount (void);
guint ow_test_cgroups_version (void);
char *ow_test_cgroups_own (void);
void ow_test_cgroups_remove_tree (const char *dir);
void ow_test_cgroups_remove_stale (const char *mount, const char *own);

/* cgroup v2 (ow-test-cgroups-v2.c) */
char *ow_test_cgroups_v2_strip_leaf (const char *own);
const char *ow_test_cgroups_setup (void);
void ow_test_cgroups_v2_make (const char *dir, const char *limit);
gboolean ow_test_cgroups_skip_unless (guint version, const char *why);
int ow_test_cgroups_other_controller_error (void);

guint ow_test_cgroups_fd_baseline (OwTestEnv *env, const char *cgroup);

G_END_DECLS
