/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomctl's output: one human line, or one JSON object per line (oomctl(1) documents both). */
#include "oomctl-format.h"
#include "oomwatch-names.h"

#include <string.h>

/* 2026-11-28T09:00:11.123456Z */
#define TIMESTAMP G_GUINT64_CONSTANT (1795856411123456)

/* In a fixed order (a GVariantDict's is the hash table's): human lines keep it, JSON sorts. */
static GVariant *
details (gboolean with_victim)
{
  return g_variant_ref_sink (g_variant_new_parsed (
      with_victim ? "{'timestamp': <uint64 1795856411123456>, 'hierarchy': <uint32 1>, "
                    "'total': <uint64 7>, 'pid': <uint32 42>, 'comm': <'a \"b\"\n'>}"
                  : "{'timestamp': <uint64 1795856411123456>, 'hierarchy': <uint32 1>, "
                    "'total': <uint64 7>}"));
}

static void
test_time (void)
{
  g_autofree char *utc = NULL;
  g_autofree char *east = NULL;
  g_autofree char *before_epoch = NULL;

  g_setenv ("TZ", "UTC", TRUE);
  utc = oomctl_format_time (TIMESTAMP);
  g_assert_cmpstr (utc, ==, "2026-11-28T09:00:11.123456+00:00");
  g_setenv ("TZ", "+05:30", TRUE);
  east = oomctl_format_time (TIMESTAMP);
  g_assert_cmpstr (east, ==, "2026-11-28T14:30:11.123456+05:30");
  g_setenv ("TZ", "UTC", TRUE);
  before_epoch = oomctl_format_time (0);
  g_assert_cmpstr (before_epoch, ==, "1970-01-01T00:00:00.000000+00:00");
}

static void
test_json_string (void)
{
  g_autoptr (GString) out = g_string_new (NULL);

  oomctl_json_append_string (out, "a\"b\\c\n\x01\x7f é");
  g_assert_cmpstr (out->str, ==, "\"a\\\"b\\\\c\\u000a\\u0001\\u007f é\"");
}

static void
test_json_value (void)
{
  const struct
  {
    const char *text, *json;
  } cases[] = {
    { "true", "true" },
    { "uint64 18446744073709551615", "18446744073709551615" },
    { "uint32 4294967295", "4294967295" },
    { "int64 -9", "-9" },
    { "int32 -3", "-3" },
    { "'x\"y'", "\"x\\\"y\"" },
    { "<<'nested'>>", "\"nested\"" },
    { "@a{sv} {}", "{}" },
    { "{'k': <uint32 1>, 'l': <{'m': <false>}>}", "{\"k\":1,\"l\":{\"m\":false}}" },
    /* keys sorted; times as ISO 8601 */
    { "{'z': <1>, 'since': <uint64 1795856411123456>, 'a': <2>}",
      "{\"a\":2,\"since\":\"2026-11-28T09:00:11.123456+00:00\",\"z\":1}" },
    { "['a', 'b']", "[\"a\",\"b\"]" }, /* skipped, events */
    { "2.5", "2.5" },                  /* some-avg10, full-avg10 */
    { "(1, 2)", "\"(1, 2)\"" },        /* not in the API: its text form */
  };

  g_setenv ("TZ", "UTC", TRUE);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) value = g_variant_parse (NULL, cases[i].text, NULL, NULL, &error);
      g_autoptr (GString) out = g_string_new (NULL);

      g_assert_no_error (error);
      oomctl_json_append_value (out, value);
      g_assert_cmpstr (out->str, ==, cases[i].json);
    }
}

static void
test_oom_event (void)
{
  g_autoptr (GVariant) plain = details (FALSE);
  g_autoptr (GVariant) victim = details (TRUE);
  g_autofree char *human = NULL;
  g_autofree char *human_victim = NULL;
  g_autofree char *json = NULL;

  g_setenv ("TZ", "UTC", TRUE);
  human = oomctl_format_oom_event (FALSE, "/a b", "oom", 2, plain);
  g_assert_cmpstr (human, ==, "2026-11-28T09:00:11.123456+00:00 /a b oom count=2 total=7");
  /* The total first, then the rest in the dict's order; strings escaped, one line. */
  human_victim = oomctl_format_oom_event (FALSE, "/a", "oom-kill", 1, victim);
  g_assert_cmpstr (human_victim, ==,
                   "2026-11-28T09:00:11.123456+00:00 /a oom-kill count=1 total=7 "
                   "pid=42 comm=a \\\"b\\\"\\n");
  json = oomctl_format_oom_event (TRUE, "/a", "oom-kill", 1, victim);
  g_assert_cmpstr (json, ==,
                   "{\"time\":\"2026-11-28T09:00:11.123456+00:00\",\"signal\":\"OomEvent\","
                   "\"cgroup\":\"/a\",\"kind\":\"oom-kill\",\"count\":1,\"details\":{"
                   "\"comm\":\"a \\\"b\\\"\\u000a\",\"hierarchy\":1,\"pid\":42,"
                   "\"timestamp\":\"2026-11-28T09:00:11.123456+00:00\",\"total\":7}}");
  g_assert_null (strchr (json, '\n'));
}

/* The container's keys: pod=NS/NAME container=NAME before the unit keys, else the UID and id. */
static void
test_container (void)
{
  g_auto (GVariantDict) named = G_VARIANT_DICT_INIT (NULL);
  g_auto (GVariantDict) bare = G_VARIANT_DICT_INIT (NULL);
  g_autoptr (GVariant) named_details = NULL;
  g_autoptr (GVariant) bare_details = NULL;
  g_autofree char *human = NULL;
  g_autofree char *human_bare = NULL;
  g_autofree char *json = NULL;

  g_setenv ("TZ", "UTC", TRUE);
  g_variant_dict_insert (&named, OOMWATCH_KEY_TIMESTAMP, "t", (guint64)1795856411123456);
  g_variant_dict_insert (&named, OOMWATCH_KEY_UNIT, "s", "cri-containerd-ab.scope");
  g_variant_dict_insert (&named, OOMWATCH_KEY_CONTAINER_ID, "s", "ab");
  g_variant_dict_insert (&named, OOMWATCH_KEY_CONTAINER_RUNTIME, "s", "containerd");
  g_variant_dict_insert (&named, OOMWATCH_KEY_POD_UID, "s", "u-1");
  g_variant_dict_insert (&named, OOMWATCH_KEY_POD_QOS, "s", "burstable");
  g_variant_dict_insert (&named, OOMWATCH_KEY_POD_NAMESPACE, "s", "shop");
  g_variant_dict_insert (&named, OOMWATCH_KEY_POD_NAME, "s", "web-0");
  g_variant_dict_insert (&named, OOMWATCH_KEY_CONTAINER_NAME, "s", "web");
  named_details = g_variant_ref_sink (g_variant_dict_end (&named));
  human = oomctl_format_oom_event (FALSE, "/k", "oom-kill", 1, named_details);
  g_assert_cmpstr (human, ==,
                   "2026-11-28T09:00:11.123456+00:00 /k oom-kill count=1 pod=shop/web-0 "
                   "container=web unit=cri-containerd-ab.scope");
  json = oomctl_format_oom_event (TRUE, "/k", "oom-kill", 1, named_details);
  g_assert_nonnull (strstr (json, "\"pod-namespace\":\"shop\""));
  g_assert_nonnull (strstr (json, "\"container-runtime\":\"containerd\""));
  g_variant_dict_insert (&bare, OOMWATCH_KEY_TIMESTAMP, "t", (guint64)1795856411123456);
  g_variant_dict_insert (&bare, OOMWATCH_KEY_CONTAINER_ID, "s", "ab");
  g_variant_dict_insert (&bare, OOMWATCH_KEY_POD_UID, "s", "u-1");
  bare_details = g_variant_ref_sink (g_variant_dict_end (&bare));
  human_bare = oomctl_format_oom_event (FALSE, "/k", "oom", 1, bare_details);
  g_assert_cmpstr (human_bare, ==,
                   "2026-11-28T09:00:11.123456+00:00 /k oom count=1 pod=u-1 container=ab");
}

/* Sizes in a few readable letters: rss (anon + file + shmem), limit, peak, usage, swap */
static void
test_memory (void)
{
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  g_autoptr (GVariant) memory = NULL;
  g_autofree char *human = NULL;

  g_setenv ("TZ", "UTC", TRUE);
  g_variant_dict_insert (&dict, "timestamp", "t", (guint64)1795856411123456);
  g_variant_dict_insert (&dict, "anon-rss", "t", (guint64)600 << 20);
  g_variant_dict_insert (&dict, "file-rss", "t", (guint64)12 << 20);
  g_variant_dict_insert (&dict, "total-vm", "t", (guint64)2 << 30);
  g_variant_dict_insert (&dict, "limit", "t", (guint64)512 << 20);
  g_variant_dict_insert (&dict, "peak", "t", (guint64)540 << 20);
  g_variant_dict_insert (&dict, "usage", "t", (guint64)1945 << 20);
  g_variant_dict_insert (&dict, "swap-usage", "t", (guint64)0);
  g_variant_dict_insert (&dict, "oom-score-adj", "i", -500);
  memory = g_variant_ref_sink (g_variant_dict_end (&dict));
  human = oomctl_format_oom_event (FALSE, "/a", "oom-kill", 1, memory);
  g_assert_cmpstr (human, ==,
                   "2026-11-28T09:00:11.123456+00:00 /a oom-kill count=1 rss=612M limit=512M "
                   "peak=540M usage=1.9G oom-score-adj=-500");
}

static void
test_watch_removed (void)
{
  g_autofree char *human = oomctl_format_watch_removed (FALSE, "/a", "cgroup-removed", NULL);
  g_autofree char *json = oomctl_format_watch_removed (TRUE, "/a\"", "cgroup-removed", NULL);

  /* Now, in local time: only the shape is fixed. */
  g_assert_true (g_regex_match_simple ("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}"
                                       "[+-]\\d\\d:\\d\\d /a removed reason=cgroup-removed$",
                                       human, 0, 0));
  g_assert_true (g_regex_match_simple ("^\\{\"time\":\"[^\"]+\",\"signal\":\"WatchRemoved\","
                                       "\"cgroup\":\"/a\\\\\"\",\"reason\":\"cgroup-removed\"\\}$",
                                       json, 0, 0));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/format/time", test_time);
  g_test_add_func ("/format/json-string", test_json_string);
  g_test_add_func ("/format/json-value", test_json_value);
  g_test_add_func ("/format/oom-event", test_oom_event);
  g_test_add_func ("/format/watch-removed", test_watch_removed);
  g_test_add_func ("/format/container", test_container);
  g_test_add_func ("/format/memory", test_memory);
  return g_test_run ();
}
