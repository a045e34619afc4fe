/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Bounded waits on conditions, for unit and integration tests. Every bound goes through
 * ow_test_timeout_ms, which scales it by OOMWATCH_TEST_TIMEOUT_MULTIPLIER (the asan and
 * valgrind test setups set it): a slow build waits longer, a fast one no longer than needed. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef gboolean (*OwTestCondition) (gpointer user_data);

/* How often a wait looks at its condition: 25 times a second. */
#define OW_TEST_POLL_MS 40

guint ow_test_timeout_ms (guint base_ms);
/* Iterates the default main context until CONDITION holds or the scaled BASE_MS ran out;
 * returns whether it holds. */
gboolean ow_test_wait_until (OwTestCondition condition, gpointer user_data, guint base_ms);
/* Iterates the default main context for what is pending now, without waiting. */
void ow_test_iterate_pending (void);

G_END_DECLS
