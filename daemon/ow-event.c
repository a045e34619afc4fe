/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-event.h"
#include "oomwatch-names.h"

const char *
ow_event_kind_to_string (OwEventKind kind)
{
  switch (kind)
    {
    case OW_EVENT_OOM:
      return OOMWATCH_KIND_OOM;
    case OW_EVENT_OOM_KILL:
      return OOMWATCH_KIND_OOM_KILL;
    case OW_EVENT_OOM_RECOVERED:
      return OOMWATCH_KIND_OOM_RECOVERED;
    case OW_EVENT_OOM_GROUP_KILL:
      return OOMWATCH_KIND_OOM_GROUP_KILL;
    case OW_EVENT_OOMD_KILL:
      return OOMWATCH_KIND_OOMD_KILL;
    case OW_EVENT_HIGH:
      return OOMWATCH_KIND_HIGH;
    case OW_EVENT_MAX:
      return OOMWATCH_KIND_MAX;
    }
  g_return_val_if_reached ("unknown");
}
