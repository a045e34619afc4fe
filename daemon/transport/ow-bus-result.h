/* SPDX-License-Identifier: GPL-2.0-or-later */
/* For the bus streams: a stream that is the GAsyncResult of its own asynchronous calls. GDBus
 * makes one at a time (GIO's pending flag), so no object is made per call; the stream's own
 * finish() takes it, and it bears no tag. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

void ow_bus_result_iface_init (GAsyncResultIface *iface);

G_END_DECLS
