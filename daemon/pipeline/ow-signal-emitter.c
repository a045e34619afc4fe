/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-signal-emitter.h"
#include "ow-after-send.h"
#include "ow-cgroup-memory.h"
#include "ow-event-log.h"
#include "ow-event-units.h"
#include "oomwatch-names.h"

struct _OwSignalEmitter
{
  OwRegistry *registry; /* borrowed */
  OwHierarchy *cgroups; /* borrowed; NULL: no memory context */
  guint hierarchy;
  GDBusConnection *connection;
  GHashTable *monitors;     /* unique names of root Monitor() callers */
  OwContinuity *continuity;
  OwAfterSend *after_send;  /* counters, history and journal, a moment after the signal */
};

static GVariant *
event_details (OwSignalEmitter *self, const OwEvent *event, OwVictim *victim, gboolean identity,
               const OomwatchUnitInfo *units, gint64 time, const OwCgroupMemory *memory)
{
  g_auto (GVariantDict) details = G_VARIANT_DICT_INIT (NULL);

  g_variant_dict_insert (&details, OOMWATCH_KEY_TIMESTAMP, "t", (guint64)time);
  g_variant_dict_insert (&details, OOMWATCH_KEY_HIERARCHY, "u", self->hierarchy);
  if (event->has_total)
    g_variant_dict_insert (&details, OOMWATCH_KEY_TOTAL, "t", event->total);
  if (event->has_under_oom)
    g_variant_dict_insert (&details, OOMWATCH_KEY_UNDER_OOM, "b", event->under_oom);
  if (victim != NULL && victim->task_cgroup != NULL)
    g_variant_dict_insert (&details, OOMWATCH_KEY_TASK_CGROUP, "s", victim->task_cgroup);
  if (victim != NULL && victim->oom_cgroup != NULL)
    g_variant_dict_insert (&details, OOMWATCH_KEY_OOM_CGROUP, "s", victim->oom_cgroup);
  ow_event_units_add_details (&details, event, victim, units);
  ow_cgroup_memory_add_details (memory, &details);
  if (victim != NULL && identity)
    {
      g_variant_dict_insert (&details, OOMWATCH_KEY_PID, "u", victim->pid);
      if (victim->comm != NULL)
        g_variant_dict_insert (&details, OOMWATCH_KEY_COMM, "s", victim->comm);
      if (victim->has_uid)
        g_variant_dict_insert (&details, OOMWATCH_KEY_UID, "u", victim->uid);
      ow_victim_memory_add_details (&victim->memory, &details);
    }
  ow_continuity_add_keys (self->continuity, &details); /* continuity: seq, while-down */
  return g_variant_dict_end (&details);
}

/* The connections that get the signals of CGROUP: its watchers and the monitors; opt-in
 * kinds only to the watchers who asked for them. */
static GPtrArray *
recipients (OwSignalEmitter *self, const char *cgroup, OwEventKind kind)
{
  gboolean on_request = ow_event_kind_info (kind)->opt_in;
  GPtrArray *names = g_ptr_array_new ();
  OwWatch *watch = ow_registry_lookup (self->registry, cgroup);
  GHashTableIter iter;
  const char *name;

  if (watch != NULL)
    {
      g_hash_table_iter_init (&iter, watch->watchers);
      while (g_hash_table_iter_next (&iter, (gpointer *)&name, NULL))
        if (g_strcmp0 (name, OW_PERSISTENT_CLIENT) != 0
            && (on_request || !g_hash_table_contains (self->monitors, name))
            && (!on_request || ow_pressure_wants_event (watch->pressure, name, kind)))
          g_ptr_array_add (names, (gpointer)name);
    }
  if (on_request)
    return names;
  g_hash_table_iter_init (&iter, self->monitors);
  while (g_hash_table_iter_next (&iter, (gpointer *)&name, NULL))
    g_ptr_array_add (names, (gpointer)name);
  return names;
}

static gboolean
may_see_victim (OwSignalEmitter *self, const char *name, OwVictim *victim)
{
  guint32 uid;

  if (g_hash_table_contains (self->monitors, name))
    return TRUE; /* root only */
  if (!ow_registry_get_client_uid (self->registry, name, &uid))
    return FALSE;
  return uid == 0 || (victim->has_uid && victim->uid == uid);
}

static void
send (OwSignalEmitter *self, const char *destination, const char *signal, GVariant *parameters)
{
  g_autoptr (GError) error = NULL;

  if (!g_dbus_connection_emit_signal (self->connection, destination, OOMWATCH_OBJECT_PATH,
                                      OOMWATCH_MANAGER_INTERFACE, signal, parameters, &error))
    g_debug ("Cannot send %s to %s: %s", signal, destination, error->message);
}

void
ow_signal_emitter_event (OwSignalEmitter *self, const char *cgroup, const OwEvent *event,
                         OwVictim *victim)
{
  const char *kind = ow_event_kind_to_string (event->kind);
  g_autoptr (GVariant) open = NULL;
  g_autoptr (GVariant) redacted = NULL;
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (OomwatchUnitInfo) scratch = NULL;
  OwCgroupMemory memory = { 0 };
  const OomwatchUnitInfo *units
      = ow_event_units_for (self->registry, cgroup, event, victim, &scratch);
  gint64 time = g_get_real_time (); /* one time for every copy: live, redacted and History() */

  names = self->connection != NULL ? recipients (self, cgroup, event->kind) : NULL;
  /* Opt-in kinds go only to watchers who asked: with none, there is no signal to number. */
  if (ow_event_kind_info (event->kind)->opt_in && (names == NULL || names->len == 0))
    return;
  ow_continuity_event (self->continuity, cgroup, event); /* continuity: seq */
  /* The cgroup's memory at the kill. Not on "oom": reading four files would delay the one
   * signal sent the moment the kernel tells, and the oom-kill that follows carries it. */
  if (self->cgroups != NULL && event->kind == OW_EVENT_OOM_KILL)
    ow_cgroup_memory_read (self->cgroups, cgroup, &memory);
  if (names != NULL)
    {
      for (guint i = 0; i < names->len; i++)
        {
          const char *name = g_ptr_array_index (names, i);
          gboolean identity = victim != NULL && may_see_victim (self, name, victim);
          GVariant **params = identity ? &open : &redacted;

          if (*params == NULL)
            *params = g_variant_ref_sink (
                g_variant_new ("(sst@a{sv})", cgroup, kind, event->count,
                             event_details (self, event, victim, identity, units, time, &memory)));
          send (self, name, "OomEvent", *params);
        }
    }
  /* Counters saved, history and the journal, for the kinds that are kept. */
  if (!ow_event_kind_info (event->kind)->kept)
    ow_after_send_add (self->after_send, cgroup, event, NULL, NULL, FALSE,
                       ow_continuity_in_while_down (self->continuity));
  else
    ow_after_send_add (self->after_send, cgroup, event, victim,
                       self->continuity != NULL
                           ? ow_continuity_entry (self->continuity, cgroup, event, victim,
                                                  event_details (self, event, victim, TRUE, units,
                                                                 time, &memory))
                           : NULL,
                       !event->logged, ow_continuity_in_while_down (self->continuity));
}

void
ow_signal_emitter_flush (OwSignalEmitter *self)
{
  ow_after_send_flush (self->after_send);
}

void
ow_signal_emitter_pressure (OwSignalEmitter *self, const char *cgroup, const char *level,
                            GPtrArray *watchers, GVariant *details)
{
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  g_autoptr (GVariant) params = NULL;
  GHashTableIter iter;
  const char *name;

  g_variant_dict_init (&dict, g_variant_ref_sink (details));
  g_variant_unref (details);
  ow_continuity_unkept_keys (self->continuity, &dict); /* continuity: seq, not kept in history */
  params = g_variant_ref_sink (
      g_variant_new ("(ss@a{sv})", cgroup, level, g_variant_dict_end (&dict)));
  if (self->connection == NULL)
    return;
  for (guint i = 0; i < watchers->len; i++)
    {
      name = g_ptr_array_index (watchers, i);
      if (g_strcmp0 (name, OW_PERSISTENT_CLIENT) != 0
          && !g_hash_table_contains (self->monitors, name))
        send (self, name, "MemoryPressure", params);
    }
  g_hash_table_iter_init (&iter, self->monitors);
  while (g_hash_table_iter_next (&iter, (gpointer *)&name, NULL))
    send (self, name, "MemoryPressure", params);
}

void
ow_signal_emitter_removed (OwSignalEmitter *self, OwWatch *watch)
{
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (GVariant) params = NULL;

  ow_after_send_flush (self->after_send); /* the history stays in order */
  params = g_variant_ref_sink (g_variant_new (
      "(ss@a{sv})", watch->cgroup, OOMWATCH_REASON_CGROUP_REMOVED,
      ow_continuity_removed (self->continuity, watch->cgroup, /* continuity: details, seq */
                             OOMWATCH_REASON_CGROUP_REMOVED)));

  if (self->connection != NULL)
    {
      names = recipients (self, watch->cgroup, OW_EVENT_OOM);
      for (guint i = 0; i < names->len; i++)
        send (self, g_ptr_array_index (names, i), "WatchRemoved", params);
    }
  ow_event_log_removed (watch->cgroup);
}

void
ow_signal_emitter_set_connection (OwSignalEmitter *self, GDBusConnection *connection)
{
  g_set_object (&self->connection, connection);
}

static void
on_replay (const char *cgroup, const OwEvent *event, gpointer user_data)
{
  ow_signal_emitter_event (user_data, cgroup, event, NULL);
}

static void
on_flush (gpointer user_data)
{
  ow_signal_emitter_flush (user_data);
}

void
ow_signal_emitter_set_continuity (OwSignalEmitter *self, OwContinuity *continuity)
{
  static const OwContinuityListener listener = { on_replay, on_flush };

  self->continuity = continuity;
  ow_after_send_set_continuity (self->after_send, continuity);
  ow_continuity_set_listener (continuity, &listener, self);
}

void
ow_signal_emitter_add_monitor (OwSignalEmitter *self, const char *name)
{
  g_hash_table_add (self->monitors, g_strdup (name));
}

void
ow_signal_emitter_forget (OwSignalEmitter *self, const char *name)
{
  g_hash_table_remove (self->monitors, name);
}

OwSignalEmitter *
ow_signal_emitter_new (OwRegistry *registry, OwHierarchy *hierarchy)
{
  OwSignalEmitter *self = g_new0 (OwSignalEmitter, 1);

  self->registry = registry;
  self->cgroups = hierarchy;
  self->hierarchy = ow_hierarchy_get_version (hierarchy);
  self->monitors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->after_send = ow_after_send_new (registry);
  return self;
}

void
ow_signal_emitter_free (OwSignalEmitter *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->after_send, ow_after_send_free);
  g_clear_object (&self->connection);
  g_hash_table_unref (self->monitors);
  g_free (self);
}
