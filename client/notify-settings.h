/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomwatch-notify's settings, kept in $XDG_CONFIG_HOME/oomwatch/notify.conf: the apps the user
 * asked not to be warned about again. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct NotifySettings NotifySettings;

NotifySettings *notify_settings_load (void);
void notify_settings_free (NotifySettings *settings);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NotifySettings, notify_settings_free)

gboolean notify_settings_ignores (NotifySettings *settings, const char *app);
gboolean notify_settings_ignore (NotifySettings *settings, const char *app, GError **error);

G_END_DECLS
