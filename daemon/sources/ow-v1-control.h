/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading a cgroup v1 memory.oom_control. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  gboolean kill_disabled;
  gboolean under_oom;
  guint64 oom_kill; /* 0 on kernels before 4.13, which do not count kills */
} OwV1Control;

typedef enum
{
  OW_V1_READ_OK,
  OW_V1_READ_REMOVED, /* ENODEV: the cgroup is gone */
  OW_V1_READ_FAILED,
} OwV1ReadResult;

/* Reads FD (memory.oom_control of CGROUP, named in errors) from its start. */
OwV1ReadResult ow_v1_control_read (int fd, const char *cgroup, OwV1Control *state, GError **error);

G_END_DECLS
