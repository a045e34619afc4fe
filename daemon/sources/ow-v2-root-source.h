/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The cgroup v2 root: it has no memory.events, so it reports machine-wide kills from
 * /proc/vmstat's oom_kill counter, re-read whenever the kernel log has new records (every
 * OOM kill logs "Killed process", which is not rate-limited). No polling. */
#pragma once

#include "ow-source.h"

G_BEGIN_DECLS

OwSource *ow_v2_root_source_new (const OwSourceContext *context, const OwSourceListener *listener,
                                 gpointer user_data, GError **error);

G_END_DECLS
