/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Turning a client's cgroup string into a canonical path, and opening it safely. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Longest client string we look at; longer ones are refused before any parsing. */
#define OW_CGROUP_PATH_MAX 4096

char *ow_cgroup_path_canonicalize (const char *input, const char *mount_point,
                                   const char *const *other_mounts, GError **error);

char *ow_cgroup_path_for_message (const char *input);

int ow_cgroup_path_open_dir (int root_fd, const char *canonical, unsigned long fs_magic,
                             GError **error);

int ow_cgroup_path_open_file (int root_fd, const char *canonical, const char *name, GError **error);

G_END_DECLS
