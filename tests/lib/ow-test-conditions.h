/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Waits on conditions for the integration tests, in place of fixed sleeps: a watch listed, a
 * count reached, the daemon quiet. Every wait is bounded, and its bound scales with
 * OOMWATCH_TEST_TIMEOUT_MULTIPLIER (ow-test-wait.h) under ASan and valgrind. */
#pragma once

#include "ow-test-env.h"
#include "ow-test-wait.h"

G_BEGIN_DECLS

/* Default bound (before scaling) of a wait for something the daemon does at once. */
#define OW_TEST_WAIT_MS 10000

/* Every signal the daemon sent us before now has been dispatched: one method call round
 * trip (the bus keeps the order of one sender's messages), then the pending main-loop work. */
void ow_test_env_sync (OwTestEnv *env);
gboolean ow_test_env_wait_watched (OwTestEnv *env, const char *canonical, gboolean watched);
gboolean ow_test_env_wait_sum (OwTestEnv *env, const char *cgroup, const char *kind, guint64 sum);
gboolean ow_test_env_wait_eventfds (OwTestEnv *env, guint count);
/* Waits (bounded, asserted) until the daemon has nothing left to tell about CANONICAL: not
 * re-reading its counters after an OOM (ListWatches "rechecking"), not paused, and every
 * "oom" and own-counter "oom-kill" it counted was received. Then an absence (no second kill,
 * no "oom" after a removal) is a real check: nothing more can come without a new OOM. */
void ow_test_env_settle (OwTestEnv *env, const char *canonical);

/* Whether the kernel log names PID as an OOM victim with its cgroups (an "oom-kill:" record).
 * The kernel rate-limits that record machine-wide (10 per 5 s): without it the daemon cannot
 * name the victim, so tests of names check this first. */
gboolean ow_test_kernel_logged_victim (guint32 pid);

/* The first signal of KIND about CGROUP received, or NULL. */
OwTestSignal *ow_test_env_find_signal (OwTestEnv *env, const char *cgroup, const char *kind);
/* Waits for HOG to end, and checks the OOM killer killed it. */
void ow_test_assert_hog_killed (GSubprocess *hog);

typedef struct
{
  const char *path;
  GTestFunc func;
} OwTestCase;

/* The main() of an integration test program: skips (77, with the reason) where the tests
 * cannot run, else runs CASES (ending with a NULL path). */
int ow_test_env_main (int argc, char **argv, const OwTestCase *cases);

G_END_DECLS
