/* The harness's own cgroup helpers (the ones tests call are in ow-test-env.h). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *ow_test_cgroups_memory_mount (void);
char *ow_test_cgroups_own (void);
void ow_test_cgroups_remove_tree (const char *dir);
void ow_test_cgroups_remove_stale (const char *mount, const char *own);

G_END_DECLS
