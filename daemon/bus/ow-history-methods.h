/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Manager's History() and Metrics() methods. Both first finish the work after every signal
 * sent so far (EMITTER), so that they tell everything sent. */
#pragma once

#include "ow-bus-guard.h"
#include "ow-continuity.h"

G_BEGIN_DECLS

/* History(t after, a{sv} options) → (aa{sv} events, a{sv} info); the caller's uid is found
 * through GUARD (OWNER is kept alive meanwhile). */
gboolean ow_history_handle_history (OwContinuity *continuity,
                                    OwBusGuard *guard, GObject *owner,
                                    GDBusMethodInvocation *invocation, guint64 after,
                                    GVariant *options);
/* Metrics(a{sv} options) → s */
gboolean ow_history_handle_metrics (OwContinuity *continuity,
                                    GDBusMethodInvocation *invocation, GVariant *options);

G_END_DECLS
