/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fake event sources for unit tests: the registry makes them through the source factory seam
 * of OwSourceContext (ow-source.h) and the tests drive them by hand: emit events, report the
 * removal, fail the next registration of a cgroup with a chosen error. Each records the
 * baseline it was made with and how often it was synced. No root and no cgroups needed: the
 * cgroups are plain directories of an ow_hierarchy_new_for_tests hierarchy. */
#pragma once

#include "ow-source.h"

G_BEGIN_DECLS

typedef struct _OwFakeFactory OwFakeFactory;
typedef struct _OwFakeSource OwFakeSource;

OwFakeFactory *ow_fake_factory_new (void);
void ow_fake_factory_free (OwFakeFactory *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwFakeFactory, ow_fake_factory_free)

/* Makes CONTEXT's registry use fake sources made by SELF. */
void ow_fake_factory_install (OwFakeFactory *self, OwSourceContext *context);
/* The next source of CGROUP fails with DOMAIN/CODE (every time with PERSISTENT). */
void ow_fake_factory_fail (OwFakeFactory *self, const char *cgroup, GQuark domain, int code,
                           gboolean persistent);
/* The kill counter the "kernel" keeps for CGROUP; a source made with BASELINE_ZERO reports
 * it as oom-kill on its first sync, one made with BASELINE_NOW starts from it. */
void ow_fake_factory_set_kills (OwFakeFactory *self, const char *cgroup, guint64 kills);
/* With V2_COUNTERS, sources count as v2's memory.events does: a parent's counters include
 * its children's (kills set on cgroups removed since still count), and a sync of a removed
 * cgroup reports the removal. Without (the default), neither. */
void ow_fake_factory_set_v2_counters (OwFakeFactory *self, gboolean v2_counters);
/* When the source of CGROUP is made, run FUNC (once): lets a test act at that very moment,
 * e.g. make a directory after the registry listed CGROUP but before it follows it. */
void ow_fake_factory_on_make (OwFakeFactory *self, const char *cgroup, GFunc func, gpointer data);
/* The live source of CGROUP, or NULL. */
OwFakeSource *ow_fake_factory_lookup (OwFakeFactory *self, const char *cgroup);
guint ow_fake_factory_n_live (OwFakeFactory *self);
guint ow_fake_factory_n_made (OwFakeFactory *self);

OwSourceBaseline ow_fake_source_get_baseline (OwFakeSource *source);
guint ow_fake_source_get_syncs (OwFakeSource *source);
guint64 ow_fake_source_get_ino (OwFakeSource *source);
/* The cgroup's kill counter rose to KILLS: reports the rise (and nothing when it did not). */
void ow_fake_source_kills (OwFakeSource *source, guint64 kills);
void ow_fake_source_emit (OwFakeSource *source, OwEventKind kind, guint64 count);
/* The kernel says the cgroup is gone; the registry frees the source. */
void ow_fake_source_removed (OwFakeSource *source);

G_END_DECLS
