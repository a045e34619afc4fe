/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-victim.h"
#include "oomwatch-details.h"
#include "oomwatch-names.h"

OwVictim *
ow_victim_new (void)
{
  OwVictim *victim = g_new0 (OwVictim, 1);

  victim->ref_count = 1;
  victim->seen = g_get_monotonic_time ();
  return victim;
}

OwVictim *
ow_victim_ref (OwVictim *victim)
{
  g_atomic_int_inc (&victim->ref_count);
  return victim;
}

void
ow_victim_unref (OwVictim *victim)
{
  if (victim == NULL || !g_atomic_int_dec_and_test (&victim->ref_count))
    return;
  g_free (victim->comm);
  g_free (victim->task_cgroup);
  g_free (victim->oom_cgroup);
  g_free (victim);
}

void
ow_victim_memory_add_details (const OwVictimMemory *memory, GVariantBuilder *details)
{
  static const char *const keys[OW_VICTIM_N_SIZES] = {
    [OW_VICTIM_TOTAL_VM] = OOMWATCH_KEY_TOTAL_VM,   [OW_VICTIM_ANON_RSS] = OOMWATCH_KEY_ANON_RSS,
    [OW_VICTIM_FILE_RSS] = OOMWATCH_KEY_FILE_RSS,   [OW_VICTIM_SHMEM_RSS] = OOMWATCH_KEY_SHMEM_RSS,
    [OW_VICTIM_PGTABLES] = OOMWATCH_KEY_PGTABLES,
  };

  for (guint i = 0; i < OW_VICTIM_N_SIZES; i++)
    if (memory->present & (1u << i))
      oomwatch_details_add (details, keys[i], g_variant_new_uint64 (memory->bytes[i]));
  if (memory->has_oom_score_adj)
    oomwatch_details_add (details, OOMWATCH_KEY_OOM_SCORE_ADJ,
                          g_variant_new_int32 (memory->oom_score_adj));
}
