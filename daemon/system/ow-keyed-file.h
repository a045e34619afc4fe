/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsing the "key value" lines of memory.oom_control (v1) and memory.events (v2). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean ow_keyed_file_lookup (const char *text, const char *key, guint64 *value);

G_END_DECLS
