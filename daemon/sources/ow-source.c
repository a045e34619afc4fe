/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-source.h"
#include "ow-str-intern.h"

#include <string.h>

void
ow_source_init (OwSource *source, const OwSourceVTable *vtable, const OwSourceContext *context,
                const char *cgroup, const OwSourceListener *listener, gpointer user_data)
{
  source->vtable = vtable;
  source->context = context;
  source->cgroup = ow_str_intern (cgroup); /* shared with the watch's */
  source->listener = listener;
  source->user_data = user_data;
  if (context->fd_budget != NULL)
    ow_fd_budget_add_user (context->fd_budget);
}

void
ow_source_emit (OwSource *source, const OwEvent *event)
{
  if (event->count > 0)
    source->listener->event (source->cgroup, event, source->user_data);
}

void
ow_source_emit_removed (OwSource *source)
{
  source->listener->removed (source->cgroup, source->user_data);
}

void
ow_source_sync (OwSource *source)
{
  if (source->vtable->sync != NULL)
    source->vtable->sync (source);
}

void
ow_source_describe (OwSource *source, GVariantDict *dict)
{
  if (source->vtable->describe != NULL)
    source->vtable->describe (source, dict);
}

gboolean
ow_source_get_counters (OwSource *source, OwCounters *counters)
{
  memset (counters, 0, sizeof *counters);
  if (source->vtable->counters == NULL)
    return FALSE;
  source->vtable->counters (source, counters);
  return TRUE;
}

gboolean
ow_source_read_descendants (OwSource *source, OwCounters *counters)
{
  memset (counters, 0, sizeof *counters);
  return source->vtable->read_descendants != NULL
         && source->vtable->read_descendants (source, counters);
}

void
ow_source_free (OwSource *source)
{
  char *cgroup;
  OwFdBudget *budget;

  if (source == NULL)
    return;
  cgroup = source->cgroup;
  budget = source->context->fd_budget;
  source->vtable->free (source);
  g_ref_string_release (cgroup);
  if (budget != NULL)
    ow_fd_budget_remove_user (budget);
}
