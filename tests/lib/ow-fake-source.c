/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-fake-source.h"
#include "ow-fd.h"
#include "oomwatch-cgroup.h"

#include <string.h>

#include <sys/stat.h>

struct _OwFakeFactory
{
  GHashTable *live;     /* cgroup → OwFakeSource (borrowed: the registry owns sources) */
  GHashTable *failures; /* cgroup → Failure */
  GHashTable *kills;    /* cgroup → guint64 * */
  GHashTable *hooks;    /* cgroup → Hook */
  guint made;
  gboolean v2_counters;
};

typedef struct
{
  GFunc func;
  gpointer data;
} Hook;

typedef struct
{
  GQuark domain;
  int code;
  gboolean persistent;
} Failure;

struct _OwFakeSource
{
  OwSource parent;
  OwFakeFactory *factory;
  OwSourceBaseline baseline;
  guint64 seen_kills;
  guint syncs;
};

static guint64
kernel_kills (OwFakeFactory *self, const char *cgroup)
{
  guint64 *kills = g_hash_table_lookup (self->kills, cgroup);

  return kills != NULL ? *kills : 0;
}

void
ow_fake_source_kills (OwFakeSource *source, guint64 kills)
{
  OwEvent event = { .kind = OW_EVENT_OOM_KILL, .has_total = TRUE, .total = kills };

  ow_fake_factory_set_kills (source->factory, source->parent.cgroup, kills);
  event.count = kills > source->seen_kills ? kills - source->seen_kills : 0;
  source->seen_kills = kills;
  ow_source_emit (&source->parent, &event);
}

static void
fake_sync (OwSource *source)
{
  OwFakeSource *self = (OwFakeSource *)source;
  g_auto (OwFd) fd = -1;

  self->syncs++;
  if (self->factory->v2_counters
      && (fd = ow_hierarchy_open_cgroup (source->context->hierarchy, source->cgroup, NULL)) < 0)
    {
      ow_source_emit_removed (source); /* as a read failing with ENODEV */
      return;
    }
  ow_fake_source_kills (self, kernel_kills (self->factory, source->cgroup));
}

/* v2: the kills of the cgroups below, as the parent's memory.events counts them (each
 * cgroup's count is its own here: the sum is over children alone). */
static gboolean
fake_read_descendants (OwSource *source, OwCounters *out)
{
  OwFakeSource *self = (OwFakeSource *)source;
  GHashTableIter iter;
  const char *cgroup;
  guint64 *kills;

  if (!self->factory->v2_counters)
    return FALSE;
  out->has[OW_COUNTER_OOM_KILL] = TRUE;
  g_hash_table_iter_init (&iter, self->factory->kills);
  while (g_hash_table_iter_next (&iter, (gpointer *)&cgroup, (gpointer *)&kills))
    {
      g_autofree char *parent = oomwatch_cgroup_parent (cgroup);

      if (parent != NULL && strcmp (parent, source->cgroup) == 0)
        out->value[OW_COUNTER_OOM_KILL] += *kills;
    }
  return TRUE;
}

static void
fake_describe (OwSource *source, GVariantDict *dict)
{
  g_variant_dict_insert (dict, "fake-syncs", "u", ((OwFakeSource *)source)->syncs);
}

static void
fake_free (OwSource *source)
{
  OwFakeSource *self = (OwFakeSource *)source;

  /* Only the live entry of this very source: a newer one of the same cgroup may exist. */
  if (g_hash_table_lookup (self->factory->live, source->cgroup) == self)
    g_hash_table_remove (self->factory->live, source->cgroup);
  g_free (self);
}

static const OwSourceVTable fake_vtable = {
  .sync = fake_sync,
  .describe = fake_describe,
  .free = fake_free,
  .read_descendants = fake_read_descendants,
};

static OwSource *
fake_new (const OwSourceContext *context, const char *canonical, OwSourceBaseline baseline,
          const OwSourceListener *listener, gpointer user_data, GError **error)
{
  OwFakeFactory *factory = context->factory_data;
  Failure *failure = g_hash_table_lookup (factory->failures, canonical);
  g_auto (OwFd) fd = -1;
  OwFakeSource *self;
  struct stat st;

  if (failure != NULL)
    {
      g_set_error (error, failure->domain, failure->code, "fake failure for '%s'", canonical);
      if (!failure->persistent)
        g_hash_table_remove (factory->failures, canonical);
      return NULL;
    }
  /* Like the real sources: the cgroup must be there, and its inode tells a re-creation. */
  fd = ow_hierarchy_open_cgroup (context->hierarchy, canonical, error);
  if (fd < 0)
    return NULL;
  g_assert_cmpint (fstat (fd, &st), ==, 0);
  self = g_new0 (OwFakeSource, 1);
  ow_source_init (&self->parent, &fake_vtable, context, canonical, listener, user_data);
  self->parent.ino = st.st_ino;
  self->factory = factory;
  self->baseline = baseline;
  self->seen_kills = baseline == OW_SOURCE_BASELINE_NOW ? kernel_kills (factory, canonical) : 0;
  g_hash_table_insert (factory->live, g_strdup (canonical), self);
  factory->made++;
  {
    Hook *hook = g_hash_table_lookup (factory->hooks, canonical);

    if (hook != NULL)
      {
        Hook once = *hook;

        g_hash_table_remove (factory->hooks, canonical);
        once.func ((gpointer)canonical, once.data);
      }
  }
  return &self->parent;
}

OwFakeFactory *
ow_fake_factory_new (void)
{
  OwFakeFactory *self = g_new0 (OwFakeFactory, 1);

  self->live = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->failures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->kills = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->hooks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return self;
}

void
ow_fake_factory_free (OwFakeFactory *self)
{
  if (self == NULL)
    return;
  /* The registry frees its sources first; one still here would point at freed memory. */
  g_assert_cmpuint (g_hash_table_size (self->live), ==, 0);
  g_hash_table_unref (self->live);
  g_hash_table_unref (self->failures);
  g_hash_table_unref (self->kills);
  g_hash_table_unref (self->hooks);
  g_free (self);
}

void
ow_fake_factory_install (OwFakeFactory *self, OwSourceContext *context)
{
  context->factory = fake_new;
  context->factory_data = self;
}

void
ow_fake_factory_fail (OwFakeFactory *self, const char *cgroup, GQuark domain, int code,
                      gboolean persistent)
{
  Failure *failure = g_new0 (Failure, 1);

  failure->domain = domain;
  failure->code = code;
  failure->persistent = persistent;
  g_hash_table_insert (self->failures, g_strdup (cgroup), failure);
}

void
ow_fake_factory_set_kills (OwFakeFactory *self, const char *cgroup, guint64 kills)
{
  g_hash_table_insert (self->kills, g_strdup (cgroup), g_memdup2 (&kills, sizeof kills));
}

void
ow_fake_factory_set_v2_counters (OwFakeFactory *self, gboolean v2_counters)
{
  self->v2_counters = v2_counters;
}

void
ow_fake_factory_on_make (OwFakeFactory *self, const char *cgroup, GFunc func, gpointer data)
{
  Hook *hook = g_new0 (Hook, 1);

  hook->func = func;
  hook->data = data;
  g_hash_table_insert (self->hooks, g_strdup (cgroup), hook);
}

OwFakeSource *
ow_fake_factory_lookup (OwFakeFactory *self, const char *cgroup)
{
  return g_hash_table_lookup (self->live, cgroup);
}

guint
ow_fake_factory_n_live (OwFakeFactory *self)
{
  return g_hash_table_size (self->live);
}

guint
ow_fake_factory_n_made (OwFakeFactory *self)
{
  return self->made;
}

OwSourceBaseline
ow_fake_source_get_baseline (OwFakeSource *source)
{
  return source->baseline;
}

guint
ow_fake_source_get_syncs (OwFakeSource *source)
{
  return source->syncs;
}

guint64
ow_fake_source_get_ino (OwFakeSource *source)
{
  return source->parent.ino;
}

void
ow_fake_source_emit (OwFakeSource *source, OwEventKind kind, guint64 count)
{
  OwEvent event = { .kind = kind, .count = count };

  ow_source_emit (&source->parent, &event);
}

void
ow_fake_source_removed (OwFakeSource *source)
{
  ow_source_emit_removed (&source->parent);
}
