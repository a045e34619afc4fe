/* oomctl watch: watch cgroups (this connection's watches) and print their signals. */
#include "oomctl-commands.h"
#include "oomctl-listener.h"
#include "oomwatch-names.h"

int
oomctl_watch (int argc, char **argv)
{
  OomctlListenOptions options = { 0 };
  gboolean recursive = FALSE;
  g_autofree char *pressure = NULL;
  g_auto (GStrv) events = NULL;
  const GOptionEntry entries[]
      = { { "recursive", 'r', 0, G_OPTION_ARG_NONE, &recursive,
            "Also watch every cgroup below, now and later", NULL },
          { "pressure", 'p', 0, G_OPTION_ARG_STRING, &pressure,
            "Also print memory pressure at LEVEL or above (low, medium, critical)", "LEVEL" },
          { "events", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &events,
            "Also print memory.events KIND rises (high, max; cgroup v2; repeatable)", "KIND" },
          { NULL } };
  g_autoptr (GOptionContext) context = g_option_context_new ("CGROUP…");
  g_autoptr (OomwatchManager) manager = NULL;
  g_autoptr (OomctlListener) listener = NULL;
  g_autoptr (GVariant) watch_options = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  int status;

  oomctl_listen_options_add (context, &options);
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context, "Watch cgroups and print their OOM events.");
  status = oomctl_parse_options (context, &argc, &argv);
  if (status != OOMCTL_EXIT_OK)
    return status;
  if (argc < 2 || options.count < 0 || options.timeout < 0)
    {
      g_printerr ("oomctl: watch needs at least one CGROUP\n");
      return OOMCTL_EXIT_USAGE;
    }
  manager = oomctl_manager_new (&error);
  if (manager == NULL)
    return oomctl_fail ("cannot reach oomwatchd", error);

  /* Listening before calling Watch, so that no event between the two is lost. */
  listener = oomctl_listener_new (manager, &options, TRUE, recursive);
  if (recursive)
    g_variant_dict_insert (&dict, "recursive", "b", TRUE);
  if (pressure != NULL)
    g_variant_dict_insert (&dict, OOMWATCH_OPTION_PRESSURE, "s", pressure);
  if (events != NULL)
    g_variant_dict_insert (&dict, OOMWATCH_OPTION_EVENTS, "^as", events);
  watch_options = g_variant_ref_sink (g_variant_dict_end (&dict));
  for (int i = 1; i < argc; i++)
    {
      char *canonical = NULL;

      if (!oomwatch_manager_call_watch_sync (manager, argv[i], watch_options,
                                             G_DBUS_CALL_FLAGS_NONE, -1, &canonical, NULL, &error))
        return oomctl_fail (argv[i], error);
      oomctl_listener_add (listener, canonical);
    }
  return oomctl_listener_run (listener);
}
