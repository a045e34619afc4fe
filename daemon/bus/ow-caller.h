/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Who is calling: the uid of a method's caller decides its limits, what it may see and what
 * it may do. The bus is asked once per connection, without blocking the loop; the answer is
 * kept in the bus guard (which rate-limits by it). */
#pragma once

#include "ow-bus-guard.h"

G_BEGIN_DECLS

typedef void (*OwCallerFunc) (GObject *owner, GDBusMethodInvocation *invocation, guint32 uid,
                              gpointer data);

/* Calls THEN with the caller's uid, now or once the bus answered (OWNER and INVOCATION are
 * kept alive until then); DATA is freed with DATA_FREE afterwards. If the bus cannot tell,
 * the invocation gets an error and THEN is not called. */
void ow_caller_with_uid (OwBusGuard *guard, GObject *owner, GDBusMethodInvocation *invocation,
                         OwCallerFunc then, gpointer data, GDestroyNotify data_free);

G_END_DECLS
