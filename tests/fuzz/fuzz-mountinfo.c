/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the /proc/self/mountinfo parser never crashes. */
#include "ow-hierarchy.h"

int LLVMFuzzerTestOneInput (const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr (GPtrArray) mounts = ow_mountinfo_parse_cgroup_mounts (text);

  for (guint i = 0; i < mounts->len; i++)
    {
      OwCgroupMount *mount = g_ptr_array_index (mounts, i);

      g_assert_true (mount->version == 1 || mount->version == 2);
      g_assert_nonnull (mount->mount_point);
    }
  return 0;
}
