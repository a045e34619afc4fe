/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the unit / application-ID parser never crashes, and what it returns is a unit
 * name systemd would accept (or an ID that is UTF-8 without control characters or '/'). */
#include "oomwatch-unit.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const unsigned char *data, size_t size);

static void
check_unit (const char *unit, const char *path)
{
  if (unit == NULL)
    return;
  g_assert_true (oomwatch_unit_name_is_valid (unit, -1));
  g_assert_nonnull (strstr (path, unit));
}

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
  g_autofree char *input = g_strndup ((const char *)data, size);
  g_autoptr (OomwatchUnitInfo) info = oomwatch_unit_info_new (input);
  g_auto (GVariantBuilder) details = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr (GVariant) built = NULL;

  check_unit (info->unit, input);
  check_unit (info->slice, input);
  check_unit (info->user_unit, input);
  if (info->app_id != NULL)
    {
      g_autofree char *again = oomwatch_unit_app_id (info->unit);

      g_assert_nonnull (info->unit);
      g_assert_true (g_utf8_validate (info->app_id, -1, NULL));
      g_assert_null (strchr (info->app_id, '/'));
      g_assert_cmpstr (again, ==, info->app_id);
    }
  /* Everything must be fit for a D-Bus string. */
  oomwatch_unit_info_add_details (info, &details);
  built = g_variant_ref_sink (g_variant_builder_end (&details));
  g_assert_true (g_variant_is_normal_form (built));
  return 0;
}
