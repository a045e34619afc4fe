/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The unit and container keys of an event's cgroup, from what the registry parsed. */
#include "ow-registry-private.h"
#include "ow-container.h"

/* The watch's (parsed when the watch began) or, for a victim's or a killed cgroup, which can
 * be any descendant, that cgroup's watch's or one parsed now into *SCRATCH, which the caller
 * frees (with the identity it had while watched, when it was removed since). Container names
 * the watch did not know yet are looked up here, and once known kept with the watch. */
const OomwatchUnitInfo *
ow_registry_units_for (OwRegistry *self, const char *cgroup, const OwEvent *event,
                       const OwVictim *victim, OomwatchUnitInfo **scratch)
{
  const char *task_cgroup = victim != NULL ? victim->task_cgroup : event->task_cgroup;
  const char *target = task_cgroup != NULL ? task_cgroup : cgroup;
  OwContainerNames *names = self->context->container_names;
  OwWatch *watch = g_hash_table_lookup (self->watches, target);
  OomwatchContainerInfo *container;

  if (watch != NULL)
    {
      OomwatchUnitInfo *units = ow_watch_units (watch);

      if (ow_container_names_missing (units->container))
        ow_container_names_fill (names, units->container, TRUE);
      return units;
    }
  *scratch = oomwatch_unit_info_new (target);
  container = ow_container_names_recall (names, target);
  if (container == NULL)
    container = ow_container_identify (self->context->hierarchy, names, target);
  ow_container_names_fill (names, container, TRUE);
  (*scratch)->container = container;
  return *scratch;
}
