/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Watch()'s options, taken out of ow-manager.c to keep it small. */
#include "ow-watch-options.h"
#include "ow-str-hash.h"
#include "ow-bus-checks.h"
#include "oomwatch-names.h"

#include <string.h>

void
ow_watch_request_free (gpointer data)
{
  OwWatchRequest *request = data;

  g_free (request->cgroup);
  g_free (request);
}

gboolean
ow_watch_request_parse (GVariant *options, guint hierarchy, OwWatchRequest *request,
                        GError **error)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (ow_str_hash, g_str_equal);
  GVariantIter iter;
  const char *key;
  GVariant *boxed;

  if (g_variant_n_children (options) > OW_BUS_GUARD_MAX_OPTIONS)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "Watch takes at most %d options",
                   OW_BUS_GUARD_MAX_OPTIONS);
      return FALSE;
    }
  g_variant_iter_init (&iter, options);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &boxed))
    {
      g_autoptr (GVariant) value = boxed;
      g_autofree char *shown = g_strescape (key, NULL);

      if (!g_hash_table_add (seen, (gpointer)key))
        {
          g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "Option '%s' is given twice",
                       shown);
          return FALSE;
        }
      if (strcmp (key, OOMWATCH_KEY_RECURSIVE) != 0)
        {
          if (!ow_watch_ask_parse_option (&request->ask, key, value, hierarchy, error))
            return FALSE;
          continue;
        }
      if (!g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
        {
          g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                       "Option '%s' must be a boolean (b), not '%s'", shown,
                       g_variant_get_type_string (value));
          return FALSE;
        }
      request->recursive = g_variant_get_boolean (value);
    }
  return TRUE;
}
