/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomwatch-notify --pressure LEVEL: a warning before the kill ("Memory is running low in …"),
 * at most one per quiet period, updated in place when a deeper cgroup reports (the daemon
 * already sends at most one per level per cgroup per 15 s; a desktop wants far fewer). Off by
 * default. */
#pragma once

#include "oomwatch-generated.h"

G_BEGIN_DECLS

typedef struct _NotifyPressure NotifyPressure;

/* LEVEL NULL: off (returns NULL). QUIET_SEC: least time between two warnings. */
NotifyPressure *notify_pressure_new (GDBusConnection *session, OomwatchManager *manager,
                                     const char *level, guint quiet_sec);
void notify_pressure_free (NotifyPressure *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NotifyPressure, notify_pressure_free)

/* Adds the Watch option that asks for pressure (nothing when SELF is NULL). */
void notify_pressure_add_option (NotifyPressure *self, GVariantDict *options);

G_END_DECLS
