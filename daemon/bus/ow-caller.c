/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-caller.h"
#include "oomwatch-error.h"

typedef struct
{
  OwBusGuard *guard; /* borrowed: the owner keeps it */
  GObject *owner;
  GDBusMethodInvocation *invocation;
  OwCallerFunc then;
  gpointer data;
  GDestroyNotify data_free;
} PendingCall;

static void
pending_call_free (PendingCall *pending)
{
  g_object_unref (pending->owner);
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
      g_dbus_method_invocation_return_error (
          pending->invocation, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED,
          "Cannot identify the caller %s: %s", name, error->message);
      return;
    }
  g_variant_get (reply, "(u)", &uid);
  ow_bus_guard_set_uid (pending->guard, name, uid);
  pending->then (pending->owner, pending->invocation, uid, pending->data);
}

void
ow_caller_with_uid (OwBusGuard *guard, GObject *owner, GDBusMethodInvocation *invocation,
                    OwCallerFunc then, gpointer data, GDestroyNotify data_free)
{
  const char *name = g_dbus_method_invocation_get_sender (invocation);
  PendingCall *pending;
  guint32 uid;

  if (ow_bus_guard_get_uid (guard, name, &uid))
    {
      then (owner, invocation, uid, data);
      if (data_free != NULL)
        data_free (data);
      return;
    }
  pending = g_new0 (PendingCall, 1);
  pending->guard = guard;
  pending->owner = g_object_ref (owner);
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
