/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The registry's insides, shared by its files: ow-registry.c (clients, watches, limits),
 * ow-registry-changes.c (what the kernel and the cgroup monitor report), ow-registry-list.c
 * (ListWatches and the configuration's persistent watches). Nothing else includes this. */
#pragma once

#include "ow-cgroup-monitor.h"
#include "ow-log-limit.h"
#include "ow-pressure.h"
#include "ow-registry.h"

G_BEGIN_DECLS

struct _OwRegistry
{
  const OwSourceContext *context; /* borrowed */
  OwCgroupMonitor *monitor;
  OwLimits limits;
  const OwRegistryListener *listener;
  gpointer user_data;
  GHashTable *watches;        /* canonical cgroup → OwWatch */
  GHashTable *clients;        /* client name → OwClient */
  GHashTable *uid_counts;     /* uid → watches held by all its clients, and paid as an owner */
  GHashTable *paid;           /* cgroup → what its owner pays for it (ow-registry-charge.c) */
  GHashTable *skipped;        /* cgroup → owner: covered by recursive watches, left out */
  GHashTable *skipped_counts; /* owner → its cgroups in SKIPPED */
  OwLogLimit *log_limit;      /* lines a user's cgroups cause */
  GHashTable *pressured;      /* watches with an OwPressure (keys borrowed from the watch) */
  GHashTable *to_sync;        /* cgroups to read again at the next idle moment (owned) */
  guint sync_idle_id;
};

/* A connection that holds watches, or is being given its first. It watches a cgroup when it
 * asked for it (plain), or when the cgroup is in the subtree of one of its recursive roots. */
typedef struct
{
  guint32 uid;
  GHashTable *cgroups;   /* every cgroup it watches now → whether its owner pays (not NULL) */
  GHashTable *plain;     /* asked for one by one */
  GHashTable *recursive; /* roots of recursive watches */
  GHashTable *asks;      /* pressure/events asked per watch (ow-registry-pressure.c) */
} OwClient;

OwClient *ow_registry_ensure_client (OwRegistry *self, const char *name, guint32 uid);
void ow_registry_forget_client_if_idle (OwRegistry *self, const char *name);
gboolean ow_registry_covered_by_recursive (OwClient *client, const char *cgroup);
gboolean ow_registry_client_wants (OwClient *client, const char *cgroup);
void ow_registry_remove_watch (OwRegistry *self, const char *cgroup);
void ow_registry_drop_watcher (OwRegistry *self, const char *cgroup, const char *name);
gboolean ow_registry_check_limits (OwRegistry *self, OwClient *client, const char *cgroup,
                                   GPtrArray *wanted, GHashTable *payers, GError **error);
GPtrArray *ow_registry_walk_subtree (OwRegistry *self, OwClient *client, const char *cgroup,
                                     GError **error);
gboolean ow_registry_skippable (OwRegistry *self, const char *cgroup, const GError *error);
gboolean ow_registry_add_all (OwRegistry *self, const char *name, GPtrArray *wanted,
                              GHashTable *payers, gboolean follow, OwSourceBaseline baseline,
                              GError **error);

/* ow-registry-charge.c. PAYERS: cgroup → the owner that pays for it; the client pays for the
 * others (NULL: for all). */
guint32 ow_registry_owner_of (OwRegistry *self, const char *cgroup);
void ow_registry_charge (OwRegistry *self, OwClient *client, const char *cgroup,
                         GHashTable *payers);
void ow_registry_client_remove_cgroup (OwRegistry *self, OwClient *client, const char *cgroup);
/* Of WANTED (parents first; from FIRST_BELOW on, reached through a recursive watch), those
 * another non-root user owns are paid by their owner. Those their owner cannot pay for are
 * skipped, with everything below them, and removed from WANTED. Returns the payers. */
GHashTable *ow_registry_plan_payers (OwRegistry *self, OwClient *client, GPtrArray *wanted,
                                     guint first_below);
void ow_registry_skip (OwRegistry *self, const char *cgroup, guint32 owner, const char *why);
void ow_registry_unskip (OwRegistry *self, const char *cgroup);

/* ow-registry-pressure.c */
void ow_registry_remember_ask (OwClient *client, const char *cgroup, gboolean recursive,
                               const OwWatchAsk *ask);
void ow_registry_forget_ask (OwClient *client, const char *cgroup, gboolean recursive);
void ow_registry_forget_unwatched_ask (OwClient *client, const char *cgroup);
gboolean ow_registry_apply_ask (OwRegistry *self, const char *cgroup, const char *name,
                                GError **error);
gboolean ow_registry_apply_ask_or_drop (OwRegistry *self, const char *cgroup, const char *name,
                                        GError **error);
void ow_registry_reapply_asks (OwRegistry *self, const char *name, const char *below);
void ow_registry_forget_pressure (OwWatch *watch, const char *name);
void ow_registry_pressure_costs (OwRegistry *self, OwClient *client, GPtrArray *wanted,
                                 guint *units, guint *fds);
gboolean ow_registry_change_ask (OwRegistry *self, const char *name, const char *cgroup,
                                 gboolean recursive, const OwWatchAsk *ask, GError **error);

/* ow-registry-ledger.c */
void ow_registry_ledger_open (OwRegistry *self, const char *parent);
void ow_registry_ledger_close (OwRegistry *self, const char *parent, const char *why);
void ow_registry_ledger_count (OwRegistry *self, const char *cgroup, const OwEvent *event);
void ow_registry_ledger_settle (OwRegistry *self, OwWatch *gone,
                                void (*tell) (OwRegistry *self, OwWatch *watch,
                                              const OwEvent *event));
void ow_registry_ledger_skip_unread (OwRegistry *self, const char *parent);

extern const OwSourceListener ow_registry_source_listener;
extern const OwCgroupMonitorListener ow_registry_monitor_listener;

G_END_DECLS
