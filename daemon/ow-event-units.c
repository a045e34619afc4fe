#include "ow-event-units.h"
#include "ow-container.h"
#include "oomwatch-names.h"

/* The unit info of an event on CGROUP: the watch's (parsed when the watch began) or, for a
 * victim's or a killed cgroup, which can be any descendant, that cgroup's watch's or one parsed
 * now into *SCRATCH, which the caller frees. Container names the watch did not know yet are
 * looked up here, once they are known kept with the watch. */
const OomwatchUnitInfo *
ow_event_units_for (OwRegistry *registry, const char *cgroup, const OwEvent *event,
                    const OwVictim *victim, OomwatchUnitInfo **scratch)
{
  const char *task_cgroup = victim != NULL ? victim->task_cgroup : event->task_cgroup;
  const OwSourceContext *context = ow_registry_get_context (registry);
  OwWatch *watch;

  if (task_cgroup != NULL && g_strcmp0 (task_cgroup, cgroup) != 0)
    {
      if ((watch = ow_registry_lookup (registry, task_cgroup)) == NULL)
        {
          *scratch = oomwatch_unit_info_new (task_cgroup);
          (*scratch)->container
              = ow_container_identify (context->hierarchy, context->container_names, task_cgroup);
          ow_container_names_fill (context->container_names, (*scratch)->container, TRUE);
          return *scratch;
        }
    }
  else if ((watch = ow_registry_lookup (registry, cgroup)) == NULL)
    return *scratch = oomwatch_unit_info_new (cgroup);
  if (ow_container_names_missing (watch->units->container))
    ow_container_names_fill (context->container_names, watch->units->container, TRUE);
  return watch->units;
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
