/* History(), Metrics() and the metrics file. */
#include "ow-continuity-private.h"
#include "ow-signal-emitter.h"
#include "ow-caller.h"

#include <string.h>

gboolean
ow_continuity_watched_by (const char *cgroup, guint32 uid, gpointer user_data)
{
  OwContinuity *self = user_data;
  OwWatch *watch = ow_registry_lookup (self->registry, cgroup);
  GHashTableIter iter;
  const char *name;
  guint32 watcher_uid;

  if (watch == NULL)
    return FALSE;
  g_hash_table_iter_init (&iter, watch->watchers);
  while (g_hash_table_iter_next (&iter, (gpointer *)&name, NULL))
    if (ow_registry_get_client_uid (self->registry, name, &watcher_uid) && watcher_uid == uid)
      return TRUE;
  return FALSE;
}

/* Metrics */

static gboolean
on_retired_expired (gpointer user_data)
{
  OwContinuity *self = user_data;

  self->retired_timeout_id = 0;
  ow_continuity_metrics_changed (self);
  return G_SOURCE_REMOVE;
}

static int
compare_rows (gconstpointer a, gconstpointer b)
{
  return strcmp (((const OwMetricsRow *)a)->cgroup, ((const OwMetricsRow *)b)->cgroup);
}

static char *
render_metrics (OwContinuity *self, OwMetricsFormat format)
{
  g_autoptr (GList) entries = ow_counter_store_entries (self->store);
  g_autoptr (GArray) rows = g_array_new (FALSE, FALSE, sizeof (OwMetricsRow));
  gint64 expires;

  for (GList *l = entries; l != NULL; l = l->next)
    {
      OwCounterEntry *entry = l->data;
      OwWatch *watch = ow_registry_lookup (self->registry, entry->cgroup);
      OwMetricsRow row = { entry->cgroup, entry->reported, NULL };

      /* Saved by an earlier run but not watched now: no series. */
      if (!entry->pending && watch != NULL)
        {
          row.container = watch->units->container;
          g_array_append_val (rows, row);
        }
    }
  expires = ow_metrics_retired_rows (self->retired, rows);
  g_array_sort (rows, compare_rows);
  /* Written again when a kept series expires. */
  g_clear_handle_id (&self->retired_timeout_id, g_source_remove);
  if (expires > 0 && self->metrics_file != NULL)
    self->retired_timeout_id
        = g_timeout_add_seconds ((guint)((expires - g_get_monotonic_time ()) / G_USEC_PER_SEC + 1),
                                 on_retired_expired, self);
  return ow_metrics_render ((OwMetricsRow *)(gpointer)rows->data, rows->len,
                            ow_registry_count (self->registry), format);
}

/* At an idle moment after a change, not on a timer: a burst of events is one write. */
static gboolean
on_metrics_idle (gpointer user_data)
{
  OwContinuity *self = user_data;
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;

  self->metrics_idle_id = 0;
  if (self->metrics_file == NULL)
    return G_SOURCE_REMOVE;
  text = render_metrics (self, OW_METRICS_PROMETHEUS);
  if (g_strcmp0 (text, self->metrics_written) == 0)
    return G_SOURCE_REMOVE;
  if (!ow_metrics_write (self->metrics_file, text, &error))
    g_warning ("Cannot write the metrics: %s", error->message);
  else
    {
      g_free (self->metrics_written);
      self->metrics_written = g_steal_pointer (&text);
    }
  return G_SOURCE_REMOVE;
}

void
ow_continuity_metrics_changed (OwContinuity *self)
{
  if (self->metrics_file != NULL && self->metrics_idle_id == 0)
    self->metrics_idle_id = g_idle_add_full (G_PRIORITY_LOW, on_metrics_idle, self, NULL);
}

gboolean
ow_continuity_handle_metrics (OwContinuity *self, GDBusMethodInvocation *invocation,
                              GVariant *options)
{
  OwMetricsFormat format = OW_METRICS_PROMETHEUS;
  g_autofree char *text = NULL;
  const char *name = "prometheus";
  GVariantIter iter;
  const char *key;
  GVariant *value;

  ow_signal_emitter_flush (self->emitter); /* the counters of every signal sent so far */
  g_variant_iter_init (&iter, options);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      G_GNUC_UNUSED g_autoptr (GVariant) owned = value;

      if (strcmp (key, "format") != 0 || !g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
        {
          g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR,
                                                 G_DBUS_ERROR_INVALID_ARGS,
                                                 "Unknown or mistyped option '%.200s' (known: "
                                                 "format (s))",
                                                 key);
          return G_DBUS_METHOD_INVOCATION_HANDLED;
        }
      name = g_variant_get_string (value, NULL);
    }
  if (strcmp (name, "openmetrics") == 0)
    format = OW_METRICS_OPENMETRICS;
  else if (strcmp (name, "prometheus") != 0)
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                             "Unknown format '%.100s' (prometheus, openmetrics)",
                                             name);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  text = render_metrics (self, format);
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(s)", text));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* History() */

static void
complete_history (OwContinuity *self, GDBusMethodInvocation *invocation, guint32 uid, guint64 after,
                  GVariant *options)
{
  g_auto (GVariantDict) info = G_VARIANT_DICT_INIT (NULL);
  guint64 since = 0;
  guint32 max = 0;
  GVariantIter iter;
  const char *key;
  GVariant *value;
  GVariant *events;

  g_variant_iter_init (&iter, options);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      G_GNUC_UNUSED g_autoptr (GVariant) owned = value;

      if (strcmp (key, "since") == 0 && g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
        since = g_variant_get_uint64 (value);
      else if (strcmp (key, "max") == 0 && g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
        max = g_variant_get_uint32 (value);
      else
        {
          g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR,
                                                 G_DBUS_ERROR_INVALID_ARGS,
                                                 "Unknown or mistyped option '%.200s' (known: "
                                                 "since (t), max (u))",
                                                 key);
          return;
        }
    }
  events = ow_history_query (self->history, after, (gint64)MIN (since, (guint64)G_MAXINT64), max,
                             uid, ow_continuity_watched_by, self);
  g_variant_dict_insert (&info, "last-seq", "t", ow_seq_last (self->seq));
  g_variant_dict_insert (&info, "oldest-seq", "t", ow_history_oldest_seq (self->history));
  g_variant_dict_insert (&info, "capacity", "u", ow_history_get_capacity (self->history));
  g_variant_dict_insert (&info, "epoch", "s", ow_seq_epoch (self->seq));
  g_dbus_method_invocation_return_value (
      invocation, g_variant_new ("(@aa{sv}@a{sv})", events, g_variant_dict_end (&info)));
}

typedef struct
{
  OwContinuity *continuity;
  guint64 after;
  GVariant *options;
} HistoryRequest;

static void
history_request_free (gpointer data)
{
  HistoryRequest *request = data;

  g_variant_unref (request->options);
  g_free (request);
}

static void
on_caller (GObject *owner, GDBusMethodInvocation *invocation, guint32 uid, gpointer data)
{
  HistoryRequest *request = data;

  complete_history (request->continuity, invocation, uid, request->after, request->options);
}

gboolean
ow_continuity_handle_history (OwContinuity *self, OwBusGuard *guard, GObject *owner,
                              GDBusMethodInvocation *invocation, guint64 after, GVariant *options)
{
  HistoryRequest *request = g_new0 (HistoryRequest, 1);

  ow_signal_emitter_flush (self->emitter); /* every signal sent so far is in the history */
  request->continuity = self;
  request->after = after;
  request->options = g_variant_ref (options);
  /* What the caller may see depends on its uid. */
  ow_caller_with_uid (guard, owner, invocation, on_caller, request, history_request_free);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}
