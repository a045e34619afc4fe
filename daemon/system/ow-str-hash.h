/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's string hash for GHashTable: cgroup paths, its most common keys, run to a
 * hundred bytes and every watch hashes its own in several tables; g_str_hash takes them a byte
 * at a time, this eight. Equality stays g_str_equal. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

guint ow_str_hash (gconstpointer key);

G_END_DECLS
