#include "oomctl-listener.h"
#include "oomctl-format.h"
#include "oomwatch-cgroup.h"

#include <glib-unix.h>
#include <stdio.h>

struct _OomctlListener
{
  OomwatchManager *manager;
  OomctlListenOptions options;
  GMainLoop *loop;
  GHashTable *cgroups; /* canonical paths printed; NULL: every cgroup (monitor) */
  gboolean recursive;  /* and everything below them */
  int seen;
  int status;
  guint timer_id;
};

void
oomctl_listen_options_add (GOptionContext *context, OomctlListenOptions *options)
{
  const GOptionEntry entries[]
      = { { "json", 'j', 0, G_OPTION_ARG_NONE, &options->json, "Print JSON Lines", NULL },
          { "count", 'n', 0, G_OPTION_ARG_INT, &options->count, "Exit after N events", "N" },
          { "timeout", 't', 0, G_OPTION_ARG_INT, &options->timeout, "Exit after SEC seconds",
            "SEC" },
          { NULL } };

  g_option_context_add_main_entries (context, entries, NULL);
}

static void
print_line (OomctlListener *self, char *line)
{
  g_print ("%s\n", line);
  fflush (stdout);
  g_free (line);
  self->seen++;
  if (self->options.count > 0 && self->seen >= self->options.count)
    g_main_loop_quit (self->loop);
}

static gboolean
wanted (OomctlListener *self, const char *cgroup)
{
  GHashTableIter iter;
  const char *root;

  if (self->cgroups == NULL || g_hash_table_contains (self->cgroups, cgroup))
    return TRUE;
  if (!self->recursive)
    return FALSE;
  g_hash_table_iter_init (&iter, self->cgroups);
  while (g_hash_table_iter_next (&iter, (gpointer *)&root, NULL))
    if (oomwatch_cgroup_is_below (cgroup, root))
      return TRUE;
  return FALSE;
}

static void
on_oom_event (OomwatchManager *manager, const char *cgroup, const char *kind, guint64 count,
              GVariant *details, gpointer user_data)
{
  OomctlListener *self = user_data;

  if (wanted (self, cgroup))
    print_line (self, oomctl_format_oom_event (self->options.json, cgroup, kind, count, details));
}

static void
on_memory_pressure (OomwatchManager *manager, const char *cgroup, const char *level,
                    GVariant *details, gpointer user_data)
{
  OomctlListener *self = user_data;

  if (wanted (self, cgroup))
    print_line (self, oomctl_format_memory_pressure (self->options.json, cgroup, level, details));
}

static void
on_watch_removed (OomwatchManager *manager, const char *cgroup, const char *reason,
                  gpointer user_data)
{
  OomctlListener *self = user_data;

  if (!wanted (self, cgroup))
    return;
  print_line (self, oomctl_format_watch_removed (self->options.json, cgroup, reason));
  if (self->cgroups != NULL)
    g_hash_table_remove (self->cgroups, cgroup);
  /* Nothing more can come for a watch whose cgroups are all gone. */
  if (self->cgroups != NULL && g_hash_table_size (self->cgroups) == 0)
    g_main_loop_quit (self->loop);
}

static void
on_name_owner (GObject *proxy, GParamSpec *pspec, gpointer user_data)
{
  OomctlListener *self = user_data;
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (proxy));

  if (owner != NULL)
    return;
  g_printerr ("oomctl: oomwatchd went away\n");
  self->status = OOMCTL_EXIT_FAILED;
  g_main_loop_quit (self->loop);
}

static gboolean
on_interrupt (gpointer user_data)
{
  OomctlListener *self = user_data;

  g_main_loop_quit (self->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_timeout (gpointer user_data)
{
  OomctlListener *self = user_data;

  self->timer_id = 0;
  if (self->options.count > 0)
    {
      g_printerr ("oomctl: timed out after %d of %d events\n", self->seen, self->options.count);
      self->status = OOMCTL_EXIT_TIMEOUT;
    }
  g_main_loop_quit (self->loop);
  return G_SOURCE_REMOVE;
}

OomctlListener *
oomctl_listener_new (OomwatchManager *manager, const OomctlListenOptions *options,
                     gboolean watching, gboolean recursive)
{
  OomctlListener *self = g_new0 (OomctlListener, 1);

  self->manager = g_object_ref (manager);
  self->options = *options;
  self->loop = g_main_loop_new (NULL, FALSE);
  self->recursive = recursive;
  if (watching)
    self->cgroups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_signal_connect (manager, "oom-event", G_CALLBACK (on_oom_event), self);
  g_signal_connect (manager, "watch-removed", G_CALLBACK (on_watch_removed), self);
  g_signal_connect (manager, "memory-pressure", G_CALLBACK (on_memory_pressure), self);
  return self;
}

void
oomctl_listener_add (OomctlListener *self, char *canonical)
{
  g_hash_table_add (self->cgroups, canonical);
}

int
oomctl_listener_run (OomctlListener *self)
{
  guint sigint, sigterm;

  g_signal_connect (self->manager, "notify::g-name-owner", G_CALLBACK (on_name_owner), self);
  sigint = g_unix_signal_add (SIGINT, on_interrupt, self);
  sigterm = g_unix_signal_add (SIGTERM, on_interrupt, self);
  if (self->options.timeout > 0)
    self->timer_id = g_timeout_add_seconds ((guint)self->options.timeout, on_timeout, self);

  if (self->cgroups == NULL || g_hash_table_size (self->cgroups) > 0)
    g_main_loop_run (self->loop);

  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_clear_handle_id (&self->timer_id, g_source_remove);
  return self->status;
}

void
oomctl_listener_free (OomctlListener *self)
{
  if (self == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->manager, self);
  g_clear_handle_id (&self->timer_id, g_source_remove);
  g_object_unref (self->manager);
  g_main_loop_unref (self->loop);
  g_clear_pointer (&self->cgroups, g_hash_table_unref);
  g_free (self);
}
