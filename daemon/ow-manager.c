#include "ow-manager.h"
#include "ow-watch.h"
#include "oomwatch-error.h"
#include "oomwatch-names.h"

struct _OwManager
{
  OomwatchManagerSkeleton parent;

  OwHierarchy *hierarchy;
  OwLimits limits;
  GHashTable *watches; /* canonical cgroup → OwWatch */
  GHashTable *clients; /* unique bus name → OwClient */
  GDBusConnection *connection;
  guint name_owner_changed_id;
};

/* A connection that holds at least one watch (or is being given its first). */
typedef struct
{
  gboolean uid_known;
  guint32 uid;
  GHashTable *cgroups; /* set of canonical paths */
} OwClient;

static void manager_iface_init (OomwatchManagerIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (OwManager, ow_manager, OOMWATCH_TYPE_MANAGER_SKELETON,
                               G_IMPLEMENT_INTERFACE (OOMWATCH_TYPE_MANAGER, manager_iface_init))

static void
client_free (gpointer data)
{
  OwClient *client = data;

  g_hash_table_unref (client->cgroups);
  g_free (client);
}

static OwClient *
ensure_client (OwManager *self, const char *name)
{
  OwClient *client = g_hash_table_lookup (self->clients, name);

  if (client == NULL)
    {
      client = g_new0 (OwClient, 1);
      client->cgroups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_hash_table_insert (self->clients, g_strdup (name), client);
    }
  return client;
}

static void
forget_client_if_idle (OwManager *self, const char *name)
{
  OwClient *client = g_hash_table_lookup (self->clients, name);

  if (client != NULL && g_hash_table_size (client->cgroups) == 0)
    g_hash_table_remove (self->clients, name);
}

/* Event sources call back here. */

static void
on_source_event (const OwEvent *event, gpointer user_data)
{
  OwWatch *watch = user_data;
  OwManager *self = watch->owner;
  guint hierarchy = ow_hierarchy_get_version (self->hierarchy);
  g_auto (GVariantDict) details = G_VARIANT_DICT_INIT (NULL);
  const char *kind = ow_event_kind_to_string (event->kind);

  ow_watch_count (watch, event);
  g_variant_dict_insert (&details, OOMWATCH_KEY_TIMESTAMP, "t", (guint64) g_get_real_time ());
  g_variant_dict_insert (&details, OOMWATCH_KEY_HIERARCHY, "u", hierarchy);
  if (event->has_total)
    g_variant_dict_insert (&details, OOMWATCH_KEY_TOTAL, "t", event->total);
  if (event->has_under_oom)
    g_variant_dict_insert (&details, OOMWATCH_KEY_UNDER_OOM, "b", event->under_oom);

  g_message ("%s %s count=%" G_GUINT64_FORMAT, watch->cgroup, kind, event->count);
  oomwatch_manager_emit_oom_event (OOMWATCH_MANAGER (self), watch->cgroup, kind, event->count,
                                   g_variant_dict_end (&details));
}

static void
on_source_removed (gpointer user_data)
{
  OwWatch *watch = user_data;
  OwManager *self = watch->owner;
  g_autofree char *cgroup = g_strdup (watch->cgroup);
  GHashTableIter iter;
  const char *name;

  g_message ("%s removed", cgroup);
  g_hash_table_iter_init (&iter, watch->watchers);
  while (g_hash_table_iter_next (&iter, (gpointer *) &name, NULL))
    {
      OwClient *client = g_hash_table_lookup (self->clients, name);

      if (client != NULL)
        g_hash_table_remove (client->cgroups, cgroup);
      forget_client_if_idle (self, name);
    }
  g_hash_table_remove (self->watches, cgroup);
  oomwatch_manager_emit_watch_removed (OOMWATCH_MANAGER (self), cgroup,
                                       OOMWATCH_REASON_CGROUP_REMOVED);
}

static const OwSourceCallbacks source_callbacks = {
  .event = on_source_event,
  .removed = on_source_removed,
};

static void
drop_watcher (OwManager *self, const char *cgroup, const char *name)
{
  OwWatch *watch = g_hash_table_lookup (self->watches, cgroup);
  OwClient *client = g_hash_table_lookup (self->clients, name);

  if (client != NULL)
    g_hash_table_remove (client->cgroups, cgroup);
  if (watch == NULL)
    return;
  g_hash_table_remove (watch->watchers, name);
  if (g_hash_table_size (watch->watchers) == 0)
    {
      g_debug ("%s: last watcher gone, closing the registration", cgroup);
      g_hash_table_remove (self->watches, cgroup);
    }
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
  OwClient *client;
  g_autofree GStrv cgroups = NULL;

  g_variant_get (parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
  if (new_owner[0] != '\0')
    return;
  client = g_hash_table_lookup (self->clients, name);
  if (client == NULL)
    return;

  g_debug ("client %s went away, dropping its %u watches", name,
           g_hash_table_size (client->cgroups));
  cgroups = (GStrv) g_hash_table_get_keys_as_array (client->cgroups, NULL);
  for (gsize i = 0; cgroups[i] != NULL; i++)
    {
      g_autofree char *cgroup = g_strdup (cgroups[i]);

      drop_watcher (self, cgroup, name);
    }
  g_hash_table_remove (self->clients, name);
}

/* Watch() */

static gboolean
check_options (GVariant *options, GError **error)
{
  GVariantIter iter;
  const char *key;

  g_variant_iter_init (&iter, options);
  if (g_variant_iter_next (&iter, "{&sv}", &key, NULL))
    {
      g_autofree char *shown = g_strescape (key, NULL);

      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "Unknown option '%.200s'",
                   shown);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_limits (OwManager *self, OwClient *client, const char *name, const char *cgroup,
              GError **error)
{
  if (client->uid != 0 && g_hash_table_size (client->cgroups) >= self->limits.client_watch_limit)
    {
      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_LIMIT_EXCEEDED,
                   "Cannot watch '%s': connection %s already holds %u watches, the limit for "
                   "callers that are not root",
                   cgroup, name, self->limits.client_watch_limit);
      return FALSE;
    }
  if (!g_hash_table_contains (self->watches, cgroup)
      && g_hash_table_size (self->watches) >= self->limits.total_watch_limit)
    {
      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_LIMIT_EXCEEDED,
                   "Cannot watch '%s': the daemon already watches %u cgroups, its limit", cgroup,
                   self->limits.total_watch_limit);
      return FALSE;
    }
  return TRUE;
}

static gboolean
add_watch (OwManager *self, const char *name, const char *cgroup, GError **error)
{
  OwClient *client = g_hash_table_lookup (self->clients, name);
  OwWatch *watch;

  if (g_hash_table_contains (client->cgroups, cgroup))
    return TRUE;
  if (!check_limits (self, client, name, cgroup, error))
    return FALSE;

  watch = g_hash_table_lookup (self->watches, cgroup);
  if (watch == NULL)
    {
      g_autoptr (OwWatch) created = ow_watch_new (cgroup, self);

      created->source = ow_hierarchy_create_source (self->hierarchy, cgroup, &source_callbacks,
                                                    created, error);
      if (created->source == NULL)
        return FALSE;
      g_debug ("%s: registered with the kernel", cgroup);
      watch = g_steal_pointer (&created);
      g_hash_table_insert (self->watches, watch->cgroup, watch);
    }
  g_hash_table_add (watch->watchers, g_strdup (name));
  g_hash_table_add (client->cgroups, g_strdup (cgroup));
  return TRUE;
}

typedef struct
{
  OwManager *manager;
  GDBusMethodInvocation *invocation;
  char *cgroup;
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
complete_watch (OwManager *self, GDBusMethodInvocation *invocation, const char *cgroup)
{
  const char *name = g_dbus_method_invocation_get_sender (invocation);
  g_autoptr (GError) error = NULL;

  if (!add_watch (self, name, cgroup, &error))
    {
      forget_client_if_idle (self, name);
      g_dbus_method_invocation_return_gerror (invocation, error);
      return;
    }
  oomwatch_manager_complete_watch (OOMWATCH_MANAGER (self), invocation, cgroup);
}

static void
on_caller_uid (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PendingWatch) pending = user_data;
  const char *name = g_dbus_method_invocation_get_sender (pending->invocation);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  OwClient *client;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply == NULL)
    {
      g_dbus_method_invocation_return_error (pending->invocation, OOMWATCH_ERROR,
                                             OOMWATCH_ERROR_FAILED,
                                             "Cannot identify the caller %s: %s", name,
                                             error->message);
      return;
    }
  client = ensure_client (pending->manager, name);
  g_variant_get (reply, "(u)", &client->uid);
  client->uid_known = TRUE;
  complete_watch (pending->manager, pending->invocation, pending->cgroup);
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
  OwClient *client;
  PendingWatch *pending;

  canonical = ow_hierarchy_canonicalize (self->hierarchy, cgroup, &error);
  if (canonical == NULL || !check_options (options, &error))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  client = g_hash_table_lookup (self->clients, name);
  if (client != NULL && client->uid_known)
    {
      complete_watch (self, invocation, canonical);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  /* The limit depends on who calls: ask the bus, without blocking the loop. */
  pending = g_new0 (PendingWatch, 1);
  pending->manager = g_object_ref (self);
  pending->invocation = g_object_ref (invocation);
  pending->cgroup = g_steal_pointer (&canonical);
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
  OwClient *client;

  canonical = ow_hierarchy_canonicalize (self->hierarchy, cgroup, &error);
  if (canonical == NULL)
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  client = g_hash_table_lookup (self->clients, name);
  if (client == NULL || !g_hash_table_contains (client->cgroups, canonical))
    {
      g_dbus_method_invocation_return_error (invocation, OOMWATCH_ERROR,
                                             OOMWATCH_ERROR_NOT_WATCHED,
                                             "Cgroup '%s' is not watched by this connection (%s)",
                                             canonical, name);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  drop_watcher (self, canonical, name);
  forget_client_if_idle (self, name);
  oomwatch_manager_complete_unwatch (object, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ListWatches() */

static gboolean
handle_list_watches (OomwatchManager *object, GDBusMethodInvocation *invocation)
{
  OwManager *self = OW_MANAGER (object);
  guint hierarchy = ow_hierarchy_get_version (self->hierarchy);
  g_autoptr (GList) cgroups = g_hash_table_get_keys (self->watches);
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sa{sv})"));
  cgroups = g_list_sort (cgroups, (GCompareFunc) g_strcmp0);
  for (GList *l = cgroups; l != NULL; l = l->next)
    g_variant_builder_add_value (&builder,
                                 ow_watch_describe (g_hash_table_lookup (self->watches, l->data),
                                                    hierarchy));
  oomwatch_manager_complete_list_watches (object, invocation, g_variant_builder_end (&builder));
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
  /* Freeing the watches closes every kernel registration. */
  g_clear_pointer (&self->watches, g_hash_table_unref);
  g_clear_pointer (&self->clients, g_hash_table_unref);
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
  self->watches = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) ow_watch_free);
  self->clients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, client_free);
}

OwManager *
ow_manager_new (OwHierarchy *hierarchy, const OwLimits *limits)
{
  OwManager *self = g_object_new (OW_TYPE_MANAGER, NULL);

  self->hierarchy = hierarchy;
  self->limits = *limits;
  oomwatch_manager_set_version (OOMWATCH_MANAGER (self), OOMWATCH_VERSION);
  oomwatch_manager_set_hierarchy (OOMWATCH_MANAGER (self), ow_hierarchy_get_version (hierarchy));
  oomwatch_manager_set_mount_point (OOMWATCH_MANAGER (self),
                                    ow_hierarchy_get_mount_point (hierarchy) ?: "");
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
