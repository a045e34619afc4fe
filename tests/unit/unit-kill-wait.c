/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OwKillWait: a logged kill wakes each waiter once, from an idle (also one that starts
 * waiting before the idle runs); a waiter removed meanwhile (its source freed) is not woken,
 * and one that waits again waits for the next line. */
#include "ow-kill-wait.h"

typedef struct
{
  OwKillWait *wait;
  guint woken;
  gboolean again;       /* waits again from its wake-up */
  gpointer also_remove; /* removes this waiter from its wake-up */
} Waiter;

static void
on_wake (gpointer waiter)
{
  Waiter *self = waiter;

  self->woken++;
  if (self->also_remove != NULL)
    ow_kill_wait_remove (self->wait, self->also_remove);
  if (self->again)
    ow_kill_wait_add (self->wait, self, on_wake);
}

static void
run_idles (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
test_wakes_once (void)
{
  g_autoptr (OwKillWait) wait = ow_kill_wait_new ();
  Waiter a = { .wait = wait }, b = { .wait = wait };

  ow_kill_wait_set_followed (wait, TRUE);
  g_assert_true (ow_kill_wait_followed (wait));
  ow_kill_wait_add (wait, &a, on_wake);
  ow_kill_wait_add (wait, &b, on_wake);
  ow_kill_wait_add (wait, &a, on_wake); /* already waiting: still once */
  ow_kill_wait_logged (wait);
  ow_kill_wait_logged (wait); /* one idle for both lines */
  g_assert_cmpuint (a.woken, ==, 0); /* not from inside the log's read */
  run_idles ();
  g_assert_cmpuint (a.woken, ==, 1);
  g_assert_cmpuint (b.woken, ==, 1);
  g_assert_cmpuint (ow_kill_wait_count (wait), ==, 0);
  g_assert_false (g_main_context_pending (NULL));
}

/* A line read before its source starts waiting (in the same dispatch) still wakes it. */
static void
test_waits_after_line (void)
{
  g_autoptr (OwKillWait) wait = ow_kill_wait_new ();
  Waiter a = { .wait = wait };

  ow_kill_wait_set_followed (wait, TRUE);
  ow_kill_wait_logged (wait);
  ow_kill_wait_add (wait, &a, on_wake);
  run_idles ();
  g_assert_cmpuint (a.woken, ==, 1);
  g_assert_cmpuint (ow_kill_wait_count (wait), ==, 0);
}

/* The log no longer followed: waiters are woken to go back to their timers. */
static void
test_unfollowed (void)
{
  g_autoptr (OwKillWait) wait = ow_kill_wait_new ();
  Waiter a = { .wait = wait };

  ow_kill_wait_set_followed (wait, TRUE);
  ow_kill_wait_add (wait, &a, on_wake);
  ow_kill_wait_set_followed (wait, TRUE); /* still followed: nothing to do */
  g_assert_false (g_main_context_pending (NULL));
  ow_kill_wait_set_followed (wait, FALSE);
  g_assert_false (ow_kill_wait_followed (wait));
  run_idles ();
  g_assert_cmpuint (a.woken, ==, 1);
  g_assert_cmpuint (ow_kill_wait_count (wait), ==, 0);
}

static void
test_removed_and_again (void)
{
  g_autoptr (OwKillWait) wait = ow_kill_wait_new ();
  Waiter a = { .wait = wait, .again = TRUE }, b = { .wait = wait }, c = { .wait = wait };

  /* a removes b in its wake-up and waits again: a wakes once, b at most once (before a, if
   * the table lists it first), and only a is left waiting. */
  a.also_remove = &b;
  ow_kill_wait_add (wait, &a, on_wake);
  ow_kill_wait_add (wait, &b, on_wake);
  ow_kill_wait_logged (wait);
  run_idles ();
  g_assert_cmpuint (a.woken, ==, 1);
  g_assert_cmpuint (b.woken, <=, 1);
  g_assert_cmpuint (ow_kill_wait_count (wait), ==, 1); /* a, again */
  /* c, removed before the line, is not woken by it. */
  ow_kill_wait_add (wait, &c, on_wake);
  ow_kill_wait_remove (wait, &c);
  a.again = FALSE;
  ow_kill_wait_logged (wait);
  run_idles ();
  g_assert_cmpuint (a.woken, ==, 2);
  g_assert_cmpuint (c.woken, ==, 0);
  g_assert_cmpuint (ow_kill_wait_count (wait), ==, 0);
}

static void
test_free_pending (void)
{
  OwKillWait *wait = ow_kill_wait_new ();
  Waiter a = { .wait = wait };

  ow_kill_wait_add (wait, &a, on_wake);
  ow_kill_wait_logged (wait);
  ow_kill_wait_free (wait); /* its idle goes with it */
  run_idles ();
  g_assert_cmpuint (a.woken, ==, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kill-wait/wakes-once", test_wakes_once);
  g_test_add_func ("/kill-wait/waits-after-line", test_waits_after_line);
  g_test_add_func ("/kill-wait/unfollowed", test_unfollowed);
  g_test_add_func ("/kill-wait/removed-and-again", test_removed_and_again);
  g_test_add_func ("/kill-wait/free-pending", test_free_pending);
  return g_test_run ();
}
