/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fixture for the registry's unit tests: a registry over a hierarchy of plain directories in
 * a temporary directory (ow_hierarchy_new_for_tests), with fake sources, recording what it
 * tells its listener. Set up and torn down by g_test_add, so a failed check still cleans up. */
#pragma once

#include "ow-fake-source.h"
#include "ow-registry.h"

G_BEGIN_DECLS

typedef struct
{
  char *dir; /* the hierarchy's root directory */
  OwHierarchy *hierarchy;
  OwSourceContext context;
  OwFakeFactory *factory;
  OwRegistry *registry;
  GPtrArray *events;  /* "CGROUP KIND COUNT", in order */
  GPtrArray *removed; /* cgroups the listener was told are gone, in order */
  gboolean removals_in_events; /* each removal is also an event line, "CGROUP removed" */
} OwTestRegistry;

/* For g_test_add: the hierarchy version (1 or 2) as GUINT_TO_POINTER, NULL for 1. */
void ow_test_registry_setup (OwTestRegistry *fixture, gconstpointer version);
void ow_test_registry_teardown (OwTestRegistry *fixture, gconstpointer version);

/* A new registry (and so a new inotify fd) in place of the fixture's. */
void ow_test_registry_remake (OwTestRegistry *fixture);
void ow_test_registry_set_limits (OwTestRegistry *fixture, guint client, guint total);
/* Makes the directories of CGROUP (canonical) and of its parents. */
void ow_test_registry_mkdir (OwTestRegistry *fixture, const char *cgroup);
void ow_test_registry_rmdir (OwTestRegistry *fixture, const char *cgroup);
void ow_test_registry_watch_ok (OwTestRegistry *fixture, const char *client, guint32 uid,
                                const char *cgroup, gboolean recursive);
/* Bounded wait (scaled) until CGROUP is watched, or is not. */
gboolean ow_test_registry_wait_watched (OwTestRegistry *fixture, const char *cgroup,
                                        gboolean watched);
/* Waits until the cgroup monitor has read every directory event queued so far: MARKER, a new
 * directory in a followed one, is watched once the events before it were handled (inotify
 * keeps their order). */
void ow_test_registry_drain (OwTestRegistry *fixture, const char *marker);
/* The ListWatches entry of CGROUP (a{sv}), or NULL. */
GVariant *ow_test_registry_describe (OwTestRegistry *fixture, const char *cgroup);
gboolean ow_test_registry_has_event (OwTestRegistry *fixture, const char *line);
guint ow_test_registry_n_removed (OwTestRegistry *fixture, const char *cgroup);

G_END_DECLS
