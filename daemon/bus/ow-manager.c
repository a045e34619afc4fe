/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-manager.h"
#include "ow-bus-guard.h"
#include "ow-bus-send.h"
#include "ow-caller.h"
#include "ow-continuity.h"
#include "ow-history-methods.h"
#include "ow-fd-mux.h"
#include "ow-registry.h"
#include "ow-dispatcher.h"
#include "ow-source-factory.h"
#include "ow-watch-options.h"
#include "oomwatch-error.h"
#include "oomwatch-names.h"

struct _OwManager
{
  OomwatchManagerSkeleton parent;

  OwHierarchy *hierarchy;
  OwFdMux *mux;
  OwSourceContext context; /* for the sources: outlives the registry */
  OwRegistry *registry;
  OwDispatcher *dispatcher; /* the event pipeline */
  OwBusGuard *guard;
  char *config_path;
  char *kernel_log_path;
  OwConfig *overrides;
  guint fd_watch_limit;
  OwFdBudget *fd_budget; /* for the sources: outlives the registry */
  OwKillWait *kill_wait; /* for the sources: outlives the registry */
  GDBusConnection *connection;
  guint name_owner_changed_id;
  OwOomd *oomd;             /* systemd-oomd's kills */
  OwContinuity *continuity; /* continuity: seq, history, saved counters, metrics */
};

static void manager_iface_init (OomwatchManagerIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (OwManager, ow_manager, OOMWATCH_TYPE_MANAGER_SKELETON,
                               G_IMPLEMENT_INTERFACE (OOMWATCH_TYPE_MANAGER, manager_iface_init))

static void
on_name_owner_changed (GDBusConnection *connection, const char *sender, const char *path,
                       const char *interface, const char *signal, GVariant *parameters,
                       gpointer user_data)
{
  OwManager *self = user_data;
  const char *name, *old_owner, *new_owner;

  g_variant_get (parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
  if (new_owner[0] != '\0' || name[0] != ':')
    return;
  ow_registry_drop_client (self->registry, name);
  ow_dispatcher_forget (self->dispatcher, name);
  ow_bus_guard_forget (self->guard, name);
}

static gboolean
refuse_non_root (GDBusMethodInvocation *invocation, guint32 uid, const char *what)
{
  if (uid == 0)
    return FALSE;
  g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                                         "Only root may %s (caller uid %u)", what, uid);
  return TRUE;
}

/* Watch() */

static void
complete_watch (GObject *owner, GDBusMethodInvocation *invocation, guint32 uid, gpointer data)
{
  OwManager *self = OW_MANAGER (owner);
  OwWatchRequest *request = data;
  const char *name = g_dbus_method_invocation_get_sender (invocation);
  g_autoptr (GError) error = NULL;

  if (!ow_registry_watch_full (self->registry, name, uid, request->cgroup, request->recursive,
                               &request->ask, &error))
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    ow_bus_return_value (invocation, g_variant_new ("(s)", request->cgroup));
}

static gboolean
handle_watch (OomwatchManager *object, GDBusMethodInvocation *invocation, const char *cgroup,
              GVariant *options)
{
  OwManager *self = OW_MANAGER (object);
  g_autoptr (GError) error = NULL;
  OwWatchRequest *request = g_new0 (OwWatchRequest, 1);

  if (!ow_watch_request_parse (options, ow_hierarchy_get_version (self->hierarchy), request, &error)
      || (request->cgroup = ow_hierarchy_canonicalize (self->hierarchy, cgroup, &error)) == NULL)
    {
      ow_watch_request_free (request);
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  ow_caller_with_uid (self->guard, G_OBJECT (self), invocation, complete_watch, request,
                      ow_watch_request_free);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Unwatch(): the caller's own watch; root may also drop a persistent watch until the next
 * reload. */

static void
complete_unwatch (GObject *owner, GDBusMethodInvocation *invocation, guint32 uid, gpointer data)
{
  OwManager *self = OW_MANAGER (owner);
  const char *cgroup = data;
  const char *name = g_dbus_method_invocation_get_sender (invocation);
  g_autoptr (GError) error = NULL;

  if (ow_registry_unwatch (self->registry, name, cgroup, &error)
      || (uid == 0 && ow_registry_unwatch (self->registry, OW_PERSISTENT_CLIENT, cgroup, NULL)))
    oomwatch_manager_complete_unwatch (OOMWATCH_MANAGER (self), invocation);
  else
    g_dbus_method_invocation_return_gerror (invocation, error);
}

static gboolean
handle_unwatch (OomwatchManager *object, GDBusMethodInvocation *invocation, const char *cgroup)
{
  OwManager *self = OW_MANAGER (object);
  g_autoptr (GError) error = NULL;
  char *canonical = ow_hierarchy_canonicalize (self->hierarchy, cgroup, &error);

  if (canonical == NULL)
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    ow_caller_with_uid (self->guard, G_OBJECT (self), invocation, complete_unwatch, canonical,
                        g_free);
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

/* Reload() */

static void
complete_reload (GObject *owner, GDBusMethodInvocation *invocation, guint32 uid, gpointer data)
{
  OwManager *self = OW_MANAGER (owner);
  g_autoptr (GError) error = NULL;

  if (refuse_non_root (invocation, uid, "reload the configuration"))
    return;
  if (!ow_manager_reload (self, &error))
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    oomwatch_manager_complete_reload (OOMWATCH_MANAGER (self), invocation);
}

static gboolean
handle_reload (OomwatchManager *object, GDBusMethodInvocation *invocation)
{
  ow_caller_with_uid (OW_MANAGER (object)->guard, G_OBJECT (object), invocation, complete_reload,
                      NULL, NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Monitor() */

static void
complete_monitor (GObject *owner, GDBusMethodInvocation *invocation, guint32 uid, gpointer data)
{
  OwManager *self = OW_MANAGER (owner);
  if (refuse_non_root (invocation, uid, "monitor every event"))
    return;
  ow_dispatcher_add_monitor (self->dispatcher, g_dbus_method_invocation_get_sender (invocation));
  oomwatch_manager_complete_monitor (OOMWATCH_MANAGER (self), invocation);
}

static gboolean
handle_monitor (OomwatchManager *object, GDBusMethodInvocation *invocation)
{
  ow_caller_with_uid (OW_MANAGER (object)->guard, G_OBJECT (object), invocation, complete_monitor,
                      NULL, NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* History() and Metrics() */

static gboolean
handle_history (OomwatchManager *object, GDBusMethodInvocation *invocation, guint64 after,
                GVariant *options)
{
  OwManager *self = OW_MANAGER (object);

  return ow_history_handle_history (self->continuity, self->guard, G_OBJECT (self), invocation,
                                    after, options);
}

static gboolean
handle_metrics (OomwatchManager *object, GDBusMethodInvocation *invocation, GVariant *options)
{
  OwManager *self = OW_MANAGER (object);

  return ow_history_handle_metrics (self->continuity, invocation, options);
}

static void
manager_iface_init (OomwatchManagerIface *iface)
{
  iface->handle_watch = handle_watch;
  iface->handle_unwatch = handle_unwatch;
  iface->handle_list_watches = handle_list_watches;
  iface->handle_reload = handle_reload;
  iface->handle_monitor = handle_monitor;
  iface->handle_history = handle_history;
  iface->handle_metrics = handle_metrics;
}

/* Object life */

static void
ow_manager_finalize (GObject *object)
{
  OwManager *self = OW_MANAGER (object);

  ow_manager_unexport (self);
  /* Users first: the dispatcher uses the registry and continuity, continuity the registry,
   * the registry's sources the mux. */
  g_clear_pointer (&self->dispatcher, ow_dispatcher_free);
  g_clear_pointer (&self->continuity, ow_continuity_free);
  g_clear_pointer (&self->registry, ow_registry_free);
  g_clear_pointer (&self->mux, ow_fd_mux_free);
  g_clear_pointer (&self->fd_budget, ow_fd_budget_free);
  g_clear_pointer (&self->kill_wait, ow_kill_wait_free);
  g_clear_pointer (&self->context.container_names, ow_container_names_free);
  g_clear_pointer (&self->hierarchy, ow_hierarchy_free);
  g_clear_pointer (&self->guard, ow_bus_guard_free);
  g_clear_pointer (&self->overrides, ow_config_free);
  g_free (self->config_path);
  g_free (self->kernel_log_path);
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
  self->guard = ow_bus_guard_new ();
}

/* Configuration */

/* Reads the configuration again and applies it; on any error nothing changes. */
gboolean
ow_manager_reload (OwManager *self, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (OwConfig) config = ow_config_load (self->config_path, &local);
  g_auto (GStrv) plain = NULL;
  g_auto (GStrv) recursive = NULL;
  OwSettings settings;
  OwLimits limits;
  gboolean kernel_log;

  if (config == NULL)
    {
      g_warning ("Keeping the previous configuration: %s", local->message);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  ow_config_merge (config, self->overrides, self->fd_watch_limit, &settings);
  limits.client_watch_limit = settings.client_watch_limit;
  limits.total_watch_limit = settings.total_watch_limit;
  ow_registry_set_limits (self->registry, &limits);
  kernel_log = ow_dispatcher_set_kernel_log (self->dispatcher, settings.kernel_log);
  oomwatch_manager_set_kernel_log (OOMWATCH_MANAGER (self), kernel_log);
  /* Watches keep the names they have; new lookups read the directories configured now. */
  g_clear_pointer (&self->context.container_names, ow_container_names_free);
  self->context.container_names
      = ow_container_names_new (config->pod_log_directory, config->container_log_directory);
  ow_continuity_configure (self->continuity,
                           config->history_size >= 0 ? (guint)config->history_size
                                                     : OW_DEFAULT_HISTORY_SIZE,
                           config->metrics_file);
  ow_continuity_set_metrics_retention (self->continuity, config->metrics_retention);
  if (ow_hierarchy_get_version (self->hierarchy) != 0)
    {
      plain = ow_hierarchy_canonicalize_all (self->hierarchy, config->watches);
      recursive = ow_hierarchy_canonicalize_all (self->hierarchy, config->recursive_watches);
      ow_registry_set_persistent (self->registry, (const char *const *)plain,
                                  (const char *const *)recursive);
    }
  g_message ("%s %s%s: %u watches per uid, %u in all, kernel log %s, %u persistent watches",
             config->read ? "Configuration from" : "Built-in configuration (no", self->config_path,
             config->read ? "" : ")", limits.client_watch_limit, limits.total_watch_limit,
             kernel_log ? "read" : "not read",
             plain != NULL ? g_strv_length (plain) + g_strv_length (recursive) : 0);
  return TRUE;
}

OwManager *
ow_manager_new (OwHierarchy *hierarchy, const OwManagerSettings *settings, GError **error)
{
  g_autoptr (OwManager) self = g_object_new (OW_TYPE_MANAGER, NULL);
  const OwLimits no_limits = { 0, 0 };
  guint version = ow_hierarchy_get_version (hierarchy);

  self->hierarchy = hierarchy;
  self->config_path = g_strdup (settings->config_path);
  self->kernel_log_path = g_strdup (settings->kernel_log_path);
  self->overrides = ow_config_new (); /* only the scalar settings can be overridden */
  self->overrides->client_watch_limit = settings->overrides->client_watch_limit;
  self->overrides->total_watch_limit = settings->overrides->total_watch_limit;
  self->overrides->kernel_log = settings->overrides->kernel_log;
  self->fd_watch_limit = settings->fd_watch_limit;
  /* Made now, not at the first watch: a fixed cost, so fd counts stay flat per watch. */
  self->mux = ow_fd_mux_new (error);
  if (self->mux == NULL)
    return NULL;
  self->context.hierarchy = hierarchy;
  self->context.mux = self->mux;
  self->context.fd_budget = self->fd_budget
      = ow_fd_budget_new (self->fd_watch_limit, OW_FD_LOANS_MAX);
  self->context.kernel_log_path = self->kernel_log_path;
  self->context.kill_wait = self->kill_wait = ow_kill_wait_new ();
  self->context.factory = ow_source_new;
  self->dispatcher = ow_dispatcher_new (hierarchy, self->kernel_log_path, self->kill_wait);
  self->registry = ow_registry_new (&self->context, &no_limits, &ow_dispatcher_registry_listener,
                                    self->dispatcher);
  self->continuity = ow_continuity_new (settings->runtime_dir ?: OW_DEFAULT_RUNTIME_DIR,
                                        OW_BOOT_ID_PATH, hierarchy, self->registry,
                                        &ow_dispatcher_continuity_listener, self->dispatcher, error);
  if (self->continuity == NULL)
    return NULL;
  ow_dispatcher_attach (self->dispatcher, self->registry, self->continuity);
  oomwatch_manager_set_version (OOMWATCH_MANAGER (self), OOMWATCH_VERSION);
  oomwatch_manager_set_hierarchy (OOMWATCH_MANAGER (self), version);
  oomwatch_manager_set_mount_point (OOMWATCH_MANAGER (self),
                                    ow_hierarchy_get_mount_point (hierarchy) ?: "");
  if (!ow_manager_reload (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

gboolean
ow_manager_export (OwManager *self, GDBusConnection *connection, GError **error)
{
  /* The guard sees every message before it is queued: attach it before anyone can call. */
  ow_bus_guard_attach (self->guard, connection);
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self), connection,
                                         OOMWATCH_OBJECT_PATH, error))
    return FALSE;
  self->connection = g_object_ref (connection);
  ow_dispatcher_set_connection (self->dispatcher, connection);
  self->oomd = ow_oomd_new (connection, self->registry, &ow_dispatcher_oomd_listener,
                            self->dispatcher);
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
  g_clear_pointer (&self->oomd, ow_oomd_free);
  if (self->dispatcher != NULL)
    ow_dispatcher_set_connection (self->dispatcher, NULL);
  ow_bus_guard_detach (self->guard);
  if (g_dbus_interface_skeleton_has_connection (G_DBUS_INTERFACE_SKELETON (self), self->connection))
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self));
  g_clear_object (&self->connection);
}
