/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-event-units.h"
#include "oomwatch-names.h"

/* The unit info of an event on CGROUP: WATCH's (parsed when the watch began; WATCH may be
 * NULL) or, for a victim's or a killed cgroup, which can be any descendant, one parsed now into
 * *SCRATCH, which the caller frees. */
const OomwatchUnitInfo *
ow_event_units_for (const char *cgroup, OwWatch *watch, const OwEvent *event,
                    const OwVictim *victim, OomwatchUnitInfo **scratch)
{
  const char *task_cgroup = victim != NULL ? victim->task_cgroup : event->task_cgroup;

  if (task_cgroup != NULL && g_strcmp0 (task_cgroup, cgroup) != 0)
    return *scratch = oomwatch_unit_info_new (task_cgroup);
  if (watch != NULL)
    return watch->units;
  return *scratch = oomwatch_unit_info_new (cgroup);
}

void
ow_event_units_add_details (GVariantDict *details, const OwEvent *event, const OwVictim *victim,
                            const OomwatchUnitInfo *units)
{
  if (event->reason != NULL)
    g_variant_dict_insert (details, OOMWATCH_KEY_REASON, "s", event->reason);
  if (victim == NULL && event->task_cgroup != NULL)
    g_variant_dict_insert (details, OOMWATCH_KEY_TASK_CGROUP, "s", event->task_cgroup);
  oomwatch_unit_info_add_details (units, details);
}
