/* SPDX-License-Identifier: GPL-2.0-or-later */
/* How oomctl prints signals and watches: one human line, or one JSON object per line. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *oomctl_format_time (gint64 usec);
void oomctl_json_append_string (GString *out, const char *text);
void oomctl_json_append_value (GString *out, GVariant *value);

char *oomctl_format_oom_event (gboolean json, const char *cgroup, const char *kind, guint64 count,
                               GVariant *details);
char *oomctl_format_memory_pressure (gboolean json, const char *cgroup, const char *level,
                                     GVariant *details);
char *oomctl_format_watch_removed (gboolean json, const char *cgroup, const char *reason,
                                   GVariant *details);
char *oomctl_format_history_entry (gboolean json, GVariant *entry);

G_END_DECLS
