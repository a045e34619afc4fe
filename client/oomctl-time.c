/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "oomctl-time.h"

#include <stdio.h>
#include <string.h>

static const struct
{
  const char *name;
  guint64 usec;
} units[] = {
  { "us", 1 },
  { "usec", 1 },
  { "ms", 1000 },
  { "msec", 1000 },
  { "s", G_TIME_SPAN_SECOND },
  { "sec", G_TIME_SPAN_SECOND },
  { "second", G_TIME_SPAN_SECOND },
  { "seconds", G_TIME_SPAN_SECOND },
  { "m", G_TIME_SPAN_MINUTE },
  { "min", G_TIME_SPAN_MINUTE },
  { "minute", G_TIME_SPAN_MINUTE },
  { "minutes", G_TIME_SPAN_MINUTE },
  { "h", G_TIME_SPAN_HOUR },
  { "hr", G_TIME_SPAN_HOUR },
  { "hour", G_TIME_SPAN_HOUR },
  { "hours", G_TIME_SPAN_HOUR },
  { "d", G_TIME_SPAN_DAY },
  { "day", G_TIME_SPAN_DAY },
  { "days", G_TIME_SPAN_DAY },
  { "w", 7 * G_TIME_SPAN_DAY },
  { "week", 7 * G_TIME_SPAN_DAY },
  { "weeks", 7 * G_TIME_SPAN_DAY },
  { "M", G_GUINT64_CONSTANT (2629800) * G_USEC_PER_SEC }, /* 30.44 days, as systemd counts a month */
  { "month", G_GUINT64_CONSTANT (2629800) * G_USEC_PER_SEC },
  { "months", G_GUINT64_CONSTANT (2629800) * G_USEC_PER_SEC },
  { "y", G_GUINT64_CONSTANT (31557600) * G_USEC_PER_SEC }, /* 365.25 days */
  { "year", G_GUINT64_CONSTANT (31557600) * G_USEC_PER_SEC },
  { "years", G_GUINT64_CONSTANT (31557600) * G_USEC_PER_SEC },
};

static gboolean
unit_usec (const char *name, gsize length, guint64 *usec)
{
  if (length == 0)
    {
      *usec = G_USEC_PER_SEC;
      return TRUE;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (units); i++)
    if (strlen (units[i].name) == length && strncmp (units[i].name, name, length) == 0)
      {
        *usec = units[i].usec;
        return TRUE;
      }
  return FALSE;
}

gboolean
oomctl_parse_timespan (const char *text, guint64 *usec)
{
  const char *p = text;
  guint64 total = 0;
  gboolean any = FALSE;

  while (TRUE)
    {
      guint64 n, unit;
      const char *name;
      char *end;

      while (*p == ' ')
        p++;
      if (*p == '\0')
        break;
      if (!g_ascii_isdigit (*p))
        return FALSE;
      n = g_ascii_strtoull (p, &end, 10);
      for (p = end; *p == ' '; p++)
        ;
      for (name = p; g_ascii_isalpha (*p); p++)
        ;
      if (!unit_usec (name, (gsize) (p - name), &unit) || (n > 0 && unit > G_MAXINT64 / n)
          || total > (guint64) G_MAXINT64 - n * unit)
        return FALSE;
      total += n * unit;
      any = TRUE;
    }
  if (any)
    *usec = total;
  return any;
}

static gint64
to_usec (GDateTime *when)
{
  return g_date_time_to_unix (when) * G_USEC_PER_SEC + g_date_time_get_microsecond (when);
}

/* Midnight of today + DAYS in ZONE. */
static gint64
midnight (gint64 now, GTimeZone *zone, int days)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (now / G_USEC_PER_SEC);
  g_autoptr (GDateTime) here = g_date_time_to_timezone (utc, zone);
  g_autoptr (GDateTime) start = g_date_time_new (zone, g_date_time_get_year (here),
                                                 g_date_time_get_month (here),
                                                 g_date_time_get_day_of_month (here), 0, 0, 0);
  g_autoptr (GDateTime) day = g_date_time_add_days (start, days);

  return to_usec (day);
}

static gboolean
parse_relative (const char *text, gint64 now, gint64 *usec)
{
  g_autofree char *span_text = NULL;
  guint64 span;
  int sign = 0;

  if (text[0] == '+' || text[0] == '-')
    {
      sign = text[0] == '+' ? 1 : -1;
      span_text = g_strdup (text + 1);
    }
  else if (g_str_has_suffix (text, " ago") || g_str_has_suffix (text, " left"))
    {
      sign = g_str_has_suffix (text, " ago") ? -1 : 1;
      span_text = g_strndup (text, strlen (text) - (sign < 0 ? 4 : 5));
    }
  if (sign == 0 || !oomctl_parse_timespan (span_text, &span) || span > (guint64) G_MAXINT64 / 2)
    return FALSE;
  *usec = now + sign * (gint64) span;
  return TRUE;
}

/* 2026-12-04 [10:00[:00[.frac]]] [UTC|Z|+01:00], or 10:00[:00] today. */
static gboolean
parse_date (const char *text, gint64 now, GTimeZone *zone, gint64 *usec)
{
  g_autofree char *iso = NULL;
  g_autoptr (GDateTime) when = NULL;
  int y, mo, d, n = 0;

  if (sscanf (text, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && text[n] == '\0')
    iso = g_strdup_printf ("%sT00:00:00", text);
  else if (g_ascii_isdigit (text[0]) && text[1] != '\0' && (text[1] == ':' || text[2] == ':'))
    {
      g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (now / G_USEC_PER_SEC);
      g_autoptr (GDateTime) here = g_date_time_to_timezone (utc, zone);
      g_autofree char *day = g_date_time_format (here, "%Y-%m-%d");

      iso = g_strdup_printf ("%sT%s", day, text);
    }
  else
    iso = g_strdup (text);
  if (g_str_has_suffix (iso, " UTC"))
    strcpy (iso + strlen (iso) - 4, "Z");
  g_strdelimit (iso, " ", 'T');
  /* hh:mm alone: GLib wants the seconds too */
  n = 0;
  if (sscanf (iso, "%4d-%2d-%2dT%*2d:%*2d%n", &y, &mo, &d, &n) == 3 && n > 0
      && (iso[n] == '\0' || iso[n] == 'Z' || iso[n] == '+' || iso[n] == '-'))
    {
      g_autofree char *head = g_strndup (iso, (gsize) n);
      char *full = g_strconcat (head, ":00", iso + n, NULL);

      g_free (iso);
      iso = full;
    }
  when = g_date_time_new_from_iso8601 (iso, zone);
  if (when == NULL)
    return FALSE;
  *usec = to_usec (when);
  return TRUE;
}

gboolean
oomctl_parse_time (const char *text, gint64 now, GTimeZone *zone, gint64 *usec, GError **error)
{
  static const struct
  {
    const char *word;
    int days; /* from today's midnight; G_MININT: now */
  } words[] = { { "now", G_MININT }, { "today", 0 }, { "yesterday", -1 }, { "tomorrow", 1 } };
  guint64 seconds;

  for (gsize i = 0; i < G_N_ELEMENTS (words); i++)
    if (strcmp (text, words[i].word) == 0)
      {
        *usec = words[i].days == G_MININT ? now : midnight (now, zone, words[i].days);
        return TRUE;
      }
  if (text[0] == '@' && g_ascii_string_to_unsigned (text + 1, 10, 0, G_MAXINT64 / G_USEC_PER_SEC,
                                                    &seconds, NULL))
    {
      *usec = (gint64) seconds * G_USEC_PER_SEC;
      return TRUE;
    }
  if (parse_relative (text, now, usec) || parse_date (text, now, zone, usec))
    return TRUE;
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "'%s' is not a time: use e.g. now, today, yesterday, -1h, '2 days ago', +5min, "
               "2026-12-04, '2026-12-04 10:00:00' or @1764842400",
               text);
  return FALSE;
}
