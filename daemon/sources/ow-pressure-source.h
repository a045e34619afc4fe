/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One kernel registration for memory pressure of one cgroup at one level, rate-limited.
 * cgroup v1: an eventfd registered for memory.pressure_level through cgroup.event_control
 * ("<efd> <fd> <level>,hierarchy"); v2: a PSI trigger on memory.pressure, the thresholds of
 * low-memory-monitor (some 70 ms, some 100 ms, full 100 ms per 1 s window). Either costs one
 * fd, the trigger's or the eventfd (the v1 pressure_level fd is closed after registering).
 *
 * Rate: after a notification the fd leaves the poll set and a one-shot timer runs; when it
 * fires and the kernel signalled meanwhile, it runs again; after a quiet period the fd is
 * polled again. So at most one notification per quiet period, and no timer while quiet. */
#pragma once

#include "ow-pressure-level.h"
#include "ow-fd-mux.h"
#include "ow-hierarchy.h"

G_BEGIN_DECLS

/* How long a level must stay quiet before it is reported again: the recovery interval of
 * low-memory-monitor and of GLib's GMemoryMonitorBase (one signal per level per 15 s). */
#define OW_PRESSURE_QUIET_MS 15000

typedef struct _OwPressureSource OwPressureSource;

typedef struct
{
  /* LEVEL was reached; FD is the registration's, which a v2 caller may read memory.pressure
   * from. */
  void (*level) (OwPressureLevel level, int fd, gpointer user_data);
} OwPressureSourceListener;

/* HIERARCHY and MUX are borrowed and outlive the source. */
OwPressureSource *ow_pressure_source_new (OwHierarchy *hierarchy, OwFdMux *mux, const char *cgroup,
                                          OwPressureLevel level,
                                          const OwPressureSourceListener *listener,
                                          gpointer user_data, GError **error);
/* One kernel event fires every level at or below its own at once: whoever reports takes the
 * others' pending signal (starting their quiet periods too) and reports the highest. */
gboolean ow_pressure_source_take_pending (OwPressureSource *self);
int ow_pressure_source_get_fd (OwPressureSource *self);
/* Whether it reported (or was taken) within its quiet period. */
gboolean ow_pressure_source_is_quiet (OwPressureSource *self);
void ow_pressure_source_free (OwPressureSource *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwPressureSource, ow_pressure_source_free)

G_END_DECLS
