/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Interned strings (GRefString) for cgroup names. A watch's name is interned by several
 * modules in a row (watch, source, removal monitor, charge); GLib's table hashes the whole path
 * a byte at a time for each. This remembers the last string interned, so that the next
 * modules asking for the same name take a reference to it instead. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* As g_ref_string_new_intern (S): the interned string equal to S, a new reference. */
GRefString *ow_str_intern (const char *s);

G_END_DECLS
