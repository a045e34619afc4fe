/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the container / pod parser never crashes, and what it returns is a 64-hex id and
 * a pod UID the path really holds, at the offsets it says, fit for D-Bus strings. */
#include "oomwatch-container.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
  g_autofree char *input = g_strndup ((const char *)data, size);
  g_autoptr (OomwatchContainerInfo) info = oomwatch_container_info_new (input);
  g_auto (GVariantBuilder) details = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr (GVariant) built = NULL;

  if (info == NULL)
    return 0;
  g_assert_true (info->container_id != NULL || info->pod_uid != NULL);
  if (info->container_id != NULL)
    {
      g_assert_true (oomwatch_container_id_is_valid (info->container_id, -1));
      g_assert_cmpuint (info->container_end, <=, strlen (input));
      g_assert_nonnull (g_strstr_len (input, (gssize)info->container_end, info->container_id));
    }
  if (info->pod_uid != NULL)
    {
      g_assert_true (oomwatch_pod_uid_is_valid (info->pod_uid, -1));
      g_assert_nonnull (info->pod_qos);
      g_assert_cmpuint (info->pod_end, <=, strlen (input));
    }
  oomwatch_container_info_add_details (info, &details);
  built = g_variant_ref_sink (g_variant_builder_end (&details));
  g_assert_true (g_variant_is_normal_form (built));
  return 0;
}
