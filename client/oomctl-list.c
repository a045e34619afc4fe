/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomctl list: every watched cgroup, as a table or as JSON Lines. */
#include "oomctl-commands.h"
#include "oomctl-common.h"
#include "oomctl-format.h"
#include "oomctl-output.h"
#include "oomwatch-names.h"

#include <string.h>

static guint64
lookup_u64 (GVariant *dict, const char *key)
{
  guint64 value = 0;

  g_variant_lookup (dict, key, "t", &value);
  return value;
}

/* "low/3": the lowest level armed and the fds it costs; "-" when none. */
static char *
format_pressure (GVariant *dict)
{
  const char *level = NULL;
  guint32 fds = 0;

  if (!g_variant_lookup (dict, OOMWATCH_KEY_PRESSURE, "&s", &level))
    return g_strdup ("-");
  g_variant_lookup (dict, OOMWATCH_KEY_PRESSURE_FDS, "u", &fds);
  return g_strdup_printf ("%s/%u", level, fds);
}

static char *
format_watch_human (const char *cgroup, GVariant *dict, int width)
{
  guint32 hierarchy = 0, watchers = 0;
  gboolean under_oom = FALSE, recursive = FALSE;
  g_autofree char *since = NULL;
  g_autofree char *pressure = format_pressure (dict);

  g_variant_lookup (dict, OOMWATCH_KEY_HIERARCHY, "u", &hierarchy);
  g_variant_lookup (dict, OOMWATCH_KEY_WATCHERS, "u", &watchers);
  g_variant_lookup (dict, OOMWATCH_KEY_UNDER_OOM, "b", &under_oom);
  since = oomctl_format_time ((gint64) lookup_u64 (dict, OOMWATCH_KEY_SINCE));
  g_variant_lookup (dict, OOMWATCH_KEY_RECURSIVE, "b", &recursive);
  return g_strdup_printf ("%-*s v%-3u %8u %8" G_GUINT64_FORMAT " %8" G_GUINT64_FORMAT
                          " %-9s %-9s %-11s %s",
                          width, cgroup, hierarchy, watchers, lookup_u64 (dict, OOMWATCH_KIND_OOM),
                          lookup_u64 (dict, OOMWATCH_KIND_OOM_KILL), under_oom ? "yes" : "no",
                          recursive ? "yes" : "no", pressure, since);
}

static char *
format_watch_json (const char *cgroup, GVariant *dict)
{
  GString *out = g_string_new ("{\"cgroup\":");

  oomctl_json_append_string (out, cgroup);
  g_string_append (out, ",\"watch\":");
  oomctl_json_append_value (out, dict);
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}

int
oomctl_list (int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = { { NULL } };
  g_autoptr (OomwatchManager) manager = NULL;
  g_autoptr (GVariant) watches = NULL;
  g_autoptr (GError) error = NULL;
  GVariantIter iter;
  const char *cgroup;
  GVariant *dict;
  int status, width = (int) strlen ("CGROUP");

  status = oomctl_parse_no_arguments (&argc, &argv, entries, "List the watched cgroups.");
  if (status != OOMCTL_EXIT_OK)
    return status;
  manager = oomctl_manager_new (&error);
  if (manager == NULL || !oomwatch_manager_call_list_watches_sync (manager, G_DBUS_CALL_FLAGS_NONE, -1,
                                                                      &watches, NULL, &error))
    return oomctl_fail ("cannot list watches", error);
  json = oomctl_output_json ();
  oomctl_pager_open ();

  /* The first column is as wide as the longest cgroup, so the table stays aligned. */
  g_variant_iter_init (&iter, watches);
  while (g_variant_iter_next (&iter, "(&s@a{sv})", &cgroup, &dict))
    {
      width = MAX (width, (int) g_utf8_strlen (cgroup, -1));
      g_variant_unref (dict);
    }
  if (!json)
    {
      g_autofree char *legend
          = g_strdup_printf ("%-*s %-4s %8s %8s %8s %-9s %-9s %-11s %s", width, "CGROUP", "HIER",
                             "WATCHERS", "OOM", "OOM-KILL", "UNDER-OOM", "RECURSIVE",
                             "PRESSURE/FD", "SINCE");

      oomctl_output_legend (legend);
    }
  g_variant_iter_init (&iter, watches);
  while (g_variant_iter_next (&iter, "(&s@a{sv})", &cgroup, &dict))
    {
      g_autofree char *line = json ? format_watch_json (cgroup, dict)
                                   : format_watch_human (cgroup, dict, width);

      oomctl_output_line (line, NULL);
      g_variant_unref (dict);
    }
  if (!json && !oomctl_output.no_legend)
    g_print ("\n%zu watched cgroups listed.\n", g_variant_n_children (watches));
  return OOMCTL_EXIT_OK;
}
