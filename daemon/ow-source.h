/* An event source: what turns one cgroup's kernel notifications into OwEvents.
 * The cgroup v1 eventfd source and the v2 memory.events source implement it; the
 * manager only sees this interface. */
#pragma once

#include "ow-counters.h"
#include "ow-event.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _OwSource OwSource;

typedef struct
{
  void (*event) (const OwEvent *event, gpointer user_data);
  /* The cgroup went away; the source is dead and should be freed. */
  void (*removed) (gpointer user_data);
} OwSourceCallbacks;

typedef struct
{
  /* Adds source-specific state (e.g. under-oom) to a ListWatches entry. */
  void (*describe) (OwSource *source, GVariantDict *dict);
  void (*free) (OwSource *source);
  /* nogaps hook: the kernel counters as last read (the baseline, right after creation). */
  void (*counters) (OwSource *source, OwCounters *out);
} OwSourceVTable;

struct _OwSource
{
  const OwSourceVTable *vtable;
  const OwSourceCallbacks *callbacks;
  gpointer user_data;
};

void ow_source_init (OwSource *source,
                     const OwSourceVTable *vtable,
                     const OwSourceCallbacks *callbacks,
                     gpointer user_data);
void ow_source_emit (OwSource *source, const OwEvent *event);
void ow_source_emit_removed (OwSource *source);
void ow_source_describe (OwSource *source, GVariantDict *dict);
void ow_source_free (OwSource *source);
gboolean ow_source_get_counters (OwSource *source, OwCounters *counters); /* nogaps hook */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwSource, ow_source_free)

G_END_DECLS
