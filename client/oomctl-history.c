/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomctl history / oomctl metrics */
#include "oomctl-history.h"
#include "oomctl-commands.h"
#include "oomctl-common.h"
#include "oomctl-format.h"
#include "oomctl-output.h"
#include "oomctl-paths.h"
#include "oomctl-time.h"
#include "oomwatch-names.h"

#include <stdio.h>
#include <string.h>

gboolean
oomctl_parse_since (const char *text, OomctlSince *since, GError **error)
{
  g_autoptr (GTimeZone) local = g_time_zone_new_local ();
  gint64 now = g_get_real_time (), when;
  guint64 span;

  memset (since, 0, sizeof *since);
  if (g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &since->after, NULL))
    return TRUE;
  /* A bare span (10m) counts back from now, as "-10m" does. */
  if (g_ascii_isdigit (text[0]) && oomctl_parse_timespan (text, &span))
    when = (guint64) now > span ? now - (gint64) span : 1;
  else if (!oomctl_parse_time (text, now, local, &when, error))
    {
      g_prefix_error (error, "--since: ");
      return FALSE;
    }
  since->time = (guint64) MAX (when, 1);
  return TRUE;
}

GVariant *
oomctl_history_call (OomwatchManager *manager, const OomctlSince *since, GVariant **info,
                     GError **error)
{
  g_auto (GVariantDict) options = G_VARIANT_DICT_INIT (NULL);
  g_autoptr (GVariant) got_info = NULL;
  GVariant *events = NULL;

  if (since->time > 0)
    g_variant_dict_insert (&options, "since", "t", since->time);
  if (!oomwatch_manager_call_history_sync (manager, since->after, g_variant_dict_end (&options),
                                           G_DBUS_CALL_FLAGS_NONE, -1, &events, &got_info, NULL,
                                           error))
    return NULL;
  if (info != NULL)
    *info = g_steal_pointer (&got_info);
  return events;
}

/* --pod NAMESPACE/NAME (or NAME in any namespace, or the pod's UID) and --container NAME. */
static gboolean
entry_matches (GVariant *entry, const char *pod, const char *container)
{
  g_autoptr (GVariant) details = NULL;
  const char *ns = "", *name = "", *uid = "", *container_name = NULL;
  g_autofree char *full = NULL;

  if (pod == NULL && container == NULL)
    return TRUE;
  if (!g_variant_lookup (entry, "details", "@a{sv}", &details))
    return FALSE;
  g_variant_lookup (details, OOMWATCH_KEY_POD_NAMESPACE, "&s", &ns);
  g_variant_lookup (details, OOMWATCH_KEY_POD_NAME, "&s", &name);
  g_variant_lookup (details, OOMWATCH_KEY_POD_UID, "&s", &uid);
  g_variant_lookup (details, OOMWATCH_KEY_CONTAINER_NAME, "&s", &container_name);
  full = g_strdup_printf ("%s/%s", ns, name);
  if (pod != NULL && strcmp (pod, uid) != 0
      && (*name == '\0' || (strcmp (pod, full) != 0 && strcmp (pod, name) != 0)))
    return FALSE;
  return container == NULL || g_strcmp0 (container, container_name) == 0;
}

/* Options only, then the daemon: NULL with *STATUS set when either fails. */
static OomwatchManager *
parse_and_connect (GOptionContext *context, const GOptionEntry *entries, const char *summary,
                   gboolean arguments, int *argc, char ***argv, int *status)
{
  g_autoptr (GError) error = NULL;
  OomwatchManager *manager;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context, summary);
  *status = oomctl_parse_options (context, argc, argv);
  if (*status != OOMCTL_EXIT_OK)
    return NULL;
  if (*argc > 1 && !arguments)
    {
      *status = oomctl_usage_error ("unexpected argument '%s'", (*argv)[1]);
      return NULL;
    }
  manager = oomctl_manager_new (&error);
  if (manager == NULL)
    *status = oomctl_fail ("cannot reach oomwatchd", error);
  return manager;
}

/* What --kind takes: the OomEvent kinds and the WatchRemoved reason. */
static const char *const history_kinds[]
    = { OOMWATCH_KIND_OOM,       OOMWATCH_KIND_OOM_KILL, OOMWATCH_KIND_OOM_RECOVERED,
        OOMWATCH_KIND_OOM_GROUP_KILL, OOMWATCH_KIND_OOMD_KILL, OOMWATCH_KIND_HIGH,
        OOMWATCH_KIND_MAX,       OOMWATCH_KIND_LOW, OOMWATCH_REASON_CGROUP_REMOVED, NULL };

typedef struct
{
  GStrv cgroups; /* NULL: every cgroup */
  GStrv kinds;   /* NULL: every kind */
  gint64 until;  /* microseconds since the epoch; 0: no bound */
} HistoryFilter;

/* When the signal was sent: the timestamp it carried, as printed. */
static gint64
entry_time (GVariant *entry, GVariant *details)
{
  guint64 time = 0;

  if (details == NULL || !g_variant_lookup (details, OOMWATCH_KEY_TIMESTAMP, "t", &time))
    g_variant_lookup (entry, "time", "t", &time);
  return (gint64) time;
}

static gboolean
history_wanted (const HistoryFilter *filter, GVariant *entry)
{
  g_autoptr (GVariant) details = g_variant_lookup_value (entry, "details", G_VARIANT_TYPE_VARDICT);
  const char *cgroup = "", *kind = "";

  g_variant_lookup (entry, "cgroup", "&s", &cgroup);
  if (!g_variant_lookup (entry, "kind", "&s", &kind))
    g_variant_lookup (entry, "reason", "&s", &kind);
  return (filter->cgroups == NULL || g_strv_contains ((const char *const *) filter->cgroups, cgroup))
         && (filter->kinds == NULL || g_strv_contains ((const char *const *) filter->kinds, kind))
         && (filter->until == 0 || entry_time (entry, details) <= filter->until);
}

static int
parse_history_filter (const char *until_text, char **kinds, int lines, HistoryFilter *filter)
{
  g_autoptr (GTimeZone) local = g_time_zone_new_local ();
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; kinds != NULL && kinds[i] != NULL; i++)
    if (!g_strv_contains (history_kinds, kinds[i]))
      {
        g_autofree char *known = g_strjoinv (", ", (char **) history_kinds);

        return oomctl_usage_error ("--kind: '%s' is not one of %s", kinds[i], known);
      }
  if (lines < 0 && lines != G_MININT)
    return oomctl_usage_error ("--lines: %d is negative; give 0 or more (leave it out for all)",
                               lines);
  if (until_text != NULL
      && !oomctl_parse_time (until_text, g_get_real_time (), local, &filter->until, &error))
    return oomctl_usage_error ("--until: %s", error->message);
  filter->kinds = kinds;
  return OOMCTL_EXIT_OK;
}

int
oomctl_history (int argc, char **argv)
{
  g_autofree char *since_text = NULL;
  g_autofree char *until_text = NULL;
  g_auto (GStrv) kinds = NULL;
  g_auto (GStrv) cgroups = NULL;
  int lines = G_MININT;
  g_autofree char *pod = NULL;
  g_autofree char *container = NULL;
  const GOptionEntry entries[]
      = { { "since", 's', 0, G_OPTION_ARG_STRING, &since_text,
            "Only signals after this seq number, or at or after this time (journalctl's words: "
            "today, yesterday, -1h, '2026-12-04 10:00:00'; a bare span like 10m is that long ago)",
            "SEQ|TIME" },
          { "until", 'U', 0, G_OPTION_ARG_STRING, &until_text,
            "Only signals sent at or before this time (as --since)", "TIME" },
          { "kind", 'k', 0, G_OPTION_ARG_STRING_ARRAY, &kinds,
            "Only signals of this kind (oom, oom-kill, oomd-kill, cgroup-removed, …; repeatable)",
            "KIND" },
          { "lines", 'n', 0, G_OPTION_ARG_INT, &lines,
            "Only the newest N signals (after the other filters)", "N" },
          { "pod", 0, 0, G_OPTION_ARG_STRING, &pod,
            "Only the events of this Kubernetes pod (NAMESPACE/NAME, NAME, or its UID)", "POD" },
          { "container", 0, 0, G_OPTION_ARG_STRING, &container,
            "Only the events of containers of this name", "NAME" },
          { NULL } };
  g_autoptr (GOptionContext) context = g_option_context_new ("[CGROUP…]");
  g_autoptr (OomwatchManager) manager = NULL;
  g_autoptr (GVariant) events = NULL;
  g_autoptr (GVariant) info = NULL;
  g_autoptr (GPtrArray) picked = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_autoptr (GError) error = NULL;
  HistoryFilter filter = { 0 };
  OomctlSince since = { 0 };
  guint64 oldest = 0;
  int status;

  manager = parse_and_connect (context, entries,
                               "Print the signals oomwatchd sent recently that this user may see, "
                               "oldest first; with CGROUP…, only theirs.",
                               TRUE, &argc, &argv, &status);
  if (manager == NULL)
    return status;
  if (since_text != NULL && !oomctl_parse_since (since_text, &since, &error))
    return oomctl_usage_error ("%s", error->message);
  status = parse_history_filter (until_text, kinds, lines, &filter);
  if (status != OOMCTL_EXIT_OK)
    return status;
  if (argc > 1)
    {
      cgroups = oomctl_resolve_cgroups (manager, (const char *const *) argv + 1, &error);
      if (cgroups == NULL)
        return error->domain == G_IO_ERROR ? oomctl_usage_error ("%s", error->message)
                                           : oomctl_fail (NULL, error);
      filter.cgroups = cgroups;
    }
  events = oomctl_history_call (manager, &since, &info, &error);
  if (events == NULL)
    return oomctl_fail ("History", error);
  for (gsize i = 0; i < g_variant_n_children (events); i++)
    {
      GVariant *entry = g_variant_get_child_value (events, i);

      if (history_wanted (&filter, entry) && entry_matches (entry, pod, container))
        g_ptr_array_add (picked, entry);
      else
        g_variant_unref (entry);
    }
  oomctl_pager_open ();
  for (guint i = lines >= 0 && (guint) lines < picked->len ? picked->len - (guint) lines : 0;
       i < picked->len; i++)
    {
      GVariant *entry = g_ptr_array_index (picked, i);
      g_autofree char *line = oomctl_format_history_entry (oomctl_output_json (), entry);
      const char *kind = NULL;

      g_variant_lookup (entry, "kind", "&s", &kind);
      oomctl_output_line (line, kind);
    }
  g_variant_lookup (info, "oldest-seq", "t", &oldest);
  if (since.after > 0 && oldest > since.after + 1)
    oomctl_info ("oomctl: oomwatchd no longer keeps signals %" G_GUINT64_FORMAT
                 " to %" G_GUINT64_FORMAT
                 ", if any were sent (it keeps the last HistorySize, none from before its last "
                 "start)",
                 since.after + 1, oldest - 1);
  return OOMCTL_EXIT_OK;
}

int
oomctl_metrics (int argc, char **argv)
{
  gboolean openmetrics = FALSE;
  const GOptionEntry entries[]
      = { { "openmetrics", 0, 0, G_OPTION_ARG_NONE, &openmetrics,
            "OpenMetrics 1.0 text instead of the Prometheus text format", NULL },
          { NULL } };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (OomwatchManager) manager = NULL;
  g_auto (GVariantDict) options = G_VARIANT_DICT_INIT (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  int status;

  manager = parse_and_connect (context, entries,
                               "Print the OOM counters of every watched cgroup, as the daemon "
                               "writes them for Prometheus.",
                               FALSE, &argc, &argv, &status);
  if (manager == NULL)
    return status;
  if (oomctl_output_json ())
    return oomctl_usage_error ("metrics prints the Prometheus text format, not JSON");
  oomctl_pager_open ();
  g_variant_dict_insert (&options, "format", "s", openmetrics ? "openmetrics" : "prometheus");
  if (!oomwatch_manager_call_metrics_sync (manager, g_variant_dict_end (&options),
                                           G_DBUS_CALL_FLAGS_NONE, -1, &text, NULL, &error))
    return oomctl_fail ("Metrics", error);
  fputs (text, stdout);
  return OOMCTL_EXIT_OK;
}
