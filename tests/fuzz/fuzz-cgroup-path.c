/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: cgroup path canonicalisation never crashes, and what it accepts is canonical. */
#include "ow-cgroup-path.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const unsigned char *data, size_t size);

static const char *const other_mounts[] = { "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/unified", NULL };

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
  g_autofree char *input = g_strndup ((const char *) data, size);
  g_autoptr (GError) error = NULL;
  g_autofree char *canonical = NULL;
  g_autofree char *again = NULL;

  canonical = ow_cgroup_path_canonicalize (input, "/sys/fs/cgroup/memory", other_mounts, &error);
  if (canonical == NULL)
    {
      g_assert_nonnull (error);
      g_assert_cmpuint (strlen (error->message), <, 2048);
      return 0;
    }
  /* Canonical: one leading '/', no empty, '.' or '..' component, idempotent. */
  g_assert_true (canonical[0] == '/');
  g_assert_null (strstr (canonical, "//"));
  g_assert_null (strstr (canonical, "/../"));
  g_assert_false (g_str_has_suffix (canonical, "/..") || g_str_has_suffix (canonical, "/."));
  g_assert_true (strcmp (canonical, "/") == 0 || !g_str_has_suffix (canonical, "/"));
  again = ow_cgroup_path_canonicalize (canonical, NULL, NULL, &error);
  g_assert_cmpstr (again, ==, canonical);
  return 0;
}
