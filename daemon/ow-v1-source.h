/* cgroup v1 event source: an eventfd registered for memory.oom_control through
 * cgroup.event_control. */
#pragma once

#include "ow-hierarchy.h"
#include "ow-source.h"

G_BEGIN_DECLS

OwSource *ow_v1_source_new (OwHierarchy *hierarchy,
                            const char *canonical,
                            const OwSourceCallbacks *callbacks,
                            gpointer user_data,
                            GError **error);

G_END_DECLS
