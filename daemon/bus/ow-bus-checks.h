/* What the bus guard checks of a method call once GDBus has parsed it: no fds, the signature
 * each method takes, a path no longer than a cgroup's, the size of a call, the number of
 * Watch() options. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define OW_BUS_GUARD_MAX_OPTIONS 8
/* No call of ours needs more: a path is at most 4 KiB. */
#define OW_BUS_GUARD_MAX_BODY 65536

gboolean ow_bus_checks_refuse (GDBusMessage *message, const char **error_name, char **text);

G_END_DECLS
