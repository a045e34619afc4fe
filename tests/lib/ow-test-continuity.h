/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test helpers of continuity across restarts: the daemon's runtime directory, restarting the
 * daemon on the same bus, oomctl output, and a scrape of a real node exporter. */
#pragma once

#include "ow-test-env.h"

G_BEGIN_DECLS

void ow_test_continuity_setup_launcher (OwTestEnv *env, GSubprocessLauncher *launcher);
char *ow_test_continuity_runtime_dir (OwTestEnv *env);
void ow_test_continuity_cleanup (OwTestEnv *env);
void ow_test_remove_tree (const char *path);

void ow_test_continuity_kill_daemon (OwTestEnv *env);
void ow_test_continuity_start_daemon (OwTestEnv *env);

/* A child whose stdout lines are collected as they come. */
typedef struct
{
  GSubprocess *process;
  GDataInputStream *out;
  GPtrArray *lines;
  gboolean eof;
} OwTestReader;

OwTestReader *ow_test_reader_new (const char *const *argv, GSubprocessLauncher *launcher);
void ow_test_reader_free (OwTestReader *reader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwTestReader, ow_test_reader_free)
/* Waits until at least N lines came (or the timeout); returns how many came. */
guint ow_test_reader_wait_lines (OwTestReader *reader, guint n, guint timeout_msec);

/* The value of "key": in a JSON line of oomctl (numbers and strings only), or NULL. */
char *ow_test_json_field (const char *line, const char *key);

/* A child that dies with the test, even when the test aborts. */
GSubprocess *ow_test_spawn_tied (const char *const *argv, GSubprocessFlags flags);

/* GET http://127.0.0.1:PORT/PATH; NULL when nothing answers. */
char *ow_test_http_get (guint16 port, const char *path);
guint16 ow_test_free_port (void);

void ow_test_promtool_check (const char *text);

G_END_DECLS
