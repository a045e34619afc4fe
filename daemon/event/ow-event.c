/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-event.h"
#include "oomwatch-names.h"

#include <string.h>

/* Kinds that are not opt-in are rare (each is an OOM): kept. Opt-in memory.events rises may
 * come many times a second: sent to who asked, never kept (they would push OOMs out) and not
 * caught up after a restart. oom-recovered and systemd-oomd's kills have no kernel counter. */
static const OwEventKindInfo kinds[OW_EVENT_N_KINDS] = {
#define KIND(k, name, key, opt_in, kept, counter) [k] = { k, name, key, opt_in, kept, counter }
  KIND (OW_EVENT_OOM, OOMWATCH_KIND_OOM, "oom", FALSE, TRUE, OW_COUNTER_OOM),
  KIND (OW_EVENT_OOM_KILL, OOMWATCH_KIND_OOM_KILL, "oom_kill", FALSE, TRUE, OW_COUNTER_OOM_KILL),
  KIND (OW_EVENT_OOM_RECOVERED, OOMWATCH_KIND_OOM_RECOVERED, NULL, FALSE, TRUE, OW_COUNTER_NONE),
  KIND (OW_EVENT_OOM_GROUP_KILL, OOMWATCH_KIND_OOM_GROUP_KILL, "oom_group_kill", FALSE, TRUE,
        OW_COUNTER_OOM_GROUP_KILL),
  KIND (OW_EVENT_OOMD_KILL, OOMWATCH_KIND_OOMD_KILL, NULL, FALSE, TRUE, OW_COUNTER_NONE),
  KIND (OW_EVENT_HIGH, OOMWATCH_KIND_HIGH, "high", TRUE, FALSE, OW_COUNTER_NONE),
  KIND (OW_EVENT_MAX, OOMWATCH_KIND_MAX, "max", TRUE, FALSE, OW_COUNTER_NONE),
  KIND (OW_EVENT_LOW, OOMWATCH_KIND_LOW, "low", TRUE, FALSE, OW_COUNTER_NONE),
#undef KIND
};

const OwEventKindInfo *
ow_event_kind_info (OwEventKind kind)
{
  g_return_val_if_fail ((guint)kind < OW_EVENT_N_KINDS, &kinds[OW_EVENT_OOM]);
  return &kinds[kind];
}

const OwEventKindInfo *
ow_event_kind_by_name (const char *name)
{
  for (guint i = 0; i < OW_EVENT_N_KINDS; i++)
    if (strcmp (kinds[i].name, name) == 0)
      return &kinds[i];
  return NULL;
}

const char *
ow_event_kind_to_string (OwEventKind kind)
{
  return ow_event_kind_info (kind)->name;
}

char *
ow_event_kind_opt_in_names (void)
{
  GString *all = g_string_new (NULL);

  for (guint i = 0; i < OW_EVENT_N_KINDS; i++)
    if (kinds[i].opt_in)
      g_string_append_printf (all, "%s%s", all->len > 0 ? ", " : "", kinds[i].name);
  return g_string_free (all, FALSE);
}
