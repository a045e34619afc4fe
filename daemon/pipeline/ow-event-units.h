/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The details every OomEvent gets from cgroup paths: unit, slice, user-unit, app-id and the
 * container's keys (of the victim's cgroup when the event names one, else of the watched
 * cgroup, whose keys the watch parsed once), and an oomd-kill's reason and killed cgroup.
 * None of it is victim identity. */
#pragma once

#include "ow-event.h"
#include "ow-victim.h"
#include "ow-registry.h"

G_BEGIN_DECLS

const OomwatchUnitInfo *ow_event_units_for (OwRegistry *registry, const char *cgroup,
                                            const OwEvent *event, const OwVictim *victim,
                                            OomwatchUnitInfo **scratch);
void ow_event_units_add_details (GVariantDict *details, const OwEvent *event,
                                 const OwVictim *victim, const OomwatchUnitInfo *units);

G_END_DECLS
