/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgroup v2 event source: memory.events, woken by kernfs change notification (POLLPRI). */
#pragma once

#include "ow-source.h"

G_BEGIN_DECLS

OwSource *ow_v2_source_new (const OwSourceContext *context, const char *canonical,
                            OwSourceBaseline baseline, const OwSourceListener *listener,
                            gpointer user_data, GError **error);

G_END_DECLS
