/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Memory pressure levels as GLib's GMemoryMonitor names them, and what a watcher asks for
 * besides OOM events: a pressure level and, on cgroup v2, memory.events high/max rises. */
#pragma once

#include "ow-event.h"

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  OW_PRESSURE_NONE,
  OW_PRESSURE_LOW,
  OW_PRESSURE_MEDIUM,
  OW_PRESSURE_CRITICAL,
} OwPressureLevel;

#define OW_PRESSURE_N_LEVELS 3

/* The opt-in kinds a watcher asked for (ow-event.h), as a mask of OW_EVENT_KIND_BIT. */
#define OW_WATCH_EVENT_HIGH OW_EVENT_KIND_BIT (OW_EVENT_HIGH)
#define OW_WATCH_EVENT_MAX OW_EVENT_KIND_BIT (OW_EVENT_MAX)

typedef struct
{
  OwPressureLevel pressure;
  guint events; /* OW_EVENT_KIND_BIT of opt-in kinds */
} OwWatchAsk;

const char *ow_pressure_level_to_string (OwPressureLevel level);
/* GMemoryMonitorWarningLevel: 50, 100, 255. */
guint ow_pressure_level_value (OwPressureLevel level);

/* Parses the Watch options "pressure" (s) and "events" (as); FALSE with InvalidArgs naming
 * the allowed values. Any other KEY is an unknown option. */
gboolean ow_watch_ask_parse_option (OwWatchAsk *ask, const char *key, GVariant *value,
                                    guint hierarchy, GError **error);
/* The strongest of two asks: the lower pressure level, every event of either. */
void ow_watch_ask_merge (OwWatchAsk *into, const OwWatchAsk *other);
/* Packed into a pointer (never NULL) for hash tables, and back. */
gpointer ow_watch_ask_pack (const OwWatchAsk *ask);
void ow_watch_ask_unpack (gpointer packed, OwWatchAsk *ask);

G_END_DECLS
