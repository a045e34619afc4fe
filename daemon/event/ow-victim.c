/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-victim.h"

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
