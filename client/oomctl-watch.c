/* oomctl watch / oomctl monitor: print signals as they arrive. */
#include "oomctl-commands.h"
#include "oomctl-common.h"
#include "oomctl-format.h"
#include "oomwatch-cgroup.h"
#include "oomwatch-names.h"

#include <glib-unix.h>
#include <stdio.h>
#include <string.h>

typedef struct
{
  GMainLoop *loop;
  gboolean json;
  GHashTable *cgroups; /* canonical paths printed; NULL: every cgroup (monitor) */
  gboolean recursive;  /* and everything below them */
  int count;           /* events to print before exiting; 0: no limit */
  int seen;
  int status;
  guint timer_id;
} Listener;

static void
print_line (Listener *listener, char *line)
{
  g_print ("%s\n", line);
  fflush (stdout);
  g_free (line);
  listener->seen++;
  if (listener->count > 0 && listener->seen >= listener->count)
    g_main_loop_quit (listener->loop);
}

static gboolean
wanted (Listener *listener, const char *cgroup)
{
  GHashTableIter iter;
  const char *root;

  if (listener->cgroups == NULL || g_hash_table_contains (listener->cgroups, cgroup))
    return TRUE;
  if (!listener->recursive)
    return FALSE;
  g_hash_table_iter_init (&iter, listener->cgroups);
  while (g_hash_table_iter_next (&iter, (gpointer *) &root, NULL))
    if (oomwatch_cgroup_is_below (cgroup, root))
      return TRUE;
  return FALSE;
}

static void
on_oom_event (OomwatchManager *manager, const char *cgroup, const char *kind, guint64 count,
              GVariant *details, gpointer user_data)
{
  Listener *listener = user_data;

  if (!wanted (listener, cgroup))
    return;
  print_line (listener, oomctl_format_oom_event (listener->json, cgroup, kind, count, details));
}

static void
on_memory_pressure (OomwatchManager *manager, const char *cgroup, const char *level,
                    GVariant *details, gpointer user_data)
{
  Listener *listener = user_data;

  if (!wanted (listener, cgroup))
    return;
  print_line (listener, oomctl_format_memory_pressure (listener->json, cgroup, level, details));
}

static void
on_watch_removed (OomwatchManager *manager, const char *cgroup, const char *reason,
                  gpointer user_data)
{
  Listener *listener = user_data;

  if (!wanted (listener, cgroup))
    return;
  print_line (listener, oomctl_format_watch_removed (listener->json, cgroup, reason));
  if (listener->cgroups != NULL)
    g_hash_table_remove (listener->cgroups, cgroup);
  /* Nothing more can come for a watch whose cgroups are all gone. */
  if (listener->cgroups != NULL && g_hash_table_size (listener->cgroups) == 0)
    g_main_loop_quit (listener->loop);
}

static void
on_name_owner (GObject *proxy, GParamSpec *pspec, gpointer user_data)
{
  Listener *listener = user_data;
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (proxy));

  if (owner != NULL)
    return;
  g_printerr ("oomctl: oomwatchd went away\n");
  listener->status = OOMCTL_EXIT_FAILED;
  g_main_loop_quit (listener->loop);
}

static gboolean
on_interrupt (gpointer user_data)
{
  Listener *listener = user_data;

  g_main_loop_quit (listener->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_timeout (gpointer user_data)
{
  Listener *listener = user_data;

  listener->timer_id = 0;
  if (listener->count > 0)
    {
      g_printerr ("oomctl: timed out after %d of %d events\n", listener->seen, listener->count);
      listener->status = OOMCTL_EXIT_TIMEOUT;
    }
  g_main_loop_quit (listener->loop);
  return G_SOURCE_REMOVE;
}

static int
listen (OomwatchManager *manager, Listener *listener, int timeout)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  guint sigint, sigterm;

  listener->loop = loop;
  g_signal_connect (manager, "notify::g-name-owner", G_CALLBACK (on_name_owner), listener);
  sigint = g_unix_signal_add (SIGINT, on_interrupt, listener);
  sigterm = g_unix_signal_add (SIGTERM, on_interrupt, listener);
  if (timeout > 0)
    listener->timer_id = g_timeout_add_seconds ((guint) timeout, on_timeout, listener);

  if (listener->cgroups == NULL || g_hash_table_size (listener->cgroups) > 0)
    g_main_loop_run (loop);

  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_clear_handle_id (&listener->timer_id, g_source_remove);
  g_signal_handlers_disconnect_by_data (manager, listener);
  return listener->status;
}

static int
run_listener (int argc, char **argv, gboolean watch)
{
  gboolean json = FALSE, recursive = FALSE;
  int count = 0, timeout = 0;
  g_autofree char *pressure = NULL;
  g_auto (GStrv) events = NULL;
  const GOptionEntry watch_entries[] = {
    { "recursive", 'r', 0, G_OPTION_ARG_NONE, &recursive,
      "Also watch every cgroup below, now and later", NULL },
    { "pressure", 'p', 0, G_OPTION_ARG_STRING, &pressure,
      "Also print memory pressure at LEVEL or above (low, medium, critical)", "LEVEL" },
    { "events", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &events,
      "Also print memory.events KIND rises (high, max; cgroup v2; repeatable)", "KIND" },
    { NULL }
  };
  const GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print JSON Lines", NULL },
    { "count", 'n', 0, G_OPTION_ARG_INT, &count, "Exit after N events", "N" },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &timeout, "Exit after SEC seconds", "SEC" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new (watch ? "CGROUP…" : NULL);
  g_autoptr (OomwatchManager) manager = NULL;
  g_autoptr (GHashTable) cgroups = NULL;
  g_autoptr (GError) error = NULL;
  Listener listener = { 0 };
  int status;

  g_option_context_add_main_entries (context, entries, NULL);
  if (watch)
    g_option_context_add_main_entries (context, watch_entries, NULL);
  g_option_context_set_summary (context, watch ? "Watch cgroups and print their OOM events."
                                               : "Print every oomwatchd signal.");
  status = oomctl_parse_options (context, &argc, &argv);
  if (status != OOMCTL_EXIT_OK)
    return status;
  if ((watch && argc < 2) || (!watch && argc > 1) || count < 0 || timeout < 0)
    {
      g_printerr ("oomctl: %s\n", watch ? "watch needs at least one CGROUP"
                                        : "monitor takes options only");
      return OOMCTL_EXIT_USAGE;
    }

  manager = oomctl_manager_new (&error);
  if (manager == NULL)
    return oomctl_fail ("cannot reach oomwatchd", error);

  listener.json = json;
  listener.count = count;
  /* Connect before calling Watch so that no event between the two is lost. */
  g_signal_connect (manager, "oom-event", G_CALLBACK (on_oom_event), &listener);
  g_signal_connect (manager, "watch-removed", G_CALLBACK (on_watch_removed), &listener);
  g_signal_connect (manager, "memory-pressure", G_CALLBACK (on_memory_pressure), &listener);

  if (watch)
    {
      cgroups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      listener.cgroups = cgroups;
      listener.recursive = recursive;
      for (int i = 1; i < argc; i++)
        {
          g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
          g_autoptr (GVariant) options = NULL;
          char *canonical = NULL;

          if (recursive)
            g_variant_dict_insert (&dict, "recursive", "b", TRUE);
          if (pressure != NULL)
            g_variant_dict_insert (&dict, OOMWATCH_OPTION_PRESSURE, "s", pressure);
          if (events != NULL)
            g_variant_dict_insert (&dict, OOMWATCH_OPTION_EVENTS, "^as", events);
          options = g_variant_ref_sink (g_variant_dict_end (&dict));

          if (!oomwatch_manager_call_watch_sync (manager, argv[i], options, G_DBUS_CALL_FLAGS_NONE,
                                                 -1, &canonical, NULL,
                                                 &error))
            return oomctl_fail (argv[i], error);
          g_hash_table_add (cgroups, canonical);
        }
    }
  /* Signals are sent only to the connections that watch, or to root's monitors. */
  else if (!oomwatch_manager_call_monitor_sync (manager, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error))
    return oomctl_fail ("monitor", error);
  return listen (manager, &listener, timeout);
}

int
oomctl_watch (int argc, char **argv)
{
  return run_listener (argc, argv, TRUE);
}

int
oomctl_monitor (int argc, char **argv)
{
  return run_listener (argc, argv, FALSE);
}
