/* What oomctl watch and oomctl monitor share: print the daemon's signals as they arrive, until
 * Ctrl-C, --count events, --timeout, every watched cgroup removed, or the daemon gone. */
#pragma once

#include "oomctl-common.h"

G_BEGIN_DECLS

typedef struct
{
  gboolean json;
  int count;   /* events to print before exiting; 0: no limit */
  int timeout; /* seconds; 0: none */
} OomctlListenOptions;

typedef struct _OomctlListener OomctlListener;

/* Adds --json, --count and --timeout to CONTEXT. */
void oomctl_listen_options_add (GOptionContext *context, OomctlListenOptions *options);

/* Prints MANAGER's signals from now on (so none is lost between a Watch call and the loop):
 * with WATCHING, only those of the cgroups given to oomctl_listener_add (and, with
 * RECURSIVE, below them); else every one. */
OomctlListener *oomctl_listener_new (OomwatchManager *manager, const OomctlListenOptions *options,
                                     gboolean watching, gboolean recursive);
/* CANONICAL: a cgroup Watch() answered; taken. */
void oomctl_listener_add (OomctlListener *self, char *canonical);
/* Runs until done; returns the exit status. */
int oomctl_listener_run (OomctlListener *self);
void oomctl_listener_free (OomctlListener *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OomctlListener, oomctl_listener_free)

G_END_DECLS
