/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a cgroup path says about systemd units and desktop applications: the unit, its slice,
 * the unit inside a user manager, and the application ID of systemd's XDG naming convention
 * ("Desktop Environment Integration": app[-<launcher>]-<ID>[@<RANDOM>].service and
 * app[-<launcher>]-<ID>-<RANDOM>.scope). Shared by the daemon and its clients; pure string
 * work on input that may be hostile (any bytes, any length). */
#pragma once

#include "oomwatch-container.h"

#include <glib.h>

G_BEGIN_DECLS

/* systemd refuses longer unit names (UNIT_NAME_MAX includes the NUL). */
#define OOMWATCH_UNIT_NAME_MAX 255

typedef struct
{
  char *unit;      /* the deepest .service or .scope; NULL: none */
  char *slice;     /* the deepest .slice above the unit (or anywhere, without a unit) */
  char *user_unit; /* the first unit below user@UID.service */
  char *app_id;    /* from unit, unescaped; valid UTF-8 */
  /* Pod and container: never set by oomwatch_unit_info_new, only by the daemon once it has
   * checked that root owns the path components they come from. */
  OomwatchContainerInfo *container;
} OomwatchUnitInfo;

OomwatchUnitInfo *oomwatch_unit_info_new (const char *cgroup);
void oomwatch_unit_info_free (OomwatchUnitInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OomwatchUnitInfo, oomwatch_unit_info_free)

gboolean oomwatch_unit_info_is_empty (const OomwatchUnitInfo *info);
void oomwatch_unit_info_add_details (const OomwatchUnitInfo *info, GVariantBuilder *details);

gboolean oomwatch_unit_name_is_valid (const char *name, gssize length);
char *oomwatch_unit_app_id (const char *unit);
char *oomwatch_unit_unescape (const char *escaped, gssize length);

G_END_DECLS
