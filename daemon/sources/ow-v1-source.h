/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgroup v1 event source: an eventfd registered for memory.oom_control through
 * cgroup.event_control. */
#pragma once

#include "ow-source.h"

G_BEGIN_DECLS

OwSource *ow_v1_source_new (const OwSourceContext *context, const char *canonical,
                            OwSourceBaseline baseline, const OwSourceListener *listener,
                            gpointer user_data, GError **error);

G_END_DECLS
