/* One watched cgroup: its event source, the connections watching it, and its counts. */
#pragma once

#include "ow-event.h"
#include "ow-source.h"
#include "oomwatch-unit.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  char *cgroup;
  OwSource *source;
  GHashTable *watchers; /* unique bus names (and the persistent pseudo-client) */
  guint64 oom_count;
  guint64 oom_kill_count;
  gint64 since;
  gboolean children_followed; /* new child cgroups are followed (recursive watches) */
  gboolean removal_watched;
  OomwatchUnitInfo *units;    /* unit and app keys of cgroup, parsed once (issue 14) */
} OwWatch;

OwWatch *ow_watch_new (const char *cgroup);
void ow_watch_free (OwWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwWatch, ow_watch_free)

void ow_watch_count (OwWatch *watch, const OwEvent *event);
GVariant *ow_watch_describe (OwWatch *watch, guint hierarchy, gboolean recursive_root,
                             gboolean persistent, const char *const *skipped);

G_END_DECLS
