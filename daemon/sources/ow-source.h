/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An event source: what turns one cgroup's kernel notifications into OwEvents. The cgroup
 * v1 eventfd source, the v2 memory.events source and the v2 root source implement it; the
 * registry owns every source and only sees this interface.
 *
 * Lifetime rule: a source never frees itself. When its cgroup goes away it calls
 * listener->removed as the very last thing it does in that callback; the owner may free the
 * source from inside that call (the fd mux allows an entry to be removed from its own
 * callback). */
#pragma once

#include "ow-counters.h"
#include "ow-event.h"
#include "ow-fd-budget.h"
#include "ow-fd-mux.h"
#include "ow-kill-wait.h"
#include "ow-container-names.h"
#include "ow-hierarchy.h"

#include <gio/gio.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct _OwSource OwSource;

typedef struct
{
  void (*event) (const char *cgroup, const OwEvent *event, gpointer user_data);
  void (*removed) (const char *cgroup, gpointer user_data);
} OwSourceListener;

/* Where counting starts: from the counters as they are now, or from zero for a cgroup that
 * was just created under a recursive watch (whatever it holds happened while watched). */
typedef enum
{
  OW_SOURCE_BASELINE_NOW,
  OW_SOURCE_BASELINE_ZERO,
} OwSourceBaseline;

typedef struct _OwSourceContext OwSourceContext;

/* Makes the source of one cgroup; the signature of ow_source_new (ow-source-factory.c). */
typedef OwSource *(*OwSourceFactory) (const OwSourceContext *context, const char *canonical,
                                      OwSourceBaseline baseline, const OwSourceListener *listener,
                                      gpointer user_data, GError **error);

/* What every source needs; owned by the manager, which outlives every source. */
struct _OwSourceContext
{
  OwHierarchy *hierarchy;
  OwFdMux *mux;
  OwFdBudget *fd_budget;       /* each source is a user; spare fds are lent (NULL: none) */
  const char *kernel_log_path; /* the v2 root source is woken by the kernel log */
  OwKillWait *kill_wait;       /* v1 sources waiting for a kill (NULL: they use timers) */
  /* What the registry makes its sources with: ow_source_new (ow-source-factory.h) in the
   * daemon; unit tests plug in fake sources they drive by hand (tests/ow-fake-source.c), and
   * find their own state in factory_data. */
  OwSourceFactory factory;
  gpointer factory_data;
  /* Pod and container names for the identity of watches (NULL: none). */
  OwContainerNames *container_names;
};

typedef struct
{
  /* Re-reads the kernel's state and reports what changed since the baseline. */
  void (*sync) (OwSource *source);
  /* Adds source-specific state (e.g. under-oom) to a ListWatches entry. */
  void (*describe) (OwSource *source, GVariantDict *dict);
  void (*free) (OwSource *source);
  /* Continuity: the kernel counters as last read (the baseline, right after creation). */
  void (*counters) (OwSource *source, OwCounters *out);
  /* Reads, now and without reporting, what the cgroup's descendants account for in its
   * hierarchical counters (v2: memory.events less memory.events.local). FALSE where the
   * counters are not hierarchical or cannot be read. (ow-registry-ledger.c) */
  gboolean (*read_descendants) (OwSource *source, OwCounters *out);
} OwSourceVTable;

struct _OwSource
{
  const OwSourceVTable *vtable;
  const OwSourceContext *context;
  const OwSourceListener *listener;
  gpointer user_data;
  char *cgroup;
  ino_t ino; /* the cgroup directory's inode: a recreated cgroup is another directory */
};

void ow_source_init (OwSource *source, const OwSourceVTable *vtable, const OwSourceContext *context,
                     const char *cgroup, const OwSourceListener *listener, gpointer user_data);
void ow_source_emit (OwSource *source, const OwEvent *event);
void ow_source_emit_removed (OwSource *source);
void ow_source_sync (OwSource *source);
void ow_source_describe (OwSource *source, GVariantDict *dict);
void ow_source_free (OwSource *source);
gboolean ow_source_get_counters (OwSource *source, OwCounters *counters);
gboolean ow_source_read_descendants (OwSource *source, OwCounters *counters);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwSource, ow_source_free)

G_END_DECLS
