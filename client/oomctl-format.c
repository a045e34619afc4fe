/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "oomctl-format.h"
#include "oomctl-memory.h"
#include "oomwatch-names.h"

#include <string.h>

/* 2026-11-28T09:10:11.123456+00:00, in local time */
char *
oomctl_format_time (gint64 usec)
{
  g_autoptr (GDateTime) seconds = g_date_time_new_from_unix_local (usec / G_USEC_PER_SEC);
  g_autoptr (GDateTime) exact = NULL;
  g_autofree char *date = NULL;
  g_autofree char *zone = NULL;

  if (seconds == NULL)
    return g_strdup ("?");
  exact = g_date_time_add (seconds, usec % G_USEC_PER_SEC);
  date = g_date_time_format (exact, "%Y-%m-%dT%H:%M:%S");
  zone = g_date_time_format (exact, "%:z");
  return g_strdup_printf ("%s.%06d%s", date, g_date_time_get_microsecond (exact), zone);
}

void
oomctl_json_append_string (GString *out, const char *text)
{
  g_string_append_c (out, '"');
  for (const unsigned char *p = (const unsigned char *) text; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_printf (out, "\\%c", *p);
      else if (*p < 0x20 || *p == 0x7f)
        g_string_append_printf (out, "\\u%04x", *p);
      else
        g_string_append_c (out, (char) *p);
    }
  g_string_append_c (out, '"');
}

static int
compare_keys (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Keys sorted, so that every line has them in the same order; times (microseconds since the
 * epoch on the bus) as ISO 8601, as everywhere in oomctl's JSON. */
static void
append_json_dict (GString *out, GVariant *dict)
{
  static const char *const time_keys[] = { OOMWATCH_KEY_TIMESTAMP, OOMWATCH_KEY_SINCE, NULL };
  g_autoptr (GPtrArray) keys = g_ptr_array_new ();
  GVariantIter iter;
  const char *key;

  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_next (&iter, "{&sv}", &key, NULL))
    g_ptr_array_add (keys, (gpointer) key);
  g_ptr_array_sort (keys, compare_keys);
  g_string_append_c (out, '{');
  for (guint i = 0; i < keys->len; i++)
    {
      g_autoptr (GVariant) item = NULL;

      key = g_ptr_array_index (keys, i);
      item = g_variant_lookup_value (dict, key, NULL);
      if (i > 0)
        g_string_append_c (out, ',');
      oomctl_json_append_string (out, key);
      g_string_append_c (out, ':');
      if (g_strv_contains (time_keys, key) && g_variant_is_of_type (item, G_VARIANT_TYPE_UINT64))
        {
          g_autofree char *time = oomctl_format_time ((gint64) g_variant_get_uint64 (item));

          oomctl_json_append_string (out, time);
        }
      else
        oomctl_json_append_value (out, item);
    }
  g_string_append_c (out, '}');
}

/* The few GVariant types the API uses; anything else becomes its text form. */
void
oomctl_json_append_value (GString *out, GVariant *value)
{
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr (GVariant) inner = g_variant_get_variant (value);

      oomctl_json_append_value (out, inner);
    }
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    g_string_append (out, g_variant_get_boolean (value) ? "true" : "false");
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    g_string_append_printf (out, "%" G_GUINT64_FORMAT, g_variant_get_uint64 (value));
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    g_string_append_printf (out, "%u", g_variant_get_uint32 (value));
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
    g_string_append_printf (out, "%" G_GINT64_FORMAT, g_variant_get_int64 (value));
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT32))
    g_string_append_printf (out, "%d", g_variant_get_int32 (value));
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    oomctl_json_append_string (out, g_variant_get_string (value, NULL));
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_DOUBLE))
    {
      char number[G_ASCII_DTOSTR_BUF_SIZE];

      g_string_append (out, g_ascii_dtostr (number, sizeof number, g_variant_get_double (value)));
    }
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY))
    {
      g_autofree const char **items = g_variant_get_strv (value, NULL);

      g_string_append_c (out, '[');
      for (gsize i = 0; items[i] != NULL; i++)
        {
          if (i > 0)
            g_string_append_c (out, ',');
          oomctl_json_append_string (out, items[i]);
        }
      g_string_append_c (out, ']');
    }
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARDICT))
    append_json_dict (out, value);
  else
    {
      g_autofree char *text = g_variant_print (value, FALSE);

      oomctl_json_append_string (out, text);
    }
}

static gint64
details_timestamp (GVariant *details)
{
  guint64 timestamp;

  if (details != NULL && g_variant_lookup (details, OOMWATCH_KEY_TIMESTAMP, "t", &timestamp))
    return (gint64) timestamp;
  return g_get_real_time ();
}

static void
append_string_human (GString *out, const char *key, const char *value)
{
  g_autofree char *escaped = g_strescape (value, NULL);

  g_string_append_printf (out, " %s=%s", key, escaped);
}

static void
append_detail_human (GString *out, const char *key, GVariant *value)
{
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    {
      append_string_human (out, key, g_variant_get_string (value, NULL));
      return;
    }
  g_string_append_printf (out, " %s=", key);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    g_string_append (out, g_variant_get_boolean (value) ? "yes" : "no");
  else
    {
      g_autofree char *text = g_variant_print (value, FALSE);

      g_string_append (out, text);
    }
}

/* Keys printed in a fixed place: these first, then the memory (oomctl-memory.c), then the
 * rest as they come, then LAST_KEYS
 * (seq last on the line, where it is easy to pick for --since). */
static const char *const first_keys[]
    = { OOMWATCH_KEY_TOTAL, OOMWATCH_KEY_REASON,      OOMWATCH_KEY_PID,        OOMWATCH_KEY_COMM,
        OOMWATCH_KEY_UID,   OOMWATCH_KEY_TASK_CGROUP, OOMWATCH_KEY_OOM_CGROUP, NULL };
static const char *const last_keys[] = { OOMWATCH_KEY_UNIT, OOMWATCH_KEY_SLICE,
                                         OOMWATCH_KEY_USER_UNIT, OOMWATCH_KEY_APP_ID,
                                         OOMWATCH_KEY_SEQ, NULL };

static void
append_keys_human (GString *out, GVariant *details, const char *const *keys)
{
  for (gsize i = 0; keys[i] != NULL; i++)
    {
      g_autoptr (GVariant) value = g_variant_lookup_value (details, keys[i], NULL);

      if (value != NULL)
        append_detail_human (out, keys[i], value);
    }
}

/* History entries: seq last on the line, as on live signals. */
static void
append_seq_human (GString *out, GVariant *details)
{
  guint64 seq;

  if (details != NULL && g_variant_lookup (details, OOMWATCH_KEY_SEQ, "t", &seq))
    g_string_append_printf (out, " seq=%" G_GUINT64_FORMAT, seq);
}

/* The container's keys, shown as pod=NAMESPACE/NAME container=NAME where the names are known,
 * else by the pod's UID and the container's id; JSON carries them all. */
static const char *const container_keys[] = {
  OOMWATCH_KEY_POD_NAMESPACE, OOMWATCH_KEY_POD_NAME,       OOMWATCH_KEY_POD_UID,
  OOMWATCH_KEY_POD_QOS,       OOMWATCH_KEY_CONTAINER_NAME, OOMWATCH_KEY_CONTAINER_ID,
  OOMWATCH_KEY_CONTAINER_RUNTIME, NULL
};

static void
append_container_human (GString *out, GVariant *details)
{
  const char *ns = NULL, *pod = NULL, *uid = NULL, *name = NULL, *id = NULL;
  g_autofree char *shown = NULL;

  g_variant_lookup (details, OOMWATCH_KEY_POD_NAMESPACE, "&s", &ns);
  g_variant_lookup (details, OOMWATCH_KEY_POD_NAME, "&s", &pod);
  g_variant_lookup (details, OOMWATCH_KEY_POD_UID, "&s", &uid);
  g_variant_lookup (details, OOMWATCH_KEY_CONTAINER_NAME, "&s", &name);
  g_variant_lookup (details, OOMWATCH_KEY_CONTAINER_ID, "&s", &id);
  if (ns != NULL && pod != NULL)
    shown = g_strdup_printf ("%s/%s", ns, pod);
  if (shown != NULL || uid != NULL)
    append_string_human (out, "pod", shown != NULL ? shown : uid);
  if (name != NULL || id != NULL)
    append_string_human (out, "container", name != NULL ? name : id);
}

static void
append_details_human (GString *out, GVariant *details)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  append_keys_human (out, details, first_keys);
  oomctl_memory_append_human (out, details);
  g_variant_iter_init (&iter, details);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      if (g_strcmp0 (key, OOMWATCH_KEY_TIMESTAMP) != 0 && g_strcmp0 (key, OOMWATCH_KEY_HIERARCHY) != 0
          && !g_strv_contains (first_keys, key) && !g_strv_contains (last_keys, key)
          && !g_strv_contains (container_keys, key) && !oomctl_memory_is_key (key))
        append_detail_human (out, key, value);
      g_variant_unref (value);
    }
  append_container_human (out, details);
  append_keys_human (out, details, last_keys);
}

static GString *
start_line (gboolean json, gint64 usec, const char *signal, const char *cgroup)
{
  g_autofree char *time = oomctl_format_time (usec);
  GString *out = g_string_new (NULL);

  if (!json)
    {
      g_string_append_printf (out, "%s %s", time, cgroup);
      return out;
    }
  g_string_append (out, "{\"time\":");
  oomctl_json_append_string (out, time);
  g_string_append (out, ",\"signal\":");
  oomctl_json_append_string (out, signal);
  g_string_append (out, ",\"cgroup\":");
  oomctl_json_append_string (out, cgroup);
  return out;
}

char *
oomctl_format_oom_event (gboolean json, const char *cgroup, const char *kind, guint64 count,
                         GVariant *details)
{
  GString *out = start_line (json, details_timestamp (details), "OomEvent", cgroup);

  if (!json)
    {
      g_string_append_printf (out, " %s count=%" G_GUINT64_FORMAT, kind, count);
      append_details_human (out, details);
      return g_string_free (out, FALSE);
    }
  g_string_append (out, ",\"kind\":");
  oomctl_json_append_string (out, kind);
  g_string_append_printf (out, ",\"count\":%" G_GUINT64_FORMAT ",\"details\":", count);
  oomctl_json_append_value (out, details);
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}

char *
oomctl_format_memory_pressure (gboolean json, const char *cgroup, const char *level,
                               GVariant *details)
{
  GString *out = start_line (json, details_timestamp (details), "MemoryPressure", cgroup);

  if (!json)
    {
      g_string_append_printf (out, " pressure %s", level);
      append_details_human (out, details);
      return g_string_free (out, FALSE);
    }
  g_string_append (out, ",\"level\":");
  oomctl_json_append_string (out, level);
  g_string_append (out, ",\"details\":");
  oomctl_json_append_value (out, details);
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}

char *
oomctl_format_watch_removed (gboolean json, const char *cgroup, const char *reason,
                             GVariant *details)
{
  GString *out = start_line (json, details_timestamp (details), "WatchRemoved", cgroup);

  if (!json)
    {
      g_string_append_printf (out, " removed reason=%s", reason);
      append_seq_human (out, details);
      return g_string_free (out, FALSE);
    }
  g_string_append (out, ",\"reason\":");
  oomctl_json_append_string (out, reason);
  if (details != NULL)
    {
      g_string_append (out, ",\"details\":");
      oomctl_json_append_value (out, details);
    }
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}

/* One entry of History(): printed as the signal it stands for was. */
char *
oomctl_format_history_entry (gboolean json, GVariant *entry)
{
  const char *signal = "", *cgroup = "", *kind = "", *reason = "";
  g_autoptr (GVariant) details = NULL;
  guint64 count = 0;

  g_variant_lookup (entry, "signal", "&s", &signal);
  g_variant_lookup (entry, "cgroup", "&s", &cgroup);
  g_variant_lookup (entry, "details", "@a{sv}", &details);
  if (details == NULL)
    details = g_variant_ref_sink (g_variant_new ("a{sv}", NULL));
  if (!g_variant_lookup (details, OOMWATCH_KEY_TIMESTAMP, "t", NULL))
    {
      g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (details);
      guint64 time = 0;

      /* A daemon that did not stamp its details: the time it kept the entry. */
      g_variant_lookup (entry, "time", "t", &time);
      g_variant_dict_insert (&dict, OOMWATCH_KEY_TIMESTAMP, "t", time);
      g_variant_unref (details);
      details = g_variant_ref_sink (g_variant_dict_end (&dict));
    }
  if (g_strcmp0 (signal, "WatchRemoved") == 0)
    {
      g_variant_lookup (entry, "reason", "&s", &reason);
      return oomctl_format_watch_removed (json, cgroup, reason, details);
    }
  g_variant_lookup (entry, "kind", "&s", &kind);
  g_variant_lookup (entry, "count", "t", &count);
  return oomctl_format_oom_event (json, cgroup, kind, count, details);
}
