/* SPDX-License-Identifier: GPL-2.0-or-later */
/* systemd-oomd's kills: follows org.freedesktop.oom1 on the system bus (it may be absent,
 * appear and go at any time) and turns each Killed(s cgroup, s reason) on or below a watched
 * cgroup into an oomd-kill event on every such watched cgroup, logged once. */
#pragma once

#include "ow-event.h"
#include "ow-registry.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _OwOomd OwOomd;
typedef struct
{
  /* systemd-oomd's kill, as EVENT on the watched CGROUP. */
  void (*killed) (const char *cgroup, const OwEvent *event, gpointer user_data);
} OwOomdListener;

OwOomd *ow_oomd_new (GDBusConnection *connection, OwRegistry *registry,
                     const OwOomdListener *listener, gpointer user_data);
void ow_oomd_free (OwOomd *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwOomd, ow_oomd_free)

void ow_oomd_dispatch (OwOomd *self, const char *cgroup, const char *reason);

G_END_DECLS
