/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OomEvent details (a{sv}) are built for every signal: straight into a GVariantBuilder, in the
 * order added, without GVariantDict's hash table and copied keys. Each key is added once. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

static inline void
oomwatch_details_add (GVariantBuilder *details, const char *key, GVariant *value)
{
  g_variant_builder_add_value (details, g_variant_new_dict_entry (g_variant_new_string (key),
                                                                  g_variant_new_variant (value)));
}

G_END_DECLS
