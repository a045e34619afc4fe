/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomctl's conventions that need no daemon: journalctl's time words, relative cgroup paths,
 * --json modes and pretty JSON, when to colour. */
#include "oomctl-output.h"
#include "oomctl-paths.h"
#include "oomctl-time.h"

#include <string.h>

/* 2026-12-04T15:30:45.5Z, a Friday */
#define NOW G_GINT64_CONSTANT (1796398245500000)
#define SEC G_GINT64_CONSTANT (1000000)

static gint64
parse (const char *text, GTimeZone *zone)
{
  g_autoptr (GError) error = NULL;
  gint64 usec = -1;

  g_assert_true (oomctl_parse_time (text, NOW, zone, &usec, &error));
  g_assert_no_error (error);
  return usec;
}

static gint64
at (GTimeZone *zone, int y, int mo, int d, int h, int mi, double s)
{
  g_autoptr (GDateTime) when = g_date_time_new (zone, y, mo, d, h, mi, s);

  return g_date_time_to_unix (when) * SEC + g_date_time_get_microsecond (when);
}

static void
test_time_words (void)
{
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr (GTimeZone) east = g_time_zone_new_offset (2 * 3600); /* 17:30 there */
  const char *bad[] = { "", "soon", "-", "+x", "1h ago ago", "2026-13-01", "25:00", "@-1",
                        "10 parsecs", "-1h-5m", NULL };

  g_assert_cmpint (parse ("now", utc), ==, NOW);
  g_assert_cmpint (parse ("today", utc), ==, at (utc, 2026, 12, 4, 0, 0, 0));
  g_assert_cmpint (parse ("yesterday", utc), ==, at (utc, 2026, 12, 3, 0, 0, 0));
  g_assert_cmpint (parse ("tomorrow", utc), ==, at (utc, 2026, 12, 5, 0, 0, 0));
  g_assert_cmpint (parse ("today", east), ==, at (east, 2026, 12, 4, 0, 0, 0));
  g_assert_cmpint (parse ("-1h", utc), ==, NOW - 3600 * SEC);
  g_assert_cmpint (parse ("+5min", utc), ==, NOW + 300 * SEC);
  g_assert_cmpint (parse ("-1h 30min", utc), ==, NOW - 5400 * SEC);
  g_assert_cmpint (parse ("-1h30min", utc), ==, NOW - 5400 * SEC);
  g_assert_cmpint (parse ("2 days ago", utc), ==, NOW - 2 * 86400 * SEC);
  g_assert_cmpint (parse ("3s left", utc), ==, NOW + 3 * SEC);
  g_assert_cmpint (parse ("-90", utc), ==, NOW - 90 * SEC);
  g_assert_cmpint (parse ("@1796398245", utc), ==, 1796398245 * SEC);
  g_assert_cmpint (parse ("2026-12-04", utc), ==, at (utc, 2026, 12, 4, 0, 0, 0));
  g_assert_cmpint (parse ("2026-12-04", east), ==, at (east, 2026, 12, 4, 0, 0, 0));
  g_assert_cmpint (parse ("2026-12-04 10:00:00", utc), ==, at (utc, 2026, 12, 4, 10, 0, 0));
  g_assert_cmpint (parse ("2026-12-04 10:00:00", east), ==, at (utc, 2026, 12, 4, 8, 0, 0));
  g_assert_cmpint (parse ("2026-12-04 10:00", utc), ==, at (utc, 2026, 12, 4, 10, 0, 0));
  g_assert_cmpint (parse ("2026-12-04T10:00:00.25Z", east), ==,
                   at (utc, 2026, 12, 4, 10, 0, 0.25));
  g_assert_cmpint (parse ("2026-12-04 10:00 UTC", east), ==, at (utc, 2026, 12, 4, 10, 0, 0));
  g_assert_cmpint (parse ("2026-12-04 10:00:00+01:00", utc), ==, at (utc, 2026, 12, 4, 9, 0, 0));
  g_assert_cmpint (parse ("10:00", utc), ==, at (utc, 2026, 12, 4, 10, 0, 0));
  g_assert_cmpint (parse ("10:00:30", east), ==, at (east, 2026, 12, 4, 10, 0, 30));
  for (gsize i = 0; bad[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      gint64 usec = 7;

      g_test_message ("bad: '%s'", bad[i]);
      g_assert_false (oomctl_parse_time (bad[i], NOW, utc, &usec, &error));
      g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
      g_assert_nonnull (strstr (error->message, "is not a time"));
      g_assert_cmpint (usec, ==, 7);
    }
}

static void
test_timespan (void)
{
  guint64 usec = 0;

  g_assert_true (oomctl_parse_timespan ("10m", &usec));
  g_assert_cmpuint (usec, ==, 600 * SEC);
  g_assert_true (oomctl_parse_timespan ("1w 2d 3h 4min 5s 6ms 7us", &usec));
  g_assert_cmpuint (usec, ==, ((9 * 86400 + 3 * 3600 + 4 * 60 + 5) * SEC) + 6007);
  g_assert_true (oomctl_parse_timespan ("1M", &usec));
  g_assert_cmpuint (usec, ==, G_GUINT64_CONSTANT (2629800) * SEC);
  g_assert_false (oomctl_parse_timespan ("", &usec));
  g_assert_false (oomctl_parse_timespan ("h", &usec));
  g_assert_false (oomctl_parse_timespan ("99999999999999999y", &usec));
}

static void
test_paths (void)
{
  const struct
  {
    const char *arg, *cwd, *mount, *expected; /* NULL: an error */
  } cases[] = {
    { ".", "/sys/fs/cgroup/memory/some/cgroup", "/sys/fs/cgroup/memory", "/some/cgroup" },
    { "kid", "/sys/fs/cgroup/memory/some/cgroup", "/sys/fs/cgroup/memory", "/some/cgroup/kid" },
    { "../b/./c/", "/sys/fs/cgroup/memory/a", "/sys/fs/cgroup/memory/", "/b/c" },
    { ".", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory", "/" },
    { "kid", "/sys/fs/cgroup", "/sys/fs/cgroup", "/kid" },
    { "/abs/path", "/tmp", "/sys/fs/cgroup/memory", "/abs/path" },
    { "..", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory", NULL },
    { "kid", "/tmp", "/sys/fs/cgroup/memory", NULL },
    { "x", "/sys/fs/cgroup/memoryx", "/sys/fs/cgroup/memory", NULL },
    { ".", "/", "", NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *path
          = oomctl_resolve_cgroup (cases[i].arg, cases[i].cwd, cases[i].mount, &error);

      g_test_message ("%s in %s", cases[i].arg, cases[i].cwd);
      g_assert_cmpstr (path, ==, cases[i].expected);
      if (cases[i].expected == NULL)
        {
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
          g_assert_nonnull (strstr (error->message, "not inside the cgroup hierarchy"));
        }
    }
}

static void
test_json_modes (void)
{
  g_autofree char *pretty
      = oomctl_json_pretty ("{\"a\":1,\"b\":{\"c\":[\"x,{\\\"y\",2]},\"d\":{},\"e\":[]}");
  OomctlJson json = OOMCTL_JSON_OFF;
  g_autoptr (GError) error = NULL;

  g_assert_cmpstr (pretty, ==,
                   "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": [\n      \"x,{\\\"y\",\n      2\n"
                   "    ]\n  },\n  \"d\": {},\n  \"e\": []\n}");
  g_assert_true (oomctl_output_parse_json ("pretty", &json, NULL));
  g_assert_cmpint (json, ==, OOMCTL_JSON_PRETTY);
  g_assert_true (oomctl_output_parse_json ("short", &json, NULL));
  g_assert_cmpint (json, ==, OOMCTL_JSON_SHORT);
  g_assert_true (oomctl_output_parse_json ("off", &json, NULL));
  g_assert_cmpint (json, ==, OOMCTL_JSON_OFF);
  g_assert_false (oomctl_output_parse_json ("Pretty", &json, &error));
  g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
  g_assert_cmpstr (error->message, ==, "--json: 'Pretty' is not one of short, pretty, off");
}

static void
test_colour (void)
{
  /* SYSTEMD_COLORS, NO_COLOR, stdout a terminal, TERM */
  g_assert_true (oomctl_output_want_colour (NULL, NULL, TRUE, "xterm"));
  g_assert_false (oomctl_output_want_colour (NULL, NULL, FALSE, "xterm"));
  g_assert_false (oomctl_output_want_colour (NULL, NULL, TRUE, "dumb"));
  g_assert_false (oomctl_output_want_colour (NULL, "1", TRUE, "xterm"));
  g_assert_true (oomctl_output_want_colour (NULL, "", TRUE, "xterm"));
  g_assert_false (oomctl_output_want_colour ("0", NULL, TRUE, "xterm"));
  g_assert_false (oomctl_output_want_colour ("false", NULL, TRUE, "xterm"));
  g_assert_true (oomctl_output_want_colour ("1", NULL, FALSE, "dumb"));
  g_assert_true (oomctl_output_want_colour ("256", "1", FALSE, NULL));
  g_assert_false (oomctl_output_want_colour ("bogus", "1", TRUE, "xterm"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/oomctl-cli/time-words", test_time_words);
  g_test_add_func ("/oomctl-cli/timespan", test_timespan);
  g_test_add_func ("/oomctl-cli/paths", test_paths);
  g_test_add_func ("/oomctl-cli/json-modes", test_json_modes);
  g_test_add_func ("/oomctl-cli/colour", test_colour);
  return g_test_run ();
}
