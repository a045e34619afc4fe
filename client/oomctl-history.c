/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomctl history / oomctl metrics */
#include "oomctl-history.h"
#include "oomctl-commands.h"
#include "oomctl-common.h"
#include "oomctl-format.h"
#include "oomwatch-names.h"

#include <stdio.h>
#include <string.h>

static gboolean
parse_span (const char *text, guint64 *usec)
{
  static const struct
  {
    const char *suffix;
    guint64 seconds;
  } units[] = { { "s", 1 }, { "m", 60 }, { "min", 60 }, { "h", 3600 }, { "d", 86400 } };
  char *end;
  guint64 n;

  if (!g_ascii_isdigit (text[0]))
    return FALSE;
  n = g_ascii_strtoull (text, &end, 10);
  for (gsize i = 0; i < G_N_ELEMENTS (units); i++)
    if (strcmp (end, units[i].suffix) == 0 && n < G_MAXUINT64 / G_USEC_PER_SEC / units[i].seconds)
      {
        *usec = n * units[i].seconds * G_USEC_PER_SEC;
        return TRUE;
      }
  return FALSE;
}

gboolean
oomctl_parse_since (const char *text, OomctlSince *since, GError **error)
{
  g_autoptr (GTimeZone) local = g_time_zone_new_local ();
  g_autoptr (GDateTime) when = NULL;
  g_autofree char *iso = g_strdelimit (g_strdup (text), " ", 'T');
  guint64 span;

  memset (since, 0, sizeof *since);
  if (g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &since->after, NULL))
    return TRUE;
  if (parse_span (text, &span))
    {
      gint64 now = g_get_real_time ();

      since->time = (guint64)now > span ? (guint64)now - span : 1;
      return TRUE;
    }
  when = g_date_time_new_from_iso8601 (iso, local);
  if (when == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--since '%s': neither a seq number, nor a time like 2026-11-28T12:00:00Z, nor "
                   "a span like 10m",
                   text);
      return FALSE;
    }
  since->time = (guint64)MAX (
      g_date_time_to_unix (when) * G_USEC_PER_SEC + g_date_time_get_microsecond (when), 1);
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
                   int *argc, char ***argv, int *status)
{
  g_autoptr (GError) error = NULL;
  OomwatchManager *manager;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context, summary);
  *status = oomctl_parse_options (context, argc, argv);
  if (*status != OOMCTL_EXIT_OK)
    return NULL;
  if (*argc > 1)
    {
      g_printerr ("oomctl: unexpected argument '%s'\n", (*argv)[1]);
      *status = OOMCTL_EXIT_USAGE;
      return NULL;
    }
  manager = oomctl_manager_new (&error);
  if (manager == NULL)
    *status = oomctl_fail ("cannot reach oomwatchd", error);
  return manager;
}

int
oomctl_history (int argc, char **argv)
{
  g_autofree char *since_text = NULL;
  g_autofree char *pod = NULL;
  g_autofree char *container = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[]
      = { { "since", 's', 0, G_OPTION_ARG_STRING, &since_text,
            "Only signals after this seq number, or since this time (ISO 8601, or 10m, 2h … ago)",
            "SEQ|TIME" },
          { "pod", 0, 0, G_OPTION_ARG_STRING, &pod,
            "Only the events of this Kubernetes pod (NAMESPACE/NAME, NAME, or its UID)", "POD" },
          { "container", 0, 0, G_OPTION_ARG_STRING, &container,
            "Only the events of containers of this name", "NAME" },
          { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print JSON Lines", NULL },
          { NULL } };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (OomwatchManager) manager = NULL;
  g_autoptr (GVariant) events = NULL;
  g_autoptr (GVariant) info = NULL;
  g_autoptr (GError) error = NULL;
  OomctlSince since = { 0 };
  guint64 oldest = 0;
  int status;

  manager = parse_and_connect (context, entries,
                               "Print the signals oomwatchd sent recently that this user may see, "
                               "oldest first.",
                               &argc, &argv, &status);
  if (manager == NULL)
    return status;
  if (since_text != NULL && !oomctl_parse_since (since_text, &since, &error))
    {
      g_printerr ("oomctl: %s\n", error->message);
      return OOMCTL_EXIT_USAGE;
    }
  events = oomctl_history_call (manager, &since, &info, &error);
  if (events == NULL)
    return oomctl_fail ("History", error);
  for (gsize i = 0; i < g_variant_n_children (events); i++)
    {
      g_autoptr (GVariant) entry = g_variant_get_child_value (events, i);
      g_autofree char *line = NULL;

      if (!entry_matches (entry, pod, container))
        continue;
      line = oomctl_format_history_entry (json, entry);
      g_print ("%s\n", line);
    }
  g_variant_lookup (info, "oldest-seq", "t", &oldest);
  if (since.after > 0 && oldest > since.after + 1)
    g_printerr ("oomctl: oomwatchd no longer keeps signals %" G_GUINT64_FORMAT
                " to %" G_GUINT64_FORMAT
                ", if any were sent (it keeps the last HistorySize, none from before its last "
                "start)\n",
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
                               &argc, &argv, &status);
  if (manager == NULL)
    return status;
  g_variant_dict_insert (&options, "format", "s", openmetrics ? "openmetrics" : "prometheus");
  if (!oomwatch_manager_call_metrics_sync (manager, g_variant_dict_end (&options),
                                           G_DBUS_CALL_FLAGS_NONE, -1, &text, NULL, &error))
    return oomctl_fail ("Metrics", error);
  fputs (text, stdout);
  return OOMCTL_EXIT_OK;
}
