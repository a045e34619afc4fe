/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "oomwatch-unit.h"
#include "oomwatch-details.h"
#include "oomwatch-names.h"

#include <string.h>

/* Longer cgroup paths are not ours to parse (the daemon refuses them anyway). */
#define CGROUP_PATH_MAX 4096

typedef enum
{
  KIND_NONE,
  KIND_SERVICE,
  KIND_SCOPE,
  KIND_SLICE,
} UnitKind;

static gboolean
has_suffix (const char *name, gsize length, const char *suffix)
{
  gsize suffix_length = strlen (suffix);

  return length > suffix_length
         && memcmp (name + length - suffix_length, suffix, suffix_length) == 0;
}

/* The characters systemd allows in unit names; '\' only starts \xNN escapes. One '@' at most,
 * never first: what follows it is a template instance. */
gboolean
oomwatch_unit_name_is_valid (const char *name, gssize length)
{
  gsize len = length < 0 ? strlen (name) : (gsize)length;
  const char *dot;
  gboolean seen_at = FALSE;

  if (len == 0 || len > OOMWATCH_UNIT_NAME_MAX || name[0] == '@' || name[0] == '.')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      char c = name[i];

      if (c == '@')
        {
          if (seen_at)
            return FALSE;
          seen_at = TRUE;
        }
      else if (!g_ascii_isalnum (c) && strchr (":-_.\\", c) == NULL)
        return FALSE;
    }
  dot = memrchr (name, '.', len);
  return dot != NULL && dot != name && (gsize)(dot - name) < len - 1;
}

static UnitKind
unit_kind (const char *name, gsize length)
{
  if (!oomwatch_unit_name_is_valid (name, (gssize)length))
    return KIND_NONE;
  if (has_suffix (name, length, ".service"))
    return KIND_SERVICE;
  if (has_suffix (name, length, ".scope"))
    return KIND_SCOPE;
  if (has_suffix (name, length, ".slice"))
    return KIND_SLICE;
  return KIND_NONE;
}

/* user@1000.service: the per-user service manager, whose units are the user's. */
static gboolean
is_user_manager (const char *name, gsize length)
{
  gsize digits = 0;

  if (length <= strlen ("user@.service") || strncmp (name, "user@", 5) != 0
      || !has_suffix (name, length, ".service"))
    return FALSE;
  for (gsize i = 5; i < length - strlen (".service"); i++, digits++)
    if (!g_ascii_isdigit (name[i]))
      return FALSE;
  return digits > 0;
}

/* systemd's escaping: "\xNN" stands for byte NN; any other backslash, a NUL byte, a result
 * that is not UTF-8, or one holding a control character or '/' (it becomes a file name) is
 * refused with NULL. */
char *
oomwatch_unit_unescape (const char *escaped, gssize length)
{
  gsize len = length < 0 ? strlen (escaped) : (gsize)length;
  g_autoptr (GString) out = g_string_sized_new (len);

  for (gsize i = 0; i < len; i++)
    {
      int high, low;

      if (escaped[i] != '\\')
        {
          g_string_append_c (out, escaped[i]);
          continue;
        }
      if (len - i < 4 || escaped[i + 1] != 'x')
        return NULL;
      high = g_ascii_xdigit_value (escaped[i + 2]);
      low = g_ascii_xdigit_value (escaped[i + 3]);
      if (high < 0 || low < 0 || (high == 0 && low == 0))
        return NULL;
      g_string_append_c (out, (char)(high << 4 | low));
      i += 3;
    }
  if (out->len == 0 || !g_utf8_validate (out->str, (gssize)out->len, NULL))
    return NULL;
  for (const char *p = out->str; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == '/' || g_unichar_iscntrl (c))
        return NULL;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Splits the part of an app unit name between "app-" and its suffix (and instance) into its
 * '-'-separated fields. A '-' inside an ID is escaped as \x2d, so every literal '-' separates;
 * an empty field means the name does not follow the convention. */
static GStrv
split_fields (const char *stem, gsize length)
{
  g_autofree char *copy = g_strndup (stem, length);
  g_auto (GStrv) fields = g_strsplit (copy, "-", -1);

  for (gsize i = 0; fields[i] != NULL; i++)
    if (fields[i][0] == '\0')
      return NULL;
  return g_steal_pointer (&fields);
}

/* The application ID in a unit name of systemd's XDG convention, or NULL:
 *   app[-<launcher>]-<ID>-<RANDOM>.scope
 *   app[-<launcher>]-<ID>[@<RANDOM>].service
 * plus two older service forms still met: app-<ID>-autostart.service (systemd < 248's
 * autostart generator) and app-<launcher>-<ID>-<RANDOM>.service (the draft before 2020). With
 * more fields than the convention has, the first is the launcher and the rest, joined, the ID
 * (an unescaped '-' in an ID), as xdg-desktop-portal reads them. */
char *
oomwatch_unit_app_id (const char *unit)
{
  gsize length = strlen (unit);
  UnitKind kind = unit_kind (unit, length);
  const char *stem = unit + strlen ("app-");
  const char *at;
  g_auto (GStrv) fields = NULL;
  g_autofree char *id = NULL;
  gsize n, first = 0;

  if ((kind != KIND_SCOPE && kind != KIND_SERVICE) || strncmp (unit, "app-", 4) != 0)
    return NULL;
  length -= strlen ("app-") + strlen (kind == KIND_SCOPE ? ".scope" : ".service");
  at = kind == KIND_SERVICE ? memchr (stem, '@', length) : NULL;
  if (at != NULL)
    length = (gsize)(at - stem);
  if (length == 0 || (fields = split_fields (stem, length)) == NULL)
    return NULL;
  n = g_strv_length (fields);
  if (kind == KIND_SCOPE)
    {
      if (n < 2)
        return NULL; /* a scope always ends in -<RANDOM> */
      n--;
    }
  else if (at == NULL && n >= 2 && strcmp (fields[n - 1], "autostart") == 0)
    n--;
  else if (at == NULL && n >= 3)
    n--;
  if (n >= 2)
    first = 1; /* the launcher */
  g_free (fields[n]);
  fields[n] = NULL;
  id = g_strjoinv ("-", fields + first);
  return oomwatch_unit_unescape (id, -1);
}

OomwatchUnitInfo *
oomwatch_unit_info_new (const char *cgroup)
{
  OomwatchUnitInfo *info = g_new0 (OomwatchUnitInfo, 1);
  const char *p = cgroup;
  const char *unit = NULL, *slice = NULL, *slice_of_unit = NULL, *user_unit = NULL;
  gsize unit_len = 0, slice_len = 0, slice_of_unit_len = 0, user_unit_len = 0;
  gboolean in_user_manager = FALSE;

  if (cgroup == NULL || strnlen (cgroup, CGROUP_PATH_MAX + 1) > CGROUP_PATH_MAX)
    return info;
  while (*p != '\0')
    {
      const char *name;
      gsize len;
      UnitKind kind;

      while (*p == '/')
        p++;
      name = p;
      while (*p != '\0' && *p != '/')
        p++;
      len = (gsize)(p - name);
      kind = len > 0 ? unit_kind (name, len) : KIND_NONE;
      if (kind == KIND_SLICE)
        slice = name, slice_len = len;
      else if (kind == KIND_SERVICE || kind == KIND_SCOPE)
        {
          unit = name, unit_len = len;
          slice_of_unit = slice, slice_of_unit_len = slice_len;
          if (in_user_manager && user_unit == NULL)
            user_unit = name, user_unit_len = len;
          if (!in_user_manager && is_user_manager (name, len))
            in_user_manager = TRUE;
        }
    }
  if (unit != NULL)
    {
      info->unit = g_strndup (unit, unit_len);
      info->app_id = oomwatch_unit_app_id (info->unit);
      slice = slice_of_unit, slice_len = slice_of_unit_len;
    }
  if (slice != NULL)
    info->slice = g_strndup (slice, slice_len);
  if (user_unit != NULL)
    info->user_unit = g_strndup (user_unit, user_unit_len);
  return info;
}

void
oomwatch_unit_info_free (OomwatchUnitInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->unit);
  g_free (info->slice);
  g_free (info->user_unit);
  g_free (info->app_id);
  oomwatch_container_info_free (info->container);
  g_free (info);
}

gboolean
oomwatch_unit_info_is_empty (const OomwatchUnitInfo *info)
{
  return info->unit == NULL && info->slice == NULL && info->user_unit == NULL
         && info->app_id == NULL && info->container == NULL;
}

/* The keys unit, slice, user-unit and app-id of OomEvent details, and the container's, where
 * known. */
void
oomwatch_unit_info_add_details (const OomwatchUnitInfo *info, GVariantBuilder *details)
{
  const struct
  {
    const char *key, *value;
  } keys[] = {
    { OOMWATCH_KEY_UNIT, info->unit },
    { OOMWATCH_KEY_SLICE, info->slice },
    { OOMWATCH_KEY_USER_UNIT, info->user_unit },
    { OOMWATCH_KEY_APP_ID, info->app_id },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (keys[i].value != NULL)
      oomwatch_details_add (details, keys[i].key, g_variant_new_string (keys[i].value));
  oomwatch_container_info_add_details (info->container, details);
}
