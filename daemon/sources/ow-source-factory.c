/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-source-factory.h"
#include "ow-v1-source.h"
#include "ow-v2-root-source.h"
#include "ow-v2-source.h"
#include "oomwatch-error.h"

#include <string.h>

OwSource *
ow_source_new (const OwSourceContext *context, const char *canonical, OwSourceBaseline baseline,
               const OwSourceListener *listener, gpointer user_data, GError **error)
{
  switch (ow_hierarchy_get_version (context->hierarchy))
    {
    case 1:
      return ow_v1_source_new (context, canonical, baseline, listener, user_data, error);
    case 2:
      /* The v2 root has no memory.events: machine-wide counters stand in for it. */
      if (strcmp (canonical, "/") == 0)
        return ow_v2_root_source_new (context, listener, user_data, error);
      return ow_v2_source_new (context, canonical, baseline, listener, user_data, error);
    default:
      g_set_error_literal (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NOT_SUPPORTED,
                           "No memory cgroup controller is mounted on this system");
      return NULL;
    }
}
