/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the /dev/kmsg record parser never crashes and only yields valid UTF-8. */
#include "ow-kmsg-parser.h"

int LLVMFuzzerTestOneInput (const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
  OwKmsgRecord record;

  if (ow_kmsg_parse ((const char *) data, size, &record))
    {
      if (record.comm != NULL)
        g_assert_true (g_utf8_validate (record.comm, -1, NULL));
      if (record.task_memcg != NULL)
        g_assert_true (g_utf8_validate (record.task_memcg, -1, NULL));
      if (record.oom_memcg != NULL)
        g_assert_true (g_utf8_validate (record.oom_memcg, -1, NULL));
    }
  ow_kmsg_record_clear (&record);
  return 0;
}
