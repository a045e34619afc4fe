/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-pressure-level.h"
#include "oomwatch-names.h"

#include <gio/gio.h>
#include <string.h>

static const char *const level_names[] = {
  [OW_PRESSURE_LOW] = OOMWATCH_PRESSURE_LOW,
  [OW_PRESSURE_MEDIUM] = OOMWATCH_PRESSURE_MEDIUM,
  [OW_PRESSURE_CRITICAL] = OOMWATCH_PRESSURE_CRITICAL,
};

const char *
ow_pressure_level_to_string (OwPressureLevel level)
{
  g_return_val_if_fail (level >= OW_PRESSURE_LOW && level <= OW_PRESSURE_CRITICAL, "none");
  return level_names[level];
}

guint
ow_pressure_level_value (OwPressureLevel level)
{
  switch (level)
    {
    case OW_PRESSURE_LOW:
      return 50;
    case OW_PRESSURE_MEDIUM:
      return 100;
    case OW_PRESSURE_CRITICAL:
      return 255;
    case OW_PRESSURE_NONE:
      break;
    }
  return 0;
}

static gboolean
parse_pressure (OwWatchAsk *ask, GVariant *value, GError **error)
{
  const char *name = g_variant_is_of_type (value, G_VARIANT_TYPE_STRING)
                         ? g_variant_get_string (value, NULL)
                         : NULL;

  for (OwPressureLevel level = OW_PRESSURE_LOW; name != NULL && level <= OW_PRESSURE_CRITICAL;
       level++)
    if (strcmp (name, level_names[level]) == 0)
      {
        ask->pressure = level;
        return TRUE;
      }
  if (name == NULL)
    g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                 "Option 'pressure' must be a string (s), not '%s'; allowed values: low, medium, "
                 "critical",
                 g_variant_get_type_string (value));
  else
    {
      g_autofree char *shown = g_strescape (name, NULL);

      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   "Option 'pressure' is '%.100s'; allowed values: low, medium, critical", shown);
    }
  return FALSE;
}

static gboolean
parse_events (OwWatchAsk *ask, GVariant *value, guint hierarchy, GError **error)
{
  g_autofree const char **names = NULL;
  g_autofree char *allowed = ow_event_kind_opt_in_names ();

  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY))
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   "Option 'events' must be a string array (as), not '%s'; allowed values: %s",
                   g_variant_get_type_string (value), allowed);
      return FALSE;
    }
  if (hierarchy != 2)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   "Option 'events' needs cgroup v2 (memory.events %s)", allowed);
      return FALSE;
    }
  names = g_variant_get_strv (value, NULL);
  for (gsize i = 0; names[i] != NULL; i++)
    {
      const OwEventKindInfo *kind = ow_event_kind_by_name (names[i]);
      g_autofree char *shown = NULL;

      if (kind != NULL && kind->opt_in)
        {
          ask->events |= OW_EVENT_KIND_BIT (kind->kind);
          continue;
        }
      shown = g_strescape (names[i], NULL);
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   "Option 'events' holds '%.100s'; allowed values: %s", shown, allowed);
      return FALSE;
    }
  return TRUE;
}

gboolean
ow_watch_ask_parse_option (OwWatchAsk *ask, const char *key, GVariant *value, guint hierarchy,
                           GError **error)
{
  g_autofree char *shown = NULL;

  if (strcmp (key, OOMWATCH_OPTION_PRESSURE) == 0)
    return parse_pressure (ask, value, error);
  if (strcmp (key, OOMWATCH_OPTION_EVENTS) == 0)
    return parse_events (ask, value, hierarchy, error);
  shown = g_strescape (key, NULL);
  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
               "Unknown option '%.200s' (known: recursive, pressure, events)", shown);
  return FALSE;
}

void
ow_watch_ask_merge (OwWatchAsk *into, const OwWatchAsk *other)
{
  if (other->pressure != OW_PRESSURE_NONE
      && (into->pressure == OW_PRESSURE_NONE || other->pressure < into->pressure))
    into->pressure = other->pressure;
  into->events |= other->events;
}

/* Bit 4 keeps the packed value non-NULL. */
gpointer
ow_watch_ask_pack (const OwWatchAsk *ask)
{
  return GUINT_TO_POINTER ((ask->events << 8) | 0x10u | (guint)ask->pressure);
}

void
ow_watch_ask_unpack (gpointer packed, OwWatchAsk *ask)
{
  guint bits = GPOINTER_TO_UINT (packed);

  ask->pressure = (OwPressureLevel)(bits & 0xf);
  ask->events = bits >> 8;
}
