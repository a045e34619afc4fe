/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-event-units.h"
#include "ow-container.h"
#include "oomwatch-names.h"

/* The unit info of an event on CGROUP: the watch's (parsed when the watch began) or, for a
 * victim's or a killed cgroup, which can be any descendant, that cgroup's watch's or one parsed
 * now into *SCRATCH, which the caller frees (with the identity it had while watched, when it
 * was removed since). Container names the watch did not know yet are looked up here, and once
 * known kept with the watch. */
const OomwatchUnitInfo *
ow_event_units_for (OwRegistry *registry, const char *cgroup, const OwEvent *event,
                    const OwVictim *victim, OomwatchUnitInfo **scratch)
{
  const char *task_cgroup = victim != NULL ? victim->task_cgroup : event->task_cgroup;
  const char *target = task_cgroup != NULL ? task_cgroup : cgroup;
  const OwSourceContext *context = ow_registry_get_context (registry);
  OwContainerNames *names = context->container_names;
  OwWatch *watch = ow_registry_lookup (registry, target);
  OomwatchContainerInfo *container;

  if (watch != NULL)
    {
      if (ow_container_names_missing (watch->units->container))
        ow_container_names_fill (names, watch->units->container, TRUE);
      return watch->units;
    }
  *scratch = oomwatch_unit_info_new (target);
  container = ow_container_names_recall (names, target);
  if (container == NULL)
    container = ow_container_identify (context->hierarchy, names, target);
  ow_container_names_fill (names, container, TRUE);
  (*scratch)->container = container;
  return *scratch;
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
