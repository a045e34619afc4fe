/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Makes the right event source for a cgroup of the context's hierarchy. */
#pragma once

#include "ow-source.h"

G_BEGIN_DECLS

OwSource *ow_source_new (const OwSourceContext *context, const char *canonical,
                         OwSourceBaseline baseline, const OwSourceListener *listener,
                         gpointer user_data, GError **error);

G_END_DECLS
