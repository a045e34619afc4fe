/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The integration tests against the daemon systemd runs from the installed unit on the system
 * bus (OOMWATCH_TEST_SYSTEM_DAEMON=CONFIG, set by tests/guests/systemd/guest/suite.sh) instead
 * of one each case starts on a private bus. */
#pragma once

#include "ow-test-env.h"

G_BEGIN_DECLS

gboolean ow_test_system_wanted (const OwTestDaemonOptions *options);
void ow_test_system_attach (OwTestEnv *env, const char *config);
void ow_test_system_detach (OwTestEnv *env);

G_END_DECLS
