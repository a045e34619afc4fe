/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-oomd.h"
#include "ow-cgroup-path.h"
#include "ow-event-log.h"
#include "oomwatch-cgroup.h"
#include "oomwatch-names.h"

#include <string.h>

/* Reasons are short words ("memory-used", "memory-pressure"); a longer one is cut. */
#define REASON_MAX 64

struct _OwOomd
{
  GDBusConnection *connection;
  OwRegistry *registry;
  const OwOomdListener *listener;
  gpointer user_data;
  guint name_watch_id;
  guint killed_id;
  char *owner; /* oomd's unique name while it runs */
};

/* The watched cgroups at or above CGROUP, CGROUP itself first. */
static GPtrArray *
watched_at_or_above (OwRegistry *registry, const char *cgroup)
{
  GPtrArray *watched = g_ptr_array_new_with_free_func (g_free);
  char *path = g_strdup (cgroup);

  while (path != NULL)
    {
      char *parent = oomwatch_cgroup_parent (path);

      if (ow_registry_lookup (registry, path) != NULL)
        g_ptr_array_add (watched, path);
      else
        g_free (path);
      path = parent;
    }
  return watched;
}

void
ow_oomd_dispatch (OwOomd *self, const char *cgroup, const char *reason)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *canonical = ow_cgroup_path_canonicalize (cgroup, NULL, NULL, &error);
  g_autofree char *short_reason = g_utf8_make_valid (reason, MIN (strlen (reason), REASON_MAX));
  OwEvent event = { .kind = OW_EVENT_OOMD_KILL, .count = 1, .reason = short_reason };
  g_autoptr (GPtrArray) targets = NULL;
  g_autoptr (OomwatchUnitInfo) units = NULL;

  /* oomd names cgroups from the root of the unified hierarchy: our canonical form. */
  if (canonical == NULL)
    {
      g_debug ("Ignoring systemd-oomd's kill of an unusable cgroup: %s", error->message);
      return;
    }
  targets = watched_at_or_above (self->registry, canonical);
  g_debug ("systemd-oomd killed %s (%s): %u watched cgroups at or above it", canonical,
           short_reason, targets->len);
  if (targets->len == 0)
    return;
  event.task_cgroup = canonical;
  units = oomwatch_unit_info_new (canonical);
  ow_event_log (canonical, &event, NULL, units);
  event.logged = TRUE;
  for (guint i = 0; i < targets->len; i++)
    self->listener->killed (g_ptr_array_index (targets, i), &event, self->user_data);
}

static void
on_killed (GDBusConnection *connection, const char *sender, const char *path, const char *interface,
           const char *signal, GVariant *parameters, gpointer user_data)
{
  OwOomd *self = user_data;
  const char *cgroup, *reason;

  /* The subscription names oomd's unique name; a stale delivery from a previous owner is
   * dropped here. */
  if (self->owner == NULL || g_strcmp0 (sender, self->owner) != 0
      || !g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(ss)")))
    return;
  g_variant_get (parameters, "(&s&s)", &cgroup, &reason);
  ow_oomd_dispatch (self, cgroup, reason);
}

static void
unsubscribe (OwOomd *self)
{
  if (self->killed_id != 0)
    g_dbus_connection_signal_unsubscribe (self->connection, self->killed_id);
  self->killed_id = 0;
  g_clear_pointer (&self->owner, g_free);
}

/* Subscribing by the unique name, not the well-known one: only the process that owns
 * org.freedesktop.oom1 can then be heard, never someone emitting a look-alike signal. */
static void
on_appeared (GDBusConnection *connection, const char *name, const char *owner, gpointer user_data)
{
  OwOomd *self = user_data;

  unsubscribe (self);
  self->owner = g_strdup (owner);
  self->killed_id = g_dbus_connection_signal_subscribe (
      connection, owner, OOMWATCH_OOMD_INTERFACE, OOMWATCH_OOMD_KILLED_SIGNAL,
      OOMWATCH_OOMD_OBJECT_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_killed, self, NULL);
  g_message ("Following systemd-oomd's kills (%s is %s)", name, owner);
}

static void
on_vanished (GDBusConnection *connection, const char *name, gpointer user_data)
{
  OwOomd *self = user_data;

  if (self->owner != NULL)
    g_message ("systemd-oomd left the bus");
  unsubscribe (self);
}

OwOomd *
ow_oomd_new (GDBusConnection *connection, OwRegistry *registry, const OwOomdListener *listener,
             gpointer user_data)
{
  OwOomd *self = g_new0 (OwOomd, 1);

  self->connection = g_object_ref (connection);
  self->registry = registry;
  self->listener = listener;
  self->user_data = user_data;
  self->name_watch_id = g_bus_watch_name_on_connection (connection, OOMWATCH_OOMD_BUS_NAME,
                                                        G_BUS_NAME_WATCHER_FLAGS_NONE, on_appeared,
                                                        on_vanished, self, NULL);
  return self;
}

void
ow_oomd_free (OwOomd *self)
{
  if (self == NULL)
    return;
  g_bus_unwatch_name (self->name_watch_id);
  unsubscribe (self);
  g_object_unref (self->connection);
  g_free (self);
}
