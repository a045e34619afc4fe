/* SPDX-License-Identifier: GPL-2.0-or-later */
/* History() and Metrics(): options, the caller's uid, then what continuity keeps. */
#include "ow-history-methods.h"
#include "ow-caller.h"

#include <string.h>

gboolean
ow_history_handle_metrics (OwContinuity *continuity,
                           GDBusMethodInvocation *invocation, GVariant *options)
{
  OwMetricsFormat format = OW_METRICS_PROMETHEUS;
  g_autofree char *text = NULL;
  const char *name = "prometheus";
  GVariantIter iter;
  const char *key;
  GVariant *value;

  ow_continuity_flush (continuity); /* the counters of every signal sent so far */
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
  text = ow_continuity_render_metrics (continuity, format);
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(s)", text));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
complete_history (OwContinuity *continuity, GDBusMethodInvocation *invocation, guint32 uid,
                  guint64 after, GVariant *options)
{
  guint64 since = 0;
  guint32 max = 0;
  GVariantIter iter;
  const char *key;
  GVariant *value;

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
  g_dbus_method_invocation_return_value (
      invocation, ow_continuity_query_history (continuity, uid, after, since, max));
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
ow_history_handle_history (OwContinuity *continuity, OwBusGuard *guard,
                           GObject *owner, GDBusMethodInvocation *invocation, guint64 after,
                           GVariant *options)
{
  HistoryRequest *request = g_new0 (HistoryRequest, 1);

  ow_continuity_flush (continuity); /* every signal sent so far is in the history */
  request->continuity = continuity;
  request->after = after;
  request->options = g_variant_ref (options);
  /* What the caller may see depends on its uid. */
  ow_caller_with_uid (guard, owner, invocation, on_caller, request, history_request_free);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}
