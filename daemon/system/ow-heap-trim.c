#include "ow-heap-trim.h"

#include <malloc.h>

struct _OwHeapTrim
{
  gint ref_count; /* a pending timeout holds one */
  gboolean due;
  gint64 last;
  GSource *later;
};

static void
trim_unref (OwHeapTrim *self)
{
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_free (self);
}

static gboolean
trim_now (gpointer user_data)
{
  OwHeapTrim *self = user_data;

  malloc_trim (0);
  self->last = g_get_monotonic_time ();
  self->due = FALSE;
  g_clear_pointer (&self->later, g_source_unref);
  return G_SOURCE_REMOVE;
}

void
ow_heap_trim_when_quiet (OwHeapTrim *self)
{
  gint64 wait_ms;

  if (!self->due || self->later != NULL)
    return;
  wait_ms = OW_HEAP_TRIM_INTERVAL_MS - (g_get_monotonic_time () - self->last) / 1000;
  if (wait_ms <= 0)
    {
      trim_now (self);
      return;
    }
  self->later = g_timeout_source_new ((guint)wait_ms);
  g_atomic_int_inc (&self->ref_count);
  g_source_set_callback (self->later, trim_now, self, (GDestroyNotify)trim_unref);
  g_source_attach (self->later, g_main_context_get_thread_default ());
}

void
ow_heap_trim_due (OwHeapTrim *self)
{
  self->due = TRUE;
}

OwHeapTrim *
ow_heap_trim_new (void)
{
  OwHeapTrim *self = g_new0 (OwHeapTrim, 1);

  self->ref_count = 1;
  return self;
}

/* A trim still pending runs, in its own thread, and frees what is left. */
void
ow_heap_trim_free (OwHeapTrim *self)
{
  trim_unref (self);
}
