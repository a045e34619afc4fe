/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The adversary suite's harness: unprivileged attackers and legitimate users as separate
 * processes (setpriv), their reports, the daemon's resources, and the checks every case
 * makes on the legitimate side. Builds on ow-test-env (bus, daemon, cgroups). */
#pragma once

#include "ow-test-env.h"

G_BEGIN_DECLS

/* dbus-daemon refuses a uid without a passwd entry: these are in Debian's base-passwd. */
#define ADV_UID_NOBODY 65534
#define ADV_UID_ATTACKER2 2            /* bin: a second attacking uid */
#define ADV_UID_VICTIM 3               /* sys: owner of a killed process */
#define ADV_UID_USER (adv_uid_user ()) /* the legitimate second user */
#define ADV_HOG_MIB 256u               /* a hog this big OOMs a cgroup limited to ADV_LIMIT */
#define ADV_LIMIT "32M"
#define ADV_CALL_MS 250    /* a legitimate call under attack, at most */
#define ADV_SETTLE_MS 1500 /* after the last awaited signal: time for a stray one */

/* A helper process and what it printed so far. */
typedef struct
{
  char *label;
  GSubprocess *process;
  GOutputStream *in;
  GDataInputStream *out;
  GPtrArray *lines;
  guint cursor; /* answers before this line were already taken */
  gboolean eof;
} AdvProc;

void adv_fail (const char *format, ...) G_GNUC_PRINTF (1, 2);
guint adv_ms (guint ms);
OwTestEnv *adv_env_new_quiet_bus (const OwTestDaemonOptions *options);
char *adv_bus_config_passing_fds (const char *dir);
guint adv_uid_user (void);
void adv_wait_until (gboolean (*done) (gpointer), gpointer data, guint timeout_ms);

AdvProc *adv_spawn (guint uid, const char *label, const char *const *argv);
AdvProc *adv_client (guint uid, const char *label, const char *mode);
AdvProc *adv_flood (guint uid, const char *label, const char *const *args);
const char *adv_wait_line (AdvProc *proc, const char *prefix, guint timeout_ms);
const char *adv_call (AdvProc *proc, const char *command, double *ms);
void adv_call_ok (AdvProc *proc, const char *command, guint max_ms);
void adv_sync (AdvProc *proc);
const char *adv_stop (AdvProc *proc);
void adv_proc_free (AdvProc *proc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AdvProc, adv_proc_free)
GPtrArray *adv_signals (AdvProc *proc);

guint64 adv_sum (GPtrArray *signals, const char *cgroup, const char *kind);
gboolean adv_has_identity (OwTestSignal *signal);
void adv_check_exact (GPtrArray *signals, const char *who, const char *cgroup, const char *kind,
                      guint64 expected);
void adv_check_only (GPtrArray *signals, const char *who, const char *const *cgroups);
void adv_check_identity (GPtrArray *signals, const char *who, const char *cgroup, gboolean wanted);
GPtrArray *adv_legit_signals (OwTestEnv *env, AdvProc *user);
void adv_check_both (OwTestEnv *env, GPtrArray *seen, const char *cgroup, const char *kind,
                     guint64 expected);
gboolean adv_wait_sum (OwTestEnv *env, const char *cgroup, const char *kind, guint64 at_least,
                       guint timeout_ms);

GSubprocess *adv_hog (OwTestEnv *env, const char *name, guint uid);
void adv_oom (OwTestEnv *env, const char *name, guint uid, guint64 kills_before);
char *adv_make_tree (OwTestEnv *env, const char *name, guint fanout);

typedef struct _AdvSampler AdvSampler;
AdvSampler *adv_sampler_start (OwTestEnv *env);
void adv_sampler_stop (AdvSampler *sampler, guint *max_fds, guint64 *max_rss_kib);
guint adv_daemon_fds (OwTestEnv *env);
guint64 adv_daemon_status (OwTestEnv *env, const char *field, guint base);
guint64 adv_daemon_rss_kib (OwTestEnv *env);
gboolean adv_daemon_answers (OwTestEnv *env);
void adv_watch_both (OwTestEnv *env, AdvProc *user, const char *cgroup, gboolean recursive);
double adv_latency (OwTestEnv *env, guint uid, const char *cgroup, const char *label,
                    const char *oom_in);
void adv_add_trust_tests (void);
void adv_add_deleg_tests (void);
void adv_add_bus_tests (void);
gboolean adv_under_tool (void);

void adv_kmsg_write (const char *record);
void adv_dmesg_restrict (gboolean on);

G_END_DECLS
