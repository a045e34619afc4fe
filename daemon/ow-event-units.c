#include "ow-event-units.h"
#include "oomwatch-names.h"

/* Adds the keys to DETAILS and returns the unit info they came from, for the journal record:
 * WATCH's (parsed when the watch began) or one parsed now into *SCRATCH (the caller frees it)
 * for a victim's cgroup, which can be any descendant. WATCH may be NULL. */
const OomwatchUnitInfo *
ow_event_units_add_details (GVariantDict *details, const char *cgroup, OwWatch *watch,
                            const OwEvent *event, const OwVictim *victim,
                            OomwatchUnitInfo **scratch)
{
  const char *task_cgroup = victim != NULL ? victim->task_cgroup : event->task_cgroup;
  const OomwatchUnitInfo *units = watch != NULL ? watch->units : NULL;

  if (event->reason != NULL)
    g_variant_dict_insert (details, OOMWATCH_KEY_REASON, "s", event->reason);
  if (victim == NULL && event->task_cgroup != NULL)
    g_variant_dict_insert (details, OOMWATCH_KEY_TASK_CGROUP, "s", event->task_cgroup);
  if (task_cgroup != NULL && g_strcmp0 (task_cgroup, cgroup) != 0)
    units = *scratch = oomwatch_unit_info_new (task_cgroup);
  else if (units == NULL)
    units = *scratch = oomwatch_unit_info_new (cgroup);
  oomwatch_unit_info_add_details (units, details);
  return units;
}
