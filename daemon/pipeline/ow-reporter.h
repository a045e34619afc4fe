/* SPDX-License-Identifier: GPL-2.0-or-later */
/* From what the registry saw to what is sent: a kill counter's rise drains the kernel log
 * first (its lines come before the counter rises), kill attribution splits it per named
 * victim and adds v1 ancestors, and the signal emitter sends each report. Victims the log
 * names are also reported to watched v1 ancestors that no counter tells. */
#pragma once

#include "ow-registry.h"
#include "ow-signal-emitter.h"

G_BEGIN_DECLS

typedef struct _OwReporter OwReporter;

/* REGISTRY and HIERARCHY are borrowed and must outlive the reporter. */
OwReporter *ow_reporter_new (OwRegistry *registry, OwHierarchy *hierarchy,
                             const char *kernel_log_path);
void ow_reporter_free (OwReporter *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwReporter, ow_reporter_free)

/* Starts or stops reading the kernel log; TRUE when it is read now. */
gboolean ow_reporter_set_kernel_log (OwReporter *self, gboolean wanted);
OwSignalEmitter *ow_reporter_get_emitter (OwReporter *self);

void ow_reporter_event (OwReporter *self, OwWatch *watch, const OwEvent *event);
void ow_reporter_removed (OwReporter *self, OwWatch *watch);

G_END_DECLS
