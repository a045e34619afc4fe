/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the memory.oom_control / memory.events parser never crashes. */
#include "ow-keyed-file.h"

int LLVMFuzzerTestOneInput (const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  const char *keys[] = { "oom", "oom_kill", "oom_group_kill", "under_oom", "oom_kill_disable", "" };
  guint64 value;

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    ow_keyed_file_lookup (text, keys[i], &value);
  return 0;
}
