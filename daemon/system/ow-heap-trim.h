/* Gives the heap back to the kernel (malloc_trim) after large messages were parsed, once the
 * socket has gone quiet, at most every OW_HEAP_TRIM_INTERVAL_MS: a flood of them would
 * otherwise trim after each. Used from one thread, whose thread-default context runs. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define OW_HEAP_TRIM_INTERVAL_MS 100

typedef struct _OwHeapTrim OwHeapTrim;

OwHeapTrim *ow_heap_trim_new (void);
void ow_heap_trim_free (OwHeapTrim *self);
void ow_heap_trim_due (OwHeapTrim *self);
void ow_heap_trim_when_quiet (OwHeapTrim *self);

G_END_DECLS
