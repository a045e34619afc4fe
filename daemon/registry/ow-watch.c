/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-watch.h"
#include "oomwatch-names.h"

OwWatch *
ow_watch_new (const char *cgroup)
{
  OwWatch *watch = g_new0 (OwWatch, 1);

  watch->cgroup = g_strdup (cgroup);
  watch->watchers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  watch->since = g_get_real_time ();
  watch->units = oomwatch_unit_info_new (cgroup);
  return watch;
}

void
ow_watch_free (OwWatch *watch)
{
  if (watch == NULL)
    return;
  g_clear_pointer (&watch->pressure, ow_pressure_free);
  g_clear_pointer (&watch->source, ow_source_free);
  g_hash_table_unref (watch->watchers);
  g_free (watch->cgroup);
  oomwatch_unit_info_free (watch->units);
  g_free (watch);
}

void
ow_watch_count (OwWatch *watch, const OwEvent *event)
{
  if (event->kind == OW_EVENT_OOM)
    watch->oom_count += event->count;
  else if (event->kind == OW_EVENT_OOM_KILL)
    watch->oom_kill_count += event->count;
}

/* One ListWatches entry: (sa{sv}) */
GVariant *
ow_watch_describe (OwWatch *watch, guint hierarchy, gboolean recursive_root, gboolean persistent,
                   const char *const *skipped)
{
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  g_variant_dict_insert (&dict, OOMWATCH_KEY_HIERARCHY, "u", hierarchy);
  g_variant_dict_insert (&dict, OOMWATCH_KEY_WATCHERS, "u", g_hash_table_size (watch->watchers));
  g_variant_dict_insert (&dict, OOMWATCH_KIND_OOM, "t", watch->oom_count);
  g_variant_dict_insert (&dict, OOMWATCH_KIND_OOM_KILL, "t", watch->oom_kill_count);
  g_variant_dict_insert (&dict, OOMWATCH_KEY_SINCE, "t", (guint64)watch->since);
  g_variant_dict_insert (&dict, OOMWATCH_KEY_RECURSIVE, "b", recursive_root);
  g_variant_dict_insert (&dict, OOMWATCH_KEY_PERSISTENT, "b", persistent);
  if (skipped != NULL && skipped[0] != NULL)
    g_variant_dict_insert (&dict, OOMWATCH_KEY_SKIPPED, "^as", skipped);
  if (watch->source != NULL)
    ow_source_describe (watch->source, &dict);
  ow_pressure_describe (watch->pressure, &dict);
  return g_variant_new ("(s@a{sv})", watch->cgroup, g_variant_dict_end (&dict));
}
