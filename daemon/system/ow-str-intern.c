/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-str-intern.h"

#include <string.h>

/* The last string interned, one reference of its own: alive, nothing else can be at its
 * address, and GLib's table keeps it. */
static GRefString *last;
G_LOCK_DEFINE_STATIC (last);

GRefString *
ow_str_intern (const char *s)
{
  GRefString *found;

  G_LOCK (last);
  if (last == NULL || (s != last && strcmp (s, last) != 0))
    {
      g_clear_pointer (&last, g_ref_string_release);
      last = g_ref_string_new_intern (s);
    }
  found = g_ref_string_acquire (last);
  G_UNLOCK (last);
  return found;
}
