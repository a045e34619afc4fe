/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-bus-checks.h"
#include "ow-str-hash.h"
#include "ow-cgroup-path.h"
#include "oomwatch-error.h"
#include "oomwatch-generated.h"
#include "oomwatch-names.h"

static const char *
expected_signature (const char *interface, const char *member)
{
  static const struct
  {
    const char *interface, *member, *signature;
  } standard[] = {
    { "org.freedesktop.DBus.Properties", "Get", "ss" },
    { "org.freedesktop.DBus.Properties", "GetAll", "s" },
    { "org.freedesktop.DBus.Properties", "Set", "ssv" },
    { "org.freedesktop.DBus.Introspectable", "Introspect", "" },
    { "org.freedesktop.DBus.Peer", "Ping", "" },
    { "org.freedesktop.DBus.Peer", "GetMachineId", "" },
  };
  static GHashTable *ours; /* member → in-signature of our interface, built once */
  static gsize ours_ready;

  if (g_once_init_enter (&ours_ready))
    {
      GDBusInterfaceInfo *info = oomwatch_manager_interface_info ();
      GHashTable *table = g_hash_table_new_full (ow_str_hash, g_str_equal, NULL, g_free);

      for (guint i = 0; info->methods[i] != NULL; i++)
        {
          GString *signature = g_string_new (NULL);
          GDBusArgInfo **args = info->methods[i]->in_args;

          for (guint j = 0; args != NULL && args[j] != NULL; j++)
            g_string_append (signature, args[j]->signature);
          g_hash_table_insert (table, info->methods[i]->name, g_string_free (signature, FALSE));
        }
      ours = table;
      g_once_init_leave (&ours_ready, 1);
    }
  if (g_strcmp0 (interface, OOMWATCH_MANAGER_INTERFACE) == 0)
    return g_hash_table_lookup (ours, member);
  for (gsize i = 0; i < G_N_ELEMENTS (standard); i++)
    if (g_strcmp0 (interface, standard[i].interface) == 0
        && g_strcmp0 (member, standard[i].member) == 0)
      return standard[i].signature;
  return NULL;
}

/* Why MESSAGE is refused before any work (a D-Bus error name and text), or FALSE. */
gboolean
ow_bus_checks_refuse (GDBusMessage *message, const char **error_name, char **text)
{
  const char *interface = g_dbus_message_get_interface (message);
  const char *member = g_dbus_message_get_member (message);
  const char *signature = g_dbus_message_get_signature (message);
  const char *expected = expected_signature (interface, member);
  GVariant *body = g_dbus_message_get_body (message);
  g_autoptr (GVariant) options = NULL;
  g_autoptr (GVariant) path = NULL;

  if (g_dbus_message_get_num_unix_fds (message) > 0
      || g_dbus_message_get_unix_fd_list (message) != NULL)
    {
      *error_name = "org.freedesktop.DBus.Error.InvalidArgs";
      *text = g_strdup ("oomwatchd does not accept file descriptors");
      return TRUE;
    }
  if (expected != NULL && g_strcmp0 (signature ?: "", expected) != 0)
    {
      *error_name = "org.freedesktop.DBus.Error.InvalidArgs";
      *text = g_strdup_printf ("%s.%s takes (%s)", interface, member, expected);
      return TRUE;
    }
  /* Our methods that take a path take it first: a path longer than any cgroup's is refused as
   * the methods themselves would, only earlier. */
  if (g_strcmp0 (interface, OOMWATCH_MANAGER_INTERFACE) == 0 && expected != NULL
      && expected[0] == 's' && (path = g_variant_get_child_value (body, 0)) != NULL
      && g_variant_get_size (path) > OW_CGROUP_PATH_MAX + 1)
    {
      *error_name = OOMWATCH_ERROR_PREFIX "InvalidCgroup";
      *text = g_strdup_printf ("Invalid cgroup path: longer than %d bytes", OW_CGROUP_PATH_MAX);
      return TRUE;
    }
  if (body != NULL && g_variant_get_size (body) > OW_BUS_GUARD_MAX_BODY)
    {
      *error_name = "org.freedesktop.DBus.Error.InvalidArgs";
      *text = g_strdup_printf ("Calls to oomwatchd are at most %d bytes", OW_BUS_GUARD_MAX_BODY);
      return TRUE;
    }
  if (g_strcmp0 (interface, OOMWATCH_MANAGER_INTERFACE) == 0 && g_strcmp0 (member, "Watch") == 0
      && (options = g_variant_get_child_value (body, 1)) != NULL
      && g_variant_n_children (options) > OW_BUS_GUARD_MAX_OPTIONS)
    {
      *error_name = "org.freedesktop.DBus.Error.InvalidArgs";
      *text = g_strdup_printf ("Watch takes at most %d options", OW_BUS_GUARD_MAX_OPTIONS);
      return TRUE;
    }
  return FALSE;
}
