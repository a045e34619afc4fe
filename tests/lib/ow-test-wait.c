/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-test-wait.h"

guint
ow_test_timeout_ms (guint base_ms)
{
  const char *text = g_getenv ("OOMWATCH_TEST_TIMEOUT_MULTIPLIER");
  guint64 multiplier = 1;

  if (text != NULL && !g_ascii_string_to_unsigned (text, 10, 1, 100, &multiplier, NULL))
    g_error ("OOMWATCH_TEST_TIMEOUT_MULTIPLIER=%s: want a whole number from 1 to 100", text);
  return (guint)MIN ((guint64)base_ms * multiplier, G_MAXUINT);
}

void
ow_test_iterate_pending (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static gboolean
on_timeout (gpointer user_data)
{
  *(gboolean *)user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
on_tick (gpointer user_data)
{
  *(gboolean *)user_data = TRUE;
  return G_SOURCE_CONTINUE;
}

gboolean
ow_test_wait_until (OwTestCondition condition, gpointer user_data, guint base_ms)
{
  gboolean timed_out = FALSE, ticked = FALSE;
  guint id, tick;

  if (condition (user_data))
    return TRUE;
  id = g_timeout_add (ow_test_timeout_ms (base_ms), on_timeout, &timed_out);
  /* The condition is looked at on a tick, not on every main-loop wake-up: many ask the
   * daemon (ListWatches), and it rate-limits a caller whose uid it has not learned yet as it
   * does users (50 calls a second). Some are no main-loop event at all (a child's exit). */
  tick = g_timeout_add (OW_TEST_POLL_MS, on_tick, &ticked);
  for (gboolean holds = FALSE; !holds && !timed_out;)
    {
      g_main_context_iteration (NULL, TRUE);
      if (ticked)
        holds = condition (user_data);
      ticked = FALSE;
    }
  g_source_remove (tick);
  if (!timed_out)
    g_source_remove (id);
  return condition (user_data);
}
