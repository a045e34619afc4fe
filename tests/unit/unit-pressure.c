/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Units of memory pressure: Watch option parsing and merging, and oomctl's MemoryPressure lines. */
#include "oomctl-format.h"
#include "ow-pressure-level.h"
#include "oomwatch-names.h"

#include <gio/gio.h>
#include <string.h>

static void
test_options (void)
{
  const char *const both[] = { "high", "max", NULL };
  const char *const bogus[] = { "high", "oom", NULL };
  OwWatchAsk ask = { 0 }, other = { OW_PRESSURE_CRITICAL, OW_WATCH_EVENT_MAX }, back;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) level = g_variant_ref_sink (g_variant_new_string ("medium"));
  g_autoptr (GVariant) wrong = g_variant_ref_sink (g_variant_new_string ("Medium"));
  g_autoptr (GVariant) events = g_variant_ref_sink (g_variant_new_strv (both, -1));
  g_autoptr (GVariant) bad_events = g_variant_ref_sink (g_variant_new_strv (bogus, -1));

  g_assert_true (ow_watch_ask_parse_option (&ask, OOMWATCH_OPTION_PRESSURE, level, 1, &error));
  g_assert_cmpint (ask.pressure, ==, OW_PRESSURE_MEDIUM);
  g_assert_false (ow_watch_ask_parse_option (&ask, OOMWATCH_OPTION_PRESSURE, wrong, 1, &error));
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (error->message, "'Medium'; allowed values: low, medium, critical"));
  g_clear_error (&error);
  g_assert_false (ow_watch_ask_parse_option (&ask, OOMWATCH_OPTION_EVENTS, events, 1, &error));
  g_assert_nonnull (strstr (error->message, "cgroup v2"));
  g_clear_error (&error);
  g_assert_true (ow_watch_ask_parse_option (&ask, OOMWATCH_OPTION_EVENTS, events, 2, &error));
  g_assert_cmpuint (ask.events, ==, OW_WATCH_EVENT_HIGH | OW_WATCH_EVENT_MAX);
  g_assert_false (ow_watch_ask_parse_option (&ask, OOMWATCH_OPTION_EVENTS, bad_events, 2, &error));
  g_assert_nonnull (strstr (error->message, "'oom'; allowed values: high, max"));
  g_clear_error (&error);
  g_assert_false (ow_watch_ask_parse_option (&ask, "pressur", level, 2, &error));
  g_assert_nonnull (strstr (error->message, "known: recursive, pressure, events"));
  g_clear_error (&error);

  /* The lower level wins; events add up; packing keeps both. */
  ask.events = OW_WATCH_EVENT_HIGH;
  ow_watch_ask_merge (&ask, &other);
  g_assert_cmpint (ask.pressure, ==, OW_PRESSURE_MEDIUM);
  g_assert_cmpuint (ask.events, ==, OW_WATCH_EVENT_HIGH | OW_WATCH_EVENT_MAX);
  ow_watch_ask_unpack (ow_watch_ask_pack (&ask), &back);
  g_assert_cmpint (back.pressure, ==, ask.pressure);
  g_assert_cmpuint (back.events, ==, ask.events);
  g_assert_nonnull (ow_watch_ask_pack (&(OwWatchAsk){ 0 }));
  g_assert_cmpuint (ow_pressure_level_value (OW_PRESSURE_LOW), ==, 50);
  g_assert_cmpuint (ow_pressure_level_value (OW_PRESSURE_CRITICAL), ==, 255);
}

/* The table of event kinds: names and memory.events keys unique, opt-in kinds never kept, the
 * option "events" takes exactly the opt-in kinds. */
static void
test_kinds (void)
{
  g_autoptr (GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) keys = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *opt_in = ow_event_kind_opt_in_names ();

  for (OwEventKind kind = 0; kind < OW_EVENT_N_KINDS; kind++)
    {
      const OwEventKindInfo *info = ow_event_kind_info (kind);
      const char *one[] = { info->name, NULL };
      g_autoptr (GVariant) value = g_variant_ref_sink (g_variant_new_strv (one, -1));
      OwWatchAsk ask = { 0 };
      g_autoptr (GError) error = NULL;

      g_assert_cmpint (info->kind, ==, kind);
      g_assert_true (g_hash_table_add (names, (gpointer)info->name));
      g_assert_true (ow_event_kind_by_name (info->name) == info);
      if (info->events_key != NULL)
        g_assert_true (g_hash_table_add (keys, (gpointer)info->events_key));
      g_assert_false (info->opt_in && info->kept);
      g_assert_true (info->opt_in == (info->counter == OW_COUNTER_NONE && info->events_key != NULL));
      g_assert_cmpint (ow_watch_ask_parse_option (&ask, OOMWATCH_OPTION_EVENTS, value, 2, &error),
                       ==, info->opt_in);
      if (info->opt_in)
        {
          OwWatchAsk back;

          g_assert_cmpuint (ask.events, ==, OW_EVENT_KIND_BIT (kind));
          ow_watch_ask_unpack (ow_watch_ask_pack (&ask), &back);
          g_assert_cmpuint (back.events, ==, ask.events);
        }
    }
  g_assert_null (ow_event_kind_by_name ("oom_kill"));
  g_assert_cmpstr (opt_in, ==, "high, max, low");
  g_assert_cmpstr (ow_event_kind_info (OW_EVENT_LOW)->events_key, ==, "low");
}

static void
test_format (void)
{
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  g_autoptr (GVariant) details = NULL;
  g_autofree char *human = NULL, *json = NULL;

  g_variant_dict_insert (&dict, OOMWATCH_KEY_TIMESTAMP, "t", (guint64)1795870843632584);
  g_variant_dict_insert (&dict, OOMWATCH_KEY_HIERARCHY, "u", 2);
  g_variant_dict_insert (&dict, OOMWATCH_KEY_LEVEL_VALUE, "u", 100);
  g_variant_dict_insert (&dict, OOMWATCH_KEY_SOME_AVG10, "d", 12.5);
  details = g_variant_ref_sink (g_variant_dict_end (&dict));
  human = oomctl_format_memory_pressure (FALSE, "/a", "medium", details);
  json = oomctl_format_memory_pressure (TRUE, "/a", "medium", details);
  g_test_message ("%s\n%s", human, json);
  g_assert_nonnull (strstr (human, " /a pressure medium "));
  g_assert_nonnull (strstr (human, " level-value=100"));
  g_assert_nonnull (strstr (human, " some-avg10=12.5"));
  g_assert_null (strstr (human, "timestamp"));
  g_assert_nonnull (strstr (json, "\"signal\":\"MemoryPressure\",\"cgroup\":\"/a\",\"level\":"
                                  "\"medium\",\"details\":{"));
  g_assert_nonnull (strstr (json, "\"some-avg10\":12.5"));
  g_assert_nonnull (strstr (json, "\"level-value\":100"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pressure/options", test_options);
  g_test_add_func ("/pressure/format", test_format);
  g_test_add_func ("/pressure/kinds", test_kinds);
  return g_test_run ();
}
