#include "oomctl-format.h"
#include "oomwatch-names.h"

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
    {
      GVariantIter iter;
      const char *key;
      GVariant *item;
      gboolean first = TRUE;

      g_string_append_c (out, '{');
      g_variant_iter_init (&iter, value);
      while (g_variant_iter_next (&iter, "{&sv}", &key, &item))
        {
          if (!first)
            g_string_append_c (out, ',');
          first = FALSE;
          oomctl_json_append_string (out, key);
          g_string_append_c (out, ':');
          oomctl_json_append_value (out, item);
          g_variant_unref (item);
        }
      g_string_append_c (out, '}');
    }
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
append_detail_human (GString *out, const char *key, GVariant *value)
{
  g_string_append_printf (out, " %s=", key);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    g_string_append (out, g_variant_get_boolean (value) ? "yes" : "no");
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    {
      g_autofree char *escaped = g_strescape (g_variant_get_string (value, NULL), NULL);

      g_string_append (out, escaped);
    }
  else
    {
      g_autofree char *text = g_variant_print (value, FALSE);

      g_string_append (out, text);
    }
}

static void
append_details_human (GString *out, GVariant *details)
{
  g_autoptr (GVariant) total = g_variant_lookup_value (details, OOMWATCH_KEY_TOTAL, NULL);
  GVariantIter iter;
  const char *key;
  GVariant *value;

  if (total != NULL)
    append_detail_human (out, OOMWATCH_KEY_TOTAL, total);
  g_variant_iter_init (&iter, details);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      if (g_strcmp0 (key, OOMWATCH_KEY_TIMESTAMP) != 0 && g_strcmp0 (key, OOMWATCH_KEY_HIERARCHY) != 0
          && g_strcmp0 (key, OOMWATCH_KEY_TOTAL) != 0)
        append_detail_human (out, key, value);
      g_variant_unref (value);
    }
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
oomctl_format_watch_removed (gboolean json, const char *cgroup, const char *reason)
{
  GString *out = start_line (json, g_get_real_time (), "WatchRemoved", cgroup);

  if (!json)
    {
      g_string_append_printf (out, " removed reason=%s", reason);
      return g_string_free (out, FALSE);
    }
  g_string_append (out, ",\"reason\":");
  oomctl_json_append_string (out, reason);
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}
