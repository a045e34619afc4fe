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
  return G_SOURCE_CONTINUE;
}

gboolean
ow_test_wait_until (OwTestCondition condition, gpointer user_data, guint base_ms)
{
  gboolean timed_out = FALSE;
  guint id, tick;

  if (condition (user_data))
    return TRUE;
  id = g_timeout_add (ow_test_timeout_ms (base_ms), on_timeout, &timed_out);
  /* Wakes at least every 10 ms: some conditions (a child's exit, /proc) are not main-loop
   * events. */
  tick = g_timeout_add (10, on_tick, NULL);
  while (!condition (user_data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  if (!timed_out)
    g_source_remove (id);
  return condition (user_data);
}
