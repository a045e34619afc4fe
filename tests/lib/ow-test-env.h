/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Integration test harness: a private system-like dbus-daemon, the built oomwatchd on it,
 * throw-away memory cgroups under the test's own cgroup, and real OOMs. */
#pragma once

#include "oomwatch-generated.h"

#include <gio/gio.h>

G_BEGIN_DECLS

#define OW_TEST_SKIP 77

typedef struct
{
  char *cgroup;
  char *kind;
  guint64 count;
  GVariant *details; /* for WatchRemoved, kind is "removed" */
} OwTestSignal;

typedef struct
{
  char *tmpdir;
  char *bus_address;
  GSubprocess *bus;
  GSubprocess *daemon; /* the daemon, or its wrapper */
  char *daemon_pid;    /* the daemon itself */
  char *daemon_log;
  char *config_path; /* the daemon's oomwatch.conf (may not exist) */
  GDBusConnection *connection;
  OomwatchManager *manager;
  GPtrArray *signals;  /* OwTestSignal, in arrival order */
  char *cgroup_dir;    /* absolute: our scratch parent cgroup */
  char *cgroup_base;   /* the same, canonical (relative to the hierarchy root) */
  guint glib_eventfds; /* the daemon's own main-loop eventfds, not registrations */
  char *saved_config;  /* the system daemon's configuration, while a case replaces it */
} OwTestEnv;

typedef struct
{
  const char *const *args;    /* extra daemon options */
  const char *const *wrapper; /* run the daemon under this (e.g. strace …) */
  guint nofile;               /* RLIMIT_NOFILE (soft and hard) for the daemon; 0: inherited */
  const char *config;         /* contents of its oomwatch.conf; NULL: none */
  const char *own; /* why the case needs a daemon of its own even where the system's runs */
  gboolean quiet;  /* without --verbose, as the unit starts it (bench: no debug output) */
} OwTestDaemonOptions;

void ow_test_signal_free (gpointer data);
int ow_test_env_check (void);
int ow_test_env_init (int *argc, char ***argv);
void ow_test_env_drop_to_nobody (gpointer user_data);
OwTestEnv *ow_test_env_new (const char *const *daemon_args);
OwTestEnv *ow_test_env_new_full (const OwTestDaemonOptions *options);
OwTestEnv *ow_test_env_new_own (const char *why);
guint ow_test_env_count_fds (OwTestEnv *env);
/* The daemon's open files whose path ends with SUFFIX (e.g. "/memory.oom_control"). */
guint ow_test_env_count_open_files (OwTestEnv *env, const char *suffix);
guint64 ow_test_env_rss_kib (OwTestEnv *env);
/* A "FIELD: N kB" line of the daemon's /proc/PID/status, FIELD with its colon. */
guint64 ow_test_env_status_kib (OwTestEnv *env, const char *field);
void ow_test_env_free (OwTestEnv *env);

char *ow_test_env_make_cgroup (OwTestEnv *env, const char *name, const char *limit,
                               gboolean kill_disable);
char *ow_test_env_canonical (OwTestEnv *env, const char *name);
char *ow_test_env_cgroup_path (OwTestEnv *env, const char *name);
void ow_test_env_write (const char *dir, const char *file, const char *value);
guint64 ow_test_env_oom_control (OwTestEnv *env, const char *name, const char *key);

GDBusConnection *ow_test_env_connect (OwTestEnv *env);
char *ow_test_env_watch (OwTestEnv *env, OomwatchManager *manager, const char *cgroup);
char *ow_test_env_watch_recursive (OwTestEnv *env, const char *cgroup, GError **error);
GVariant *ow_test_env_find_watch (OwTestEnv *env, const char *canonical);
gboolean ow_test_env_watched (OwTestEnv *env, const char *canonical);
guint ow_test_env_count_eventfds (OwTestEnv *env);
guint32 ow_test_env_inotify_mask (OwTestEnv *env, const char *path);

GSubprocess *ow_test_env_spawn (OwTestEnv *env, GSubprocessFlags flags, const char *const *argv);
GSubprocess *ow_test_env_hog (OwTestEnv *env, const char *name, guint mib);
/* Kills in NAME until its kill counter rose by N, PARALLEL hogs of MIB MiB at a time. */
void ow_test_env_storm (OwTestEnv *env, const char *name, guint64 n, guint mib, guint parallel);
void ow_test_env_wait_process (GSubprocess *process);
guint32 ow_test_env_pid (GSubprocess *process);

void ow_test_env_iterate (guint msec);
gboolean ow_test_env_wait_signal (OwTestEnv *env, const char *cgroup, const char *kind,
                                  guint timeout_msec);
guint64 ow_test_env_sum (OwTestEnv *env, const char *cgroup, const char *kind);
guint ow_test_env_n_signals (OwTestEnv *env, const char *cgroup, const char *kind);

G_END_DECLS
