/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Watch()'s options: recursive (ow-manager.c), pressure and events (ow-pressure-level.c). */
#pragma once

#include "ow-pressure-level.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  char *cgroup;
  gboolean recursive;
  OwWatchAsk ask; /* pressure, events (ow-pressure-level.c) */
} OwWatchRequest;

void ow_watch_request_free (gpointer data);
/* Fills REQUEST from OPTIONS (a{sv}); HIERARCHY is the cgroup version (1 or 2). Errors are
 * G_DBUS_ERROR_INVALID_ARGS. */
gboolean ow_watch_request_parse (GVariant *options, guint hierarchy, OwWatchRequest *request,
                                 GError **error);

G_END_DECLS
