#include "ow-manager.h"
#include "ow-kmsg.h"
#include "ow-watch.h"
#include "oomwatch-error.h"
#include "oomwatch-names.h"

#include <string.h>

struct _OwManager
{
  OomwatchManagerSkeleton parent;

  OwHierarchy *hierarchy;
  OwRegistry *registry;
  OwKmsg *kmsg; /* NULL: victims are not named */
  GPtrArray *victims_for_ancestors; /* OwVictim (alive in kmsg ≥ 10 s) */
  guint ancestors_idle_id;
  GDBusConnection *connection;
  guint name_owner_changed_id;
};

static void manager_iface_init (OomwatchManagerIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (OwManager, ow_manager, OOMWATCH_TYPE_MANAGER_SKELETON,
                               G_IMPLEMENT_INTERFACE (OOMWATCH_TYPE_MANAGER, manager_iface_init))

/* Signals */

static void
add_victim_details (GVariantDict *details, const OwVictim *victim)
{
  g_variant_dict_insert (details, OOMWATCH_KEY_PID, "u", victim->pid);
  if (victim->comm != NULL)
    g_variant_dict_insert (details, OOMWATCH_KEY_COMM, "s", victim->comm);
  if (victim->has_uid)
    g_variant_dict_insert (details, OOMWATCH_KEY_UID, "u", victim->uid);
  if (victim->task_cgroup != NULL)
    g_variant_dict_insert (details, OOMWATCH_KEY_TASK_CGROUP, "s", victim->task_cgroup);
  if (victim->oom_cgroup != NULL)
    g_variant_dict_insert (details, OOMWATCH_KEY_OOM_CGROUP, "s", victim->oom_cgroup);
}

static void
emit_event (OwManager *self, const char *cgroup, const OwEvent *event, const OwVictim *victim)
{
  g_auto (GVariantDict) details = G_VARIANT_DICT_INIT (NULL);
  const char *kind = ow_event_kind_to_string (event->kind);

  g_variant_dict_insert (&details, OOMWATCH_KEY_TIMESTAMP, "t", (guint64) g_get_real_time ());
  g_variant_dict_insert (&details, OOMWATCH_KEY_HIERARCHY, "u",
                         ow_hierarchy_get_version (self->hierarchy));
  if (event->has_total)
    g_variant_dict_insert (&details, OOMWATCH_KEY_TOTAL, "t", event->total);
  if (event->has_under_oom)
    g_variant_dict_insert (&details, OOMWATCH_KEY_UNDER_OOM, "b", event->under_oom);
  if (victim != NULL)
    add_victim_details (&details, victim);

  if (victim != NULL)
    g_message ("%s %s count=%" G_GUINT64_FORMAT " pid=%u comm=%s task-cgroup=%s", cgroup, kind,
               event->count, victim->pid, victim->comm, victim->task_cgroup);
  else
    g_message ("%s %s count=%" G_GUINT64_FORMAT, cgroup, kind, event->count);
  oomwatch_manager_emit_oom_event (OOMWATCH_MANAGER (self), cgroup, kind, event->count,
                                   g_variant_dict_end (&details));
}

/* A rise of a kill counter: one signal per victim the kernel log named (the log line comes
 * before the counter rises, so it is read first), and one for the kills it did not name. */
static void
emit_kills (OwManager *self, const char *cgroup, const OwEvent *event)
{
  g_autoptr (GPtrArray) victims = NULL;
  OwEvent part = *event;
  guint64 first_total = event->total - event->count;

  if (self->kmsg == NULL)
    {
      emit_event (self, cgroup, event, NULL);
      return;
    }
  ow_kmsg_drain (self->kmsg);
  victims = ow_kmsg_claim (self->kmsg, cgroup, ow_hierarchy_get_version (self->hierarchy) == 2,
                           event->count);
  for (guint i = 0; i < victims->len; i++)
    {
      part.count = 1;
      part.total = first_total + i + 1;
      emit_event (self, cgroup, &part, g_ptr_array_index (victims, i));
    }
  if (event->count > victims->len)
    {
      part.count = event->count - victims->len;
      part.total = event->total;
      emit_event (self, cgroup, &part, NULL);
    }
}

static void
on_registry_event (OwWatch *watch, const OwEvent *event, gpointer user_data)
{
  OwManager *self = user_data;

  if (event->kind == OW_EVENT_OOM_KILL)
    emit_kills (self, watch->cgroup, event);
  else
    emit_event (self, watch->cgroup, event, NULL);
}

static void
on_registry_removed (const char *cgroup, gpointer user_data)
{
  OwManager *self = user_data;

  g_message ("%s removed", cgroup);
  oomwatch_manager_emit_watch_removed (OOMWATCH_MANAGER (self), cgroup,
                                       OOMWATCH_REASON_CGROUP_REMOVED);
}

static const OwRegistryCallbacks registry_callbacks = {
  .event = on_registry_event,
  .removed = on_registry_removed,
};

static void
report_to_ancestors (OwManager *self, OwVictim *victim)
{
  OwEvent event = { .kind = OW_EVENT_OOM_KILL, .count = 1 };
  g_autofree char *ancestor = g_strdup (victim->task_cgroup);

  while (strcmp (ancestor, "/") != 0)
    {
      char *slash = strrchr (ancestor, '/');

      slash[slash == ancestor ? 1 : 0] = '\0';
      if (ow_registry_lookup (self->registry, ancestor) != NULL && ow_victim_claim (victim, ancestor))
        emit_event (self, ancestor, &event, victim);
    }
}

static gboolean
on_ancestors_idle (gpointer user_data)
{
  OwManager *self = user_data;

  self->ancestors_idle_id = 0;
  for (guint i = 0; i < self->victims_for_ancestors->len; i++)
    report_to_ancestors (self, g_ptr_array_index (self->victims_for_ancestors, i));
  g_ptr_array_set_size (self->victims_for_ancestors, 0);
  return G_SOURCE_REMOVE;
}

/* cgroup v1 counts a kill only in the victim's own cgroup; watched ancestors hear of it from
 * the kernel log, so that oom-kill means "in this cgroup or below" on both hierarchies. The
 * report waits for an idle moment at low priority: the eventfds of the incident were signalled
 * before the kill was logged, so their "oom" goes out first. */
static void
on_victim (OwVictim *victim, gpointer user_data)
{
  OwManager *self = user_data;

  if (ow_hierarchy_get_version (self->hierarchy) != 1 || victim->task_cgroup == NULL
      || victim->task_cgroup[0] != '/')
    return;
  g_ptr_array_add (self->victims_for_ancestors, victim);
  if (self->ancestors_idle_id == 0)
    self->ancestors_idle_id = g_idle_add_full (G_PRIORITY_LOW, on_ancestors_idle, self, NULL);
}

static void
on_name_owner_changed (GDBusConnection *connection,
                       const char *sender,
                       const char *path,
                       const char *interface,
                       const char *signal,
                       GVariant *parameters,
                       gpointer user_data)
{
  OwManager *self = user_data;
  const char *name, *old_owner, *new_owner;

  g_variant_get (parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
  if (new_owner[0] == '\0')
    ow_registry_drop_client (self->registry, name);
}

/* Watch() */

typedef struct
{
  gboolean recursive;
} WatchOptions;

static gboolean
parse_options (GVariant *options, WatchOptions *parsed, GError **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *boxed;

  memset (parsed, 0, sizeof *parsed);
  g_variant_iter_init (&iter, options);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &boxed))
    {
      g_autoptr (GVariant) value = boxed;
      g_autofree char *shown = g_strescape (key, NULL);

      if (strcmp (key, OOMWATCH_KEY_RECURSIVE) != 0)
        {
          g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "Unknown option '%.200s'",
                       shown);
          return FALSE;
        }
      if (!g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
        {
          g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                       "Option '%s' must be a boolean (b), not '%s'", shown,
                       g_variant_get_type_string (value));
          return FALSE;
        }
      parsed->recursive = g_variant_get_boolean (value);
    }
  return TRUE;
}

typedef struct
{
  OwManager *manager;
  GDBusMethodInvocation *invocation;
  char *cgroup;
  WatchOptions options;
} PendingWatch;

static void
pending_watch_free (PendingWatch *pending)
{
  g_object_unref (pending->manager);
  g_object_unref (pending->invocation);
  g_free (pending->cgroup);
  g_free (pending);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PendingWatch, pending_watch_free)

static void
complete_watch (OwManager *self, GDBusMethodInvocation *invocation, const char *cgroup,
                const WatchOptions *options)
{
  const char *name = g_dbus_method_invocation_get_sender (invocation);
  g_autoptr (GError) error = NULL;

  if (!ow_registry_watch (self->registry, name, cgroup, options->recursive, &error))
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    oomwatch_manager_complete_watch (OOMWATCH_MANAGER (self), invocation, cgroup);
}

static void
on_caller_uid (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PendingWatch) pending = user_data;
  const char *name = g_dbus_method_invocation_get_sender (pending->invocation);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  guint32 uid;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply == NULL)
    {
      g_dbus_method_invocation_return_error (pending->invocation, OOMWATCH_ERROR,
                                             OOMWATCH_ERROR_FAILED,
                                             "Cannot identify the caller %s: %s", name,
                                             error->message);
      return;
    }
  g_variant_get (reply, "(u)", &uid);
  ow_registry_set_client_uid (pending->manager->registry, name, uid);
  complete_watch (pending->manager, pending->invocation, pending->cgroup, &pending->options);
}

static gboolean
handle_watch (OomwatchManager *object,
              GDBusMethodInvocation *invocation,
              const char *cgroup,
              GVariant *options)
{
  OwManager *self = OW_MANAGER (object);
  const char *name = g_dbus_method_invocation_get_sender (invocation);
  g_autoptr (GError) error = NULL;
  g_autofree char *canonical = NULL;
  PendingWatch *pending;
  WatchOptions parsed;
  guint32 uid;

  canonical = ow_hierarchy_canonicalize (self->hierarchy, cgroup, &error);
  if (canonical == NULL || !parse_options (options, &parsed, &error))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (ow_registry_get_client_uid (self->registry, name, &uid))
    {
      complete_watch (self, invocation, canonical, &parsed);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  /* The limit depends on who calls: ask the bus, without blocking the loop. */
  pending = g_new0 (PendingWatch, 1);
  pending->manager = g_object_ref (self);
  pending->invocation = g_object_ref (invocation);
  pending->cgroup = g_steal_pointer (&canonical);
  pending->options = parsed;
  g_dbus_connection_call (g_dbus_method_invocation_get_connection (invocation),
                          "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                          "GetConnectionUnixUser", g_variant_new ("(s)", name),
                          G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_caller_uid,
                          pending);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Unwatch() */

static gboolean
handle_unwatch (OomwatchManager *object, GDBusMethodInvocation *invocation, const char *cgroup)
{
  OwManager *self = OW_MANAGER (object);
  const char *name = g_dbus_method_invocation_get_sender (invocation);
  g_autoptr (GError) error = NULL;
  g_autofree char *canonical = NULL;

  canonical = ow_hierarchy_canonicalize (self->hierarchy, cgroup, &error);
  if (canonical == NULL || !ow_registry_unwatch (self->registry, name, canonical, &error))
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    oomwatch_manager_complete_unwatch (object, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ListWatches() */

static gboolean
handle_list_watches (OomwatchManager *object, GDBusMethodInvocation *invocation)
{
  OwManager *self = OW_MANAGER (object);

  oomwatch_manager_complete_list_watches (object, invocation,
                                          ow_registry_describe (self->registry));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
manager_iface_init (OomwatchManagerIface *iface)
{
  iface->handle_watch = handle_watch;
  iface->handle_unwatch = handle_unwatch;
  iface->handle_list_watches = handle_list_watches;
}

/* Object life */

static void
ow_manager_finalize (GObject *object)
{
  OwManager *self = OW_MANAGER (object);

  ow_manager_unexport (self);
  g_clear_handle_id (&self->ancestors_idle_id, g_source_remove);
  g_clear_pointer (&self->victims_for_ancestors, g_ptr_array_unref);
  g_clear_pointer (&self->registry, ow_registry_free);
  g_clear_pointer (&self->kmsg, ow_kmsg_free);
  g_clear_pointer (&self->hierarchy, ow_hierarchy_free);
  G_OBJECT_CLASS (ow_manager_parent_class)->finalize (object);
}

static void
ow_manager_class_init (OwManagerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ow_manager_finalize;
}

static void
ow_manager_init (OwManager *self)
{
  self->victims_for_ancestors = g_ptr_array_new ();
}

OwManager *
ow_manager_new (OwHierarchy *hierarchy, const OwLimits *limits, const char *kernel_log)
{
  OwManager *self = g_object_new (OW_TYPE_MANAGER, NULL);
  g_autoptr (GError) error = NULL;

  self->hierarchy = hierarchy;
  self->registry = ow_registry_new (hierarchy, limits, &registry_callbacks, self);
  if (kernel_log != NULL)
    {
      self->kmsg = ow_kmsg_new (kernel_log, on_victim, self, &error);
      if (self->kmsg == NULL)
        g_warning ("Victims will not be named: %s", error->message);
    }
  oomwatch_manager_set_version (OOMWATCH_MANAGER (self), OOMWATCH_VERSION);
  oomwatch_manager_set_hierarchy (OOMWATCH_MANAGER (self), ow_hierarchy_get_version (hierarchy));
  oomwatch_manager_set_mount_point (OOMWATCH_MANAGER (self),
                                    ow_hierarchy_get_mount_point (hierarchy) ?: "");
  oomwatch_manager_set_kernel_log (OOMWATCH_MANAGER (self), self->kmsg != NULL);
  return self;
}

gboolean
ow_manager_export (OwManager *self, GDBusConnection *connection, GError **error)
{
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self), connection,
                                         OOMWATCH_OBJECT_PATH, error))
    return FALSE;
  self->connection = g_object_ref (connection);
  /* One subscription for every client: per-name watches would each cost a match rule, and
   * the bus caps those per connection. */
  self->name_owner_changed_id = g_dbus_connection_signal_subscribe (
      connection, "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
      "/org/freedesktop/DBus", NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_name_owner_changed, self, NULL);
  return TRUE;
}

void
ow_manager_unexport (OwManager *self)
{
  if (self->connection == NULL)
    return;
  g_dbus_connection_signal_unsubscribe (self->connection, self->name_owner_changed_id);
  self->name_owner_changed_id = 0;
  if (g_dbus_interface_skeleton_has_connection (G_DBUS_INTERFACE_SKELETON (self),
                                                self->connection))
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self));
  g_clear_object (&self->connection);
}
