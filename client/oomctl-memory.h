/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The memory keys of an OomEvent, as people read them: "rss=612M limit=512M peak=540M". */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Whether KEY is a memory key (the sizes in bytes, oom-score-adj) printed by
 * oomctl_memory_append_human. */
gboolean oomctl_memory_is_key (const char *key);
/* The victim's resident memory (anon + file + shmem); FALSE when the signal does not say. */
gboolean oomctl_memory_rss (GVariant *details, guint64 *bytes);
/* 612M, 1.9G, 800K */
char *oomctl_memory_format_size (guint64 bytes);
/* " rss=… limit=… peak=… usage=… swap=… oom-score-adj=…", each where DETAILS has it. */
void oomctl_memory_append_human (GString *out, GVariant *details);

G_END_DECLS
