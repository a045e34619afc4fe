#include "ow-source.h"

#include <string.h>

void
ow_source_init (OwSource *source,
                const OwSourceVTable *vtable,
                const OwSourceCallbacks *callbacks,
                gpointer user_data)
{
  source->vtable = vtable;
  source->callbacks = callbacks;
  source->user_data = user_data;
}

void
ow_source_emit (OwSource *source, const OwEvent *event)
{
  if (event->count > 0)
    source->callbacks->event (event, source->user_data);
}

void
ow_source_emit_removed (OwSource *source)
{
  source->callbacks->removed (source->user_data);
}

void
ow_source_describe (OwSource *source, GVariantDict *dict)
{
  if (source->vtable->describe != NULL)
    source->vtable->describe (source, dict);
}

/* nogaps hook */
gboolean
ow_source_get_counters (OwSource *source, OwCounters *counters)
{
  memset (counters, 0, sizeof *counters);
  if (source->vtable->counters == NULL)
    return FALSE;
  source->vtable->counters (source, counters);
  return TRUE;
}

void
ow_source_free (OwSource *source)
{
  if (source != NULL)
    source->vtable->free (source);
}
