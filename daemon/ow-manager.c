#include "ow-manager.h"
#include "ow-event-log.h"
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
  char *config_path;
  char *kernel_log_path;
  OwConfig *overrides;
  guint fd_watch_limit;
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

  /* The signal first: the journal record is no client's latency (bench, issue 13). */
  oomwatch_manager_emit_oom_event (OOMWATCH_MANAGER (self), cgroup, kind, event->count,
                                   g_variant_dict_end (&details));
  ow_event_log (cgroup, kind, event->count, victim);
}

/* COUNT kills on CGROUP: one signal per victim the kernel log named, one for the rest.
 * TOTAL: the counter after the rise, or 0 without one (ancestors on v1). A victim already
 * reported on CGROUP (by the kernel-log path) still accounts for its kill, but is not repeated. */
static void
emit_split (OwManager *self, const char *cgroup, guint64 count, guint64 total, GPtrArray *victims)
{
  OwEvent part = { .kind = OW_EVENT_OOM_KILL, .count = 1, .has_total = total > 0 };
  guint64 accounted = 0;

  for (guint i = 0; i < victims->len && accounted < count; i++, accounted++)
    {
      OwVictim *victim = g_ptr_array_index (victims, i);

      part.total = total - count + accounted + 1;
      if (ow_victim_claim (victim, cgroup))
        emit_event (self, cgroup, &part, victim);
    }
  if (count > accounted)
    {
      part.count = count - accounted;
      part.total = total;
      emit_event (self, cgroup, &part, NULL);
    }
}

/* The watched strict ancestors of CGROUP, nearest first. */
static GPtrArray *
watched_ancestors (OwManager *self, const char *cgroup)
{
  GPtrArray *ancestors = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *ancestor = g_strdup (cgroup);

  while (ancestor[0] == '/' && strcmp (ancestor, "/") != 0)
    {
      char *slash = strrchr (ancestor, '/');

      slash[slash == ancestor ? 1 : 0] = '\0';
      if (ow_registry_lookup (self->registry, ancestor) != NULL)
        g_ptr_array_add (ancestors, g_strdup (ancestor));
    }
  return ancestors;
}

/* A rise of a kill counter. The log line of a kill comes before the counter rises, so the log
 * is read first. On cgroup v1 the counter is the victim's own cgroup's only: the watched
 * ancestors get the same kills from it here (exact, even when the log is rate-limited). */
static void
emit_kills (OwManager *self, const char *cgroup, const OwEvent *event)
{
  gboolean v1 = ow_hierarchy_get_version (self->hierarchy) == 1;
  g_autoptr (GPtrArray) victims = NULL;

  if (self->kmsg != NULL)
    {
      ow_kmsg_drain (self->kmsg);
      victims = ow_kmsg_unreported (self->kmsg, cgroup, !v1, event->count);
    }
  else
    victims = g_ptr_array_new ();
  emit_split (self, cgroup, event->count, event->total, victims);
  if (v1)
    {
      g_autoptr (GPtrArray) ancestors = watched_ancestors (self, cgroup);

      for (guint i = 0; i < ancestors->len; i++)
        emit_split (self, g_ptr_array_index (ancestors, i), event->count, 0, victims);
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

  ow_event_log_removed (cgroup);
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
  g_autoptr (GPtrArray) ancestors = watched_ancestors (self, victim->task_cgroup);

  for (guint i = 0; i < ancestors->len; i++)
    if (ow_victim_claim (victim, g_ptr_array_index (ancestors, i)))
      emit_event (self, g_ptr_array_index (ancestors, i), &event, victim);
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

/* The caller's uid decides its limit and whether it may Reload(): ask the bus once per
 * client, without blocking the loop, then carry on in THEN. */
typedef void (*CallerThen) (OwManager *self, GDBusMethodInvocation *invocation, guint32 uid,
                            gpointer data);

typedef struct
{
  OwManager *manager;
  GDBusMethodInvocation *invocation;
  CallerThen then;
  gpointer data;
  GDestroyNotify data_free;
} PendingCall;

static void
pending_call_free (PendingCall *pending)
{
  g_object_unref (pending->manager);
  g_object_unref (pending->invocation);
  if (pending->data_free != NULL)
    pending->data_free (pending->data);
  g_free (pending);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PendingCall, pending_call_free)

static void
on_caller_uid (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PendingCall) pending = user_data;
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
  pending->then (pending->manager, pending->invocation, uid, pending->data);
}

static void
with_caller_uid (OwManager *self, GDBusMethodInvocation *invocation, CallerThen then,
                 gpointer data, GDestroyNotify data_free)
{
  const char *name = g_dbus_method_invocation_get_sender (invocation);
  PendingCall *pending;
  guint32 uid;

  if (ow_registry_get_client_uid (self->registry, name, &uid))
    {
      then (self, invocation, uid, data);
      if (data_free != NULL)
        data_free (data);
      return;
    }
  pending = g_new0 (PendingCall, 1);
  pending->manager = g_object_ref (self);
  pending->invocation = g_object_ref (invocation);
  pending->then = then;
  pending->data = data;
  pending->data_free = data_free;
  g_dbus_connection_call (g_dbus_method_invocation_get_connection (invocation),
                          "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                          "GetConnectionUnixUser", g_variant_new ("(s)", name),
                          G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_caller_uid,
                          pending);
}

typedef struct
{
  char *cgroup;
  WatchOptions options;
} WatchRequest;

static void
watch_request_free (gpointer data)
{
  WatchRequest *request = data;

  g_free (request->cgroup);
  g_free (request);
}

static void
complete_watch (OwManager *self, GDBusMethodInvocation *invocation, guint32 uid, gpointer data)
{
  WatchRequest *request = data;
  const char *name = g_dbus_method_invocation_get_sender (invocation);
  g_autoptr (GError) error = NULL;

  if (!ow_registry_watch (self->registry, name, request->cgroup, request->options.recursive,
                          &error))
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    oomwatch_manager_complete_watch (OOMWATCH_MANAGER (self), invocation, request->cgroup);
}

static gboolean
handle_watch (OomwatchManager *object,
              GDBusMethodInvocation *invocation,
              const char *cgroup,
              GVariant *options)
{
  OwManager *self = OW_MANAGER (object);
  g_autoptr (GError) error = NULL;
  WatchRequest *request = g_new0 (WatchRequest, 1);

  request->cgroup = ow_hierarchy_canonicalize (self->hierarchy, cgroup, &error);
  if (request->cgroup == NULL || !parse_options (options, &request->options, &error))
    {
      watch_request_free (request);
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  with_caller_uid (self, invocation, complete_watch, request, watch_request_free);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Reload() */

static void
complete_reload (OwManager *self, GDBusMethodInvocation *invocation, guint32 uid, gpointer data)
{
  g_autoptr (GError) error = NULL;

  if (uid != 0)
    g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                                           "Only root may reload the configuration (caller uid "
                                           "%u)",
                                           uid);
  else if (!ow_manager_reload (self, &error))
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    oomwatch_manager_complete_reload (OOMWATCH_MANAGER (self), invocation);
}

static gboolean
handle_reload (OomwatchManager *object, GDBusMethodInvocation *invocation)
{
  with_caller_uid (OW_MANAGER (object), invocation, complete_reload, NULL, NULL);
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
  iface->handle_reload = handle_reload;
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
  self->victims_for_ancestors = g_ptr_array_new ();
}

/* Configuration */

static int
pick (int override, int from_file, int fallback)
{
  return override >= 0 ? override : from_file >= 0 ? from_file : fallback;
}

static void
apply_kernel_log (OwManager *self, gboolean wanted)
{
  g_autoptr (GError) error = NULL;

  if (!wanted)
    g_clear_pointer (&self->kmsg, ow_kmsg_free);
  else if (self->kmsg == NULL)
    {
      self->kmsg = ow_kmsg_new (self->kernel_log_path, on_victim, self, &error);
      if (self->kmsg == NULL)
        g_warning ("Victims will not be named: %s", error->message);
    }
  oomwatch_manager_set_kernel_log (OOMWATCH_MANAGER (self), self->kmsg != NULL);
}

static GStrv
canonicalize_all (OwManager *self, GStrv paths)
{
  g_autoptr (GPtrArray) canonical = g_ptr_array_new_with_free_func (g_free);

  for (gsize i = 0; paths[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      char *path = ow_hierarchy_canonicalize (self->hierarchy, paths[i], &error);

      if (path == NULL)
        g_warning ("Persistent watch of %s: %s", paths[i], error->message);
      else
        g_ptr_array_add (canonical, path);
    }
  g_ptr_array_add (canonical, NULL);
  return (GStrv) g_ptr_array_steal (canonical, NULL);
}

/* Reads the configuration again and applies it; on any error nothing changes. */
gboolean
ow_manager_reload (OwManager *self, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (OwConfig) config = ow_config_load (self->config_path, &local);
  g_auto (GStrv) plain = NULL;
  g_auto (GStrv) recursive = NULL;
  OwLimits limits;
  int total;

  if (config == NULL)
    {
      g_warning ("Keeping the previous configuration: %s", local->message);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  limits.client_watch_limit = (guint) pick (self->overrides->client_watch_limit,
                                            config->client_watch_limit, 256);
  total = pick (self->overrides->total_watch_limit, config->total_watch_limit, 0);
  limits.total_watch_limit = total > 0 ? MIN ((guint) total, self->fd_watch_limit)
                                       : self->fd_watch_limit;
  ow_registry_set_limits (self->registry, &limits);
  apply_kernel_log (self, pick (self->overrides->kernel_log, config->kernel_log, TRUE));
  if (ow_hierarchy_get_version (self->hierarchy) != 0)
    {
      plain = canonicalize_all (self, config->watches);
      recursive = canonicalize_all (self, config->recursive_watches);
      ow_registry_set_persistent (self->registry, (const char *const *) plain,
                                  (const char *const *) recursive);
    }
  g_message ("Configuration from %s: %u watches per client, %u in all, kernel log %s, %u "
             "persistent watches",
             self->config_path, limits.client_watch_limit, limits.total_watch_limit,
             self->kmsg != NULL ? "read" : "not read",
             plain != NULL ? g_strv_length (plain) + g_strv_length (recursive) : 0);
  return TRUE;
}

OwManager *
ow_manager_new (OwHierarchy *hierarchy, const OwManagerSettings *settings, GError **error)
{
  g_autoptr (OwManager) self = g_object_new (OW_TYPE_MANAGER, NULL);
  const OwLimits no_limits = { 0, 0 };

  self->hierarchy = hierarchy;
  self->config_path = g_strdup (settings->config_path);
  self->kernel_log_path = g_strdup (settings->kernel_log_path);
  self->overrides = ow_config_new (); /* only the scalar settings can be overridden */
  self->overrides->client_watch_limit = settings->overrides->client_watch_limit;
  self->overrides->total_watch_limit = settings->overrides->total_watch_limit;
  self->overrides->kernel_log = settings->overrides->kernel_log;
  self->fd_watch_limit = settings->fd_watch_limit;
  self->registry = ow_registry_new (hierarchy, &no_limits, &registry_callbacks, self);
  oomwatch_manager_set_version (OOMWATCH_MANAGER (self), OOMWATCH_VERSION);
  oomwatch_manager_set_hierarchy (OOMWATCH_MANAGER (self), ow_hierarchy_get_version (hierarchy));
  oomwatch_manager_set_mount_point (OOMWATCH_MANAGER (self),
                                    ow_hierarchy_get_mount_point (hierarchy) ?: "");
  if (!ow_manager_reload (self, error))
    return NULL;
  return g_steal_pointer (&self);
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
