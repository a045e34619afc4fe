/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-watch.h"
#include "ow-str-intern.h"
#include "ow-str-hash.h"

OwWatch *
ow_watch_new (const char *cgroup)
{
  OwWatch *watch = g_new0 (OwWatch, 1);

  /* one copy of the name for the watch, its source, counters and watchers */
  watch->cgroup = ow_str_intern (cgroup);
  /* bus names, each held once for all the watches of a client */
  watch->watchers = g_hash_table_new_full (ow_str_hash, g_str_equal,
                                           (GDestroyNotify)g_ref_string_release, NULL);
  watch->since = g_get_real_time ();
  return watch;
}

void
ow_watch_free (OwWatch *watch)
{
  if (watch == NULL)
    return;
  g_clear_pointer (&watch->source, ow_source_free);
  g_hash_table_unref (watch->watchers);
  g_ref_string_release (watch->cgroup);
  oomwatch_unit_info_free (watch->units);
  oomwatch_container_info_free (watch->container);
  g_free (watch->ledger);
  g_free (watch);
}

/* Parsed on first use; they take the container over. */
OomwatchUnitInfo *
ow_watch_units (OwWatch *watch)
{
  if (watch->units == NULL)
    {
      watch->units = oomwatch_unit_info_new (watch->cgroup);
      watch->units->container = g_steal_pointer (&watch->container);
    }
  return watch->units;
}

/* The container of the watch's cgroup (NULL: none known); still the watch's. */
OomwatchContainerInfo *
ow_watch_container (OwWatch *watch)
{
  return watch->units != NULL ? watch->units->container : watch->container;
}

OomwatchContainerInfo *
ow_watch_steal_container (OwWatch *watch)
{
  OomwatchContainerInfo **held = watch->units != NULL ? &watch->units->container : &watch->container;

  return g_steal_pointer (held);
}

/* Made on first use: most watches are never a watched cgroup's parent. */
OwChildLedger *
ow_watch_ledger (OwWatch *watch)
{
  if (watch->ledger == NULL)
    watch->ledger = g_new0 (OwChildLedger, 1);
  return watch->ledger;
}

void
ow_watch_count (OwWatch *watch, const OwEvent *event)
{
  if (event->kind == OW_EVENT_OOM)
    watch->oom_count += event->count;
  else if (event->kind == OW_EVENT_OOM_KILL)
    watch->oom_kill_count += event->count;
}
