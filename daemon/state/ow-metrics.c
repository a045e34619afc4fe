/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-metrics.h"
#include "ow-state-file.h"
#include "oomwatch-unit.h"

static const struct
{
  const char *name; /* the family; samples add _total */
  const char *help;
} families[OW_N_COUNTERS] = {
  [OW_COUNTER_OOM]
  = { "oomwatch_ooms", "OOM events (the cgroup entered OOM handling) reported by oomwatchd." },
  [OW_COUNTER_OOM_KILL]
  = { "oomwatch_oom_kills", "Processes OOM-killed in the cgroup or below it, reported by "
                            "oomwatchd." },
  [OW_COUNTER_OOM_GROUP_KILL]
  = { "oomwatch_oom_group_kills", "Whole-cgroup OOM kills (memory.oom.group) reported by "
                                  "oomwatchd." },
};

char *
ow_metrics_unit_of (const char *cgroup)
{
  g_autoptr (OomwatchUnitInfo) info = oomwatch_unit_info_new (cgroup);

  return g_strdup (info != NULL && info->unit != NULL ? info->unit : "");
}

/* Label values escape backslash, double quote and newline; the rest is UTF-8 as is. Cgroup
 * names need not be UTF-8: invalid bytes become U+FFFD. */
static void
append_label (GString *out, const char *name, const char *value)
{
  g_autofree char *valid = g_utf8_make_valid (value, -1);

  g_string_append_printf (out, "%s=\"", name);
  for (const char *p = valid; *p != '\0'; p++)
    {
      if (*p == '\\' || *p == '"')
        g_string_append_c (out, '\\');
      if (*p == '\n')
        g_string_append (out, "\\n");
      else
        g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

/* Kubernetes' label names, as kube-state-metrics and cAdvisor spell them. */
static void
append_container_labels (GString *out, const OomwatchContainerInfo *container)
{
  const struct
  {
    const char *label, *value;
  } labels[] = {
    { "namespace", container != NULL ? container->pod_namespace : NULL },
    { "pod", container != NULL ? container->pod_name : NULL },
    { "container", container != NULL ? container->container_name : NULL },
    { "container_id", container != NULL ? container->container_id : NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (labels); i++)
    if (labels[i].value != NULL)
      {
        g_string_append_c (out, ',');
        append_label (out, labels[i].label, labels[i].value);
      }
}

char *
ow_metrics_render (const OwMetricsRow *rows, guint n_rows, guint watches, OwMetricsFormat format)
{
  GString *out = g_string_new (NULL);
  gboolean open_metrics = format == OW_METRICS_OPENMETRICS;

  for (guint c = 0; c < OW_N_COUNTERS; c++)
    {
      /* OpenMetrics names the family without the suffix; the 0.0.4 format names the sample. */
      const char *suffix = open_metrics ? "" : "_total";

      g_string_append_printf (out, "# HELP %s%s %s\n", families[c].name, suffix, families[c].help);
      g_string_append_printf (out, "# TYPE %s%s counter\n", families[c].name, suffix);
      for (guint i = 0; i < n_rows; i++)
        {
          g_autofree char *unit = ow_metrics_unit_of (rows[i].cgroup);

          g_string_append_printf (out, "%s_total{", families[c].name);
          append_label (out, "cgroup", rows[i].cgroup);
          g_string_append_c (out, ',');
          append_label (out, "unit", unit);
          append_container_labels (out, rows[i].container);
          g_string_append_printf (out, "} %" G_GUINT64_FORMAT "\n", rows[i].reported[c]);
        }
    }
  g_string_append (out, "# HELP oomwatch_watches Cgroups oomwatchd watches.\n"
                        "# TYPE oomwatch_watches gauge\n");
  g_string_append_printf (out, "oomwatch_watches %u\n", watches);
  if (open_metrics)
    g_string_append (out, "# EOF\n");
  return g_string_free (out, FALSE);
}

gboolean
ow_metrics_write (const char *path, const char *text, GError **error)
{
  /* A temporary file beside PATH, renamed over it; the collector skips files that do not
   * end in .prom, so it never reads the temporary one. */
  return ow_state_file_replace (path, text, -1, 0644, error);
}
