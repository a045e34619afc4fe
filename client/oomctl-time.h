/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Times as journalctl takes them (--since, --until). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A span: "90s", "10min", "1h 30min", "2d", "1w"; a bare number counts seconds. */
gboolean oomctl_parse_timespan (const char *text, guint64 *usec);

/* now, today, yesterday, tomorrow, +SPAN, -SPAN, "SPAN ago", "SPAN left", @SECONDS,
 * 2026-12-04, 2026-12-04 10:00[:00[.frac]] (also with T, Z, an offset or " UTC"), 10:00[:00]
 * (today). Relative to NOW (microseconds since the epoch) in time zone ZONE. */
gboolean oomctl_parse_time (const char *text, gint64 now, GTimeZone *zone, gint64 *usec,
                            GError **error);

G_END_DECLS
