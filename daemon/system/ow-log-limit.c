/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-log-limit.h"

/* Buckets kept at most; past it, buckets that are full again go, and if none is, every
 * further uid shares one bucket. */
#define MAX_BUCKETS 1024
#define SHARED_UID G_MAXUINT32

typedef struct
{
  gint64 updated; /* when TOKENS was last brought up to date */
  guint tokens;
  guint dropped;
} Bucket;

struct _OwLogLimit
{
  GHashTable *buckets; /* uid → Bucket */
};

OwLogLimit *
ow_log_limit_new (void)
{
  OwLogLimit *self = g_new0 (OwLogLimit, 1);

  self->buckets = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  return self;
}

void
ow_log_limit_free (OwLogLimit *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->buckets);
  g_free (self);
}

static void
refill (Bucket *bucket, gint64 now)
{
  gint64 earned = (now - bucket->updated) / OW_LOG_LIMIT_REFILL_USEC;

  if (earned <= 0)
    return;
  bucket->tokens = (guint)MIN ((gint64)OW_LOG_LIMIT_BURST, bucket->tokens + earned);
  bucket->updated = bucket->tokens == OW_LOG_LIMIT_BURST
                        ? now
                        : bucket->updated + earned * OW_LOG_LIMIT_REFILL_USEC;
}

static void
prune (OwLogLimit *self, gint64 now)
{
  GHashTableIter iter;
  Bucket *bucket;

  g_hash_table_iter_init (&iter, self->buckets);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&bucket))
    {
      refill (bucket, now);
      if (bucket->tokens == OW_LOG_LIMIT_BURST && bucket->dropped == 0)
        g_hash_table_iter_remove (&iter);
    }
}

static Bucket *
lookup (OwLogLimit *self, guint32 uid, gint64 now)
{
  Bucket *bucket = g_hash_table_lookup (self->buckets, GUINT_TO_POINTER (uid));

  if (bucket != NULL)
    return bucket;
  if (g_hash_table_size (self->buckets) >= MAX_BUCKETS)
    {
      prune (self, now);
      if (g_hash_table_size (self->buckets) >= MAX_BUCKETS)
        uid = SHARED_UID;
      if ((bucket = g_hash_table_lookup (self->buckets, GUINT_TO_POINTER (uid))) != NULL)
        return bucket;
    }
  bucket = g_new0 (Bucket, 1);
  bucket->updated = now;
  bucket->tokens = OW_LOG_LIMIT_BURST;
  g_hash_table_insert (self->buckets, GUINT_TO_POINTER (uid), bucket);
  return bucket;
}

gboolean
ow_log_limit_take (OwLogLimit *self, guint32 uid, gint64 now, guint *dropped)
{
  Bucket *bucket = lookup (self, uid, now);

  refill (bucket, now);
  if (bucket->tokens == 0)
    {
      bucket->dropped++;
      return FALSE;
    }
  if (bucket->tokens == OW_LOG_LIMIT_BURST)
    bucket->updated = now; /* a full bucket earns nothing while it waits */
  bucket->tokens--;
  *dropped = bucket->dropped;
  bucket->dropped = 0;
  return TRUE;
}

void
ow_log_limit_log (OwLogLimit *self, guint32 uid, GLogLevelFlags level, const char *format, ...)
{
  g_autofree char *line = NULL;
  guint dropped = 0;
  va_list args;

  if (uid != 0 && !ow_log_limit_take (self, uid, g_get_monotonic_time (), &dropped))
    return;
  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  if (dropped > 0)
    g_log (G_LOG_DOMAIN, level, "%s (%u more such lines caused by uid %u were not logged)", line,
           dropped, uid);
  else
    g_log (G_LOG_DOMAIN, level, "%s", line);
}
