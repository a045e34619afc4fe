/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomwatch-notify: who was stopped, in words a user knows. An event's app-id leads to the
 * desktop entry (GIO searches the XDG data dirs, Flatpak's exports included) for its name and
 * icon; without one, the unit, then the process name. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *name;       /* "Text Editor", a container, a unit, or a process name; never NULL */
  char *icon;       /* an icon name or a file:// URI; NULL: none of its own */
  char *desktop_id; /* the desktop entry's id without ".desktop"; NULL: none found */
  char *key;        /* what "Don't warn about it again" records: app-id, else the name */
} NotifyApp;

NotifyApp *notify_app_resolve (GVariant *details);
void notify_app_free (NotifyApp *app);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NotifyApp, notify_app_free)

gboolean notify_app_same (const NotifyApp *a, const NotifyApp *b);
const char *notify_app_reason_text (const char *reason);
const char *notify_app_key (const NotifyApp *app);
char *notify_app_describe_kill (const NotifyApp *app, const char *cgroup, const char *kind,
                                guint64 count, GVariant *details);
char *notify_app_describe_summary (const NotifyApp *app, const char *kind, GVariant *details);
void notify_app_append_details (GString *text, const NotifyApp *app, const char *cgroup,
                                const char *kind, const char *line, GVariant *details);

G_END_DECLS
