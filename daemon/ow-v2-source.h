/* cgroup v2 event source: memory.events, woken by kernfs change notification (POLLPRI). */
#pragma once

#include "ow-hierarchy.h"
#include "ow-source.h"

G_BEGIN_DECLS

OwSource *ow_v2_source_new (OwHierarchy *hierarchy,
                            const char *canonical,
                            const OwSourceCallbacks *callbacks,
                            gpointer user_data,
                            GError **error);

G_END_DECLS
