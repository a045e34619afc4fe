/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-str-hash.h"

#include <string.h>

#define MIX 0x9e3779b97f4a7c15ull /* 2^64 / the golden ratio, odd */

static inline guint64
mix (guint64 hash, guint64 word)
{
  hash = (hash ^ word) * MIX;
  return hash ^ (hash >> 29);
}

guint
ow_str_hash (gconstpointer key)
{
  const char *text = key;
  gsize length = strlen (text);
  guint64 hash = length * MIX, word;

  for (; length >= sizeof word; text += sizeof word, length -= sizeof word)
    {
      memcpy (&word, text, sizeof word);
      hash = mix (hash, word);
    }
  word = 0;
  memcpy (&word, text, length);
  hash = mix (hash, word);
  return (guint)(hash ^ (hash >> 32));
}
