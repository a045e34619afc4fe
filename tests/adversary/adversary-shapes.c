/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Message bodies whose parse costs a D-Bus library most per wire byte: many tiny values, each
 * its own container or variant. Each fills the body up to a size. */
#include "adversary-wire.h"

#include <string.h>

/* The D-Bus spec's limit on nested arrays. */
#define MAX_ARRAY_DEPTH 32

/* One value of type DEPTH × "a" then "y", each array holding one element. */
static void
nested (AdvBody *body, guint depth)
{
  static const guint8 byte = 1;
  guint at, start;
  guint32 length;

  if (depth == 0)
    {
      g_byte_array_append (body, &byte, 1);
      return;
    }
  adv_body_u32 (body, 0);
  at = body->len - 4;
  start = body->len;
  nested (body, depth - 1);
  length = body->len - start;
  memcpy (body->data + at, &length, 4);
}

/* One element of SHAPE's array. */
static void
element (AdvBody *body, const char *shape)
{
  static const guint8 byte_variant[] = { 1, 'y', 0, 1 };

  if (g_str_equal (shape, "av"))
    g_byte_array_append (body, byte_variant, sizeof byte_variant);
  else if (g_str_equal (shape, "aav"))
    adv_body_u32 (body, 0);
  else if (g_str_equal (shape, "asv"))
    {
      adv_body_align (body, 8);
      adv_body_string (body, "k", 1);
      adv_body_signature (body, "ay");
      adv_body_u32 (body, 0);
    }
  else
    nested (body, MAX_ARRAY_DEPTH - 1);
}

/* Fills BODY with one array of SHAPE ("av": one-byte variants; "aav": empty arrays of
 * variants; "asv": a{sv} whose values are empty arrays; "deep": arrays nested 32 deep) up to
 * MAX_BYTES; returns its signature, or NULL for an unknown shape. */
const char *
adv_body_shape (AdvBody *body, const char *shape, gsize max_bytes)
{
  static char deep[MAX_ARRAY_DEPTH + 2];
  guint at, start;
  guint32 length;

  if (deep[0] == '\0')
    {
      memset (deep, 'a', MAX_ARRAY_DEPTH);
      deep[MAX_ARRAY_DEPTH] = 'y';
    }
  if (!g_str_equal (shape, "av") && !g_str_equal (shape, "aav") && !g_str_equal (shape, "asv")
      && !g_str_equal (shape, "deep"))
    return NULL;
  adv_body_u32 (body, 0);
  at = body->len - 4;
  if (g_str_equal (shape, "asv"))
    adv_body_align (body, 8);
  start = body->len;
  while (body->len + 256 < max_bytes)
    element (body, shape);
  length = body->len - start;
  memcpy (body->data + at, &length, 4);
  if (g_str_equal (shape, "av"))
    return "av";
  if (g_str_equal (shape, "aav"))
    return "aav";
  if (g_str_equal (shape, "asv"))
    return "a{sv}";
  return deep;
}
