/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "oomctl-memory.h"
#include "oomwatch-names.h"

static const char *const size_keys[]
    = { OOMWATCH_KEY_TOTAL_VM, OOMWATCH_KEY_ANON_RSS, OOMWATCH_KEY_FILE_RSS,
        OOMWATCH_KEY_SHMEM_RSS, OOMWATCH_KEY_PGTABLES, OOMWATCH_KEY_LIMIT,
        OOMWATCH_KEY_USAGE, OOMWATCH_KEY_PEAK, OOMWATCH_KEY_SWAP_USAGE, NULL };

gboolean
oomctl_memory_is_key (const char *key)
{
  return g_strv_contains (size_keys, key) || g_strcmp0 (key, OOMWATCH_KEY_OOM_SCORE_ADJ) == 0;
}

gboolean
oomctl_memory_rss (GVariant *details, guint64 *bytes)
{
  const char *const parts[]
      = { OOMWATCH_KEY_ANON_RSS, OOMWATCH_KEY_FILE_RSS, OOMWATCH_KEY_SHMEM_RSS };
  gboolean any = FALSE;

  *bytes = 0;
  for (gsize i = 0; details != NULL && i < G_N_ELEMENTS (parts); i++)
    {
      guint64 part;

      if (g_variant_lookup (details, parts[i], "t", &part))
        {
          *bytes += part;
          any = TRUE;
        }
    }
  return any;
}

char *
oomctl_memory_format_size (guint64 bytes)
{
  const guint64 kib = 1024, mib = kib * 1024, gib = mib * 1024;

  if (bytes >= 10 * gib)
    return g_strdup_printf ("%" G_GUINT64_FORMAT "G", (bytes + gib / 2) / gib);
  if (bytes >= gib)
    return g_strdup_printf ("%.1fG", (double) bytes / (double) gib);
  if (bytes >= mib)
    return g_strdup_printf ("%" G_GUINT64_FORMAT "M", (bytes + mib / 2) / mib);
  return g_strdup_printf ("%" G_GUINT64_FORMAT "K", (bytes + kib / 2) / kib);
}

static void
append_size (GString *out, const char *name, guint64 bytes)
{
  g_autofree char *size = oomctl_memory_format_size (bytes);

  g_string_append_printf (out, " %s=%s", name, size);
}

void
oomctl_memory_append_human (GString *out, GVariant *details)
{
  const struct
  {
    const char *key, *name;
  } shown[] = {
    { OOMWATCH_KEY_LIMIT, "limit" },
    { OOMWATCH_KEY_PEAK, "peak" },
    { OOMWATCH_KEY_USAGE, "usage" },
    { OOMWATCH_KEY_SWAP_USAGE, "swap" },
  };
  guint64 bytes;

  if (oomctl_memory_rss (details, &bytes))
    append_size (out, "rss", bytes);
  gint32 adj;

  for (gsize i = 0; i < G_N_ELEMENTS (shown); i++)
    if (g_variant_lookup (details, shown[i].key, "t", &bytes)
        && (bytes > 0 || g_strcmp0 (shown[i].key, OOMWATCH_KEY_SWAP_USAGE) != 0))
      append_size (out, shown[i].name, bytes);
  if (g_variant_lookup (details, OOMWATCH_KEY_OOM_SCORE_ADJ, "i", &adj))
    g_string_append_printf (out, " %s=%d", OOMWATCH_KEY_OOM_SCORE_ADJ, adj);
}
