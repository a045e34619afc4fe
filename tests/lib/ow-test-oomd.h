/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test helpers for systemd-oomd's kills: a stand-in for systemd-oomd on the test's private
 * system bus (tests/lib/system-bus.conf.in lets root own org.freedesktop.oom1), and reading the
 * daemon's log. */
#pragma once

#include "ow-test-env.h"

G_BEGIN_DECLS

/* Why a case with the stand-in needs a daemon of its own: on the system bus only the real
 * systemd-oomd may own its name (tests/guests/systemd/guest/oomd.sh follows the real one). */
#define OW_TEST_OOMD_OWN "it stands in for systemd-oomd and reads the daemon's --verbose log"

GDBusConnection *ow_test_oomd_connect (OwTestEnv *env, gboolean own_name);
void ow_test_oomd_emit_killed (GDBusConnection *connection, const char *cgroup,
                               const char *reason);
guint ow_test_oomd_log_count (OwTestEnv *env, const char *needle);
void ow_test_oomd_log_wait (OwTestEnv *env, const char *needle, guint at_least);
void ow_test_oomd_wait_following (OwTestEnv *env, guint following);
/* Answers DumpByFileDescriptor with TEXT (kept by the caller) on CONNECTION. */
guint ow_test_oomd_serve_dump (GDBusConnection *connection, const char *text);

G_END_DECLS
