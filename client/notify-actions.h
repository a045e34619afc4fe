/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomwatch-notify's notification actions: "Show details" writes what the notification is about
 * (with the cgroup paths the body leaves out) to a file in the user's runtime directory and
 * opens it with xdg-open; "Don't warn about APP again" records APP in the settings. Only the
 * notification shown last has live actions. */
#pragma once

#include "notify-settings.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct NotifyActions NotifyActions;

NotifyActions *notify_actions_new (GDBusConnection *session, NotifySettings *settings);
void notify_actions_free (NotifyActions *actions);

/* The actions of the notification about to be shown, as Notify's "as". IGNORE_KEY: the app it
 * is about (NULL: several or none), IGNORE_NAME its name in words. */
GVariant *notify_actions_offer (NotifyActions *actions, const char *details,
                                const char *ignore_key, const char *ignore_name);
void notify_actions_shown (NotifyActions *actions, guint32 id);

G_END_DECLS
