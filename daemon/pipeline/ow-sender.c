/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-sender.h"
#include "ow-bus-send.h"
#include "ow-str-hash.h"
#include "ow-pressure.h"
#include "oomwatch-details.h"
#include "oomwatch-names.h"

struct _OwSender
{
  OwRegistry *registry; /* borrowed */
  guint hierarchy;
  GDBusConnection *connection;
  GHashTable *monitors; /* unique names of root Monitor() callers */
  GVariant *types;      /* one value of each container type a signal is made of */
};

/* The keys every OomEvent gets from cgroup paths (unit, slice, app-id, container) and an
 * oomd-kill's reason and killed cgroup. None of it is victim identity. */
static void
add_unit_details (GVariantBuilder *details, const OwEvent *event, const OwVictim *victim,
                  const OomwatchUnitInfo *units)
{
  if (event->reason != NULL)
    oomwatch_details_add (details, OOMWATCH_KEY_REASON, g_variant_new_string (event->reason));
  if (victim == NULL && event->task_cgroup != NULL)
    oomwatch_details_add (details, OOMWATCH_KEY_TASK_CGROUP,
                          g_variant_new_string (event->task_cgroup));
  oomwatch_unit_info_add_details (units, details);
}

GVariant *
ow_sender_details (OwSender *self, const OwOomSignal *signal, gboolean identity)
{
  g_auto (GVariantBuilder) details = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  const OwEvent *event = signal->event;
  OwVictim *victim = signal->victim;

  oomwatch_details_add (&details, OOMWATCH_KEY_TIMESTAMP,
                        g_variant_new_uint64 ((guint64)signal->time));
  oomwatch_details_add (&details, OOMWATCH_KEY_HIERARCHY, g_variant_new_uint32 (self->hierarchy));
  if (event->has_total)
    oomwatch_details_add (&details, OOMWATCH_KEY_TOTAL, g_variant_new_uint64 (event->total));
  if (event->has_under_oom)
    oomwatch_details_add (&details, OOMWATCH_KEY_UNDER_OOM,
                          g_variant_new_boolean (event->under_oom));
  if (victim != NULL && victim->task_cgroup != NULL)
    oomwatch_details_add (&details, OOMWATCH_KEY_TASK_CGROUP,
                          g_variant_new_string (victim->task_cgroup));
  if (victim != NULL && victim->oom_cgroup != NULL)
    oomwatch_details_add (&details, OOMWATCH_KEY_OOM_CGROUP,
                          g_variant_new_string (victim->oom_cgroup));
  add_unit_details (&details, event, victim, signal->units);
  ow_cgroup_memory_add_details (signal->memory, &details);
  if (victim != NULL && identity)
    {
      oomwatch_details_add (&details, OOMWATCH_KEY_PID, g_variant_new_uint32 (victim->pid));
      if (victim->comm != NULL)
        oomwatch_details_add (&details, OOMWATCH_KEY_COMM, g_variant_new_string (victim->comm));
      if (victim->has_uid)
        oomwatch_details_add (&details, OOMWATCH_KEY_UID, g_variant_new_uint32 (victim->uid));
      ow_victim_memory_add_details (&victim->memory, &details);
    }
  oomwatch_details_add (&details, OOMWATCH_KEY_SEQ, g_variant_new_uint64 (signal->seq));
  if (event->while_down)
    oomwatch_details_add (&details, OOMWATCH_KEY_WHILE_DOWN, g_variant_new_boolean (TRUE));
  return g_variant_builder_end (&details);
}

GPtrArray *
ow_sender_recipients (OwSender *self, const char *cgroup, OwEventKind kind)
{
  gboolean on_request = ow_event_kind_info (kind)->opt_in;
  GPtrArray *names = g_ptr_array_new ();
  OwWatch *watch = ow_registry_lookup (self->registry, cgroup);
  GHashTableIter iter;
  const char *name;

  if (self->connection == NULL)
    return names;
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
may_see_victim (OwSender *self, const char *name, OwVictim *victim)
{
  guint32 uid;

  if (g_hash_table_contains (self->monitors, name))
    return TRUE; /* root only */
  if (!ow_registry_get_client_uid (self->registry, name, &uid))
    return FALSE;
  return uid == 0 || (victim->has_uid && victim->uid == uid);
}

static void
send (OwSender *self, const char *destination, const char *signal, GVariant *parameters)
{
  g_autoptr (GError) error = NULL;

  if (!ow_bus_emit_signal (self->connection, destination, OOMWATCH_OBJECT_PATH,
                           OOMWATCH_MANAGER_INTERFACE, signal, parameters, &error))
    g_debug ("Cannot send %s to %s: %s", signal, destination, error->message);
}

GVariant *
ow_sender_oom_event (OwSender *self, GPtrArray *names, const OwOomSignal *signal)
{
  const char *kind = ow_event_kind_to_string (signal->event->kind);
  g_autoptr (GVariant) open = NULL;
  g_autoptr (GVariant) redacted = NULL;

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      gboolean identity = signal->victim != NULL && may_see_victim (self, name, signal->victim);
      GVariant **params = identity ? &open : &redacted;

      if (*params == NULL)
        {
          /* A tuple of its fields: g_variant_new() would parse its format string each time. */
          GVariant *fields[] = { g_variant_new_string (signal->cgroup), g_variant_new_string (kind),
                                 g_variant_new_uint64 (signal->event->count),
                                 ow_sender_details (self, signal, identity) };

          *params = g_variant_ref_sink (g_variant_new_tuple (fields, G_N_ELEMENTS (fields)));
        }
      send (self, name, "OomEvent", *params);
    }
  if (open != NULL)
    return g_variant_get_child_value (open, 3);
  /* Without a victim nothing was left out: the copy sent is the complete one. */
  if (signal->victim == NULL && redacted != NULL)
    return g_variant_get_child_value (redacted, 3);
  return NULL;
}

void
ow_sender_pressure (OwSender *self, const char *cgroup, const char *level, GPtrArray *watchers,
                    GVariant *details, guint64 seq)
{
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  g_autoptr (GVariant) params = NULL;
  GHashTableIter iter;
  const char *name;

  g_variant_dict_init (&dict, g_variant_ref_sink (details));
  g_variant_unref (details);
  g_variant_dict_insert (&dict, OOMWATCH_KEY_SEQ, "t", seq);
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
ow_sender_removed (OwSender *self, const char *cgroup, GVariant *details)
{
  g_autoptr (GPtrArray) names = ow_sender_recipients (self, cgroup, OW_EVENT_OOM);
  g_autoptr (GVariant) params = g_variant_ref_sink (
      g_variant_new ("(ss@a{sv})", cgroup, OOMWATCH_REASON_CGROUP_REMOVED, details));

  for (guint i = 0; i < names->len; i++)
    send (self, g_ptr_array_index (names, i), "WatchRemoved", params);
}

void
ow_sender_set_connection (OwSender *self, GDBusConnection *connection)
{
  g_set_object (&self->connection, connection);
}

void
ow_sender_add_monitor (OwSender *self, const char *name)
{
  g_hash_table_add (self->monitors, g_strdup (name));
}

void
ow_sender_forget (OwSender *self, const char *name)
{
  g_hash_table_remove (self->monitors, name);
}

OwSender *
ow_sender_new (OwRegistry *registry, guint hierarchy)
{
  OwSender *self = g_new0 (OwSender, 1);

  self->registry = registry;
  self->hierarchy = hierarchy;
  self->monitors = g_hash_table_new_full (ow_str_hash, g_str_equal, g_free, NULL);
  /* GLib frees what it knows of a container type once no value of that type is left, and
   * builds it again for the next one: a hash table and two dozen allocations per signal. */
  self->types = g_variant_ref_sink (g_variant_new_parsed (
      "(@(ssta{sv}) ('', '', 0, {}), @(ssa{sv}) ('', '', {}), @a{yv} {}, @a(yv) [])"));
  return self;
}

void
ow_sender_free (OwSender *self)
{
  if (self == NULL)
    return;
  g_clear_object (&self->connection);
  g_hash_table_unref (self->monitors);
  g_variant_unref (self->types);
  g_free (self);
}
