/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-bus-marshal.h"

#include <string.h>

#define PROTOCOL_VERSION 1

/* Header field codes (D-Bus spec, "Header Fields"). */
enum
{
  FIELD_PATH = 1,
  FIELD_INTERFACE = 2,
  FIELD_MEMBER = 3,
  FIELD_REPLY_SERIAL = 5,
  FIELD_DESTINATION = 6,
  FIELD_SIGNATURE = 8,
};

static void
pad (GByteArray *out, guint alignment)
{
  static const guint8 zeros[8] = { 0 };

  if (out->len % alignment != 0)
    g_byte_array_append (out, zeros, alignment - out->len % alignment);
}

static void
put_u32 (GByteArray *out, guint32 value)
{
  guint32 le = GUINT32_TO_LE (value);

  pad (out, 4);
  g_byte_array_append (out, (const guint8 *)&le, sizeof le);
}

static void
put_string (GByteArray *out, const char *string, gsize length)
{
  put_u32 (out, (guint32)length);
  g_byte_array_append (out, (const guint8 *)string, (guint)length + 1);
}

/* FALSE for a signature longer than D-Bus allows. */
static gboolean
put_signature (GByteArray *out, const char *signature, gsize length)
{
  guint8 byte = (guint8)length;

  if (length > G_MAXUINT8)
    return FALSE;
  g_byte_array_append (out, &byte, 1);
  g_byte_array_append (out, (const guint8 *)signature, (guint)length + 1);
  return TRUE;
}

/* D-Bus's alignment of a value of TYPE. */
static guint
alignment_of (const GVariantType *type)
{
  switch (g_variant_type_peek_string (type)[0])
    {
    case 'n':
    case 'q':
      return 2;
    case 'b':
    case 'i':
    case 'u':
    case 'h':
    case 's':
    case 'o':
    case 'a':
      return 4;
    case 'x':
    case 't':
    case 'd':
    case '(':
    case '{':
      return 8;
    default:
      return 1; /* y, g, v */
    }
}

/* FALSE for a type D-Bus has no form for, a maybe or an empty tuple anywhere in it (GDBus
 * refuses both, and the bus would drop the daemon's connection over them). */
static gboolean
carriable (const char *type)
{
  return strchr (type, 'm') == NULL && strstr (type, "()") == NULL;
}

static gboolean put_value (GByteArray *out, GVariant *value);

static gboolean
put_children (GByteArray *out, GVariant *value)
{
  gsize n = g_variant_n_children (value);

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GVariant) child = g_variant_get_child_value (value, i);

      if (!put_value (out, child))
        return FALSE;
    }
  return TRUE;
}

static gboolean
put_array (GByteArray *out, GVariant *value)
{
  guint at, start;
  guint32 length;

  put_u32 (out, 0);
  at = out->len - 4;
  /* The padding to the first element is not part of the length. */
  pad (out, alignment_of (g_variant_type_element (g_variant_get_type (value))));
  start = out->len;
  if (!put_children (out, value))
    return FALSE;
  length = GUINT32_TO_LE (out->len - start);
  memcpy (out->data + at, &length, sizeof length);
  return TRUE;
}

static gboolean
put_fixed (GByteArray *out, const void *data, guint size)
{
  pad (out, size);
  g_byte_array_append (out, data, size);
  return TRUE;
}

/* VALUE's wire form, aligned from the start of OUT (the body's start is 8-aligned). FALSE for
 * what D-Bus has no form for (a maybe, a signature over 255 bytes). */
static gboolean
put_value (GByteArray *out, GVariant *value)
{
  const char *type = g_variant_get_type_string (value);
  gsize length;
  const char *string;
  union
  {
    guint8 y;
    guint16 q;
    guint32 u;
    guint64 t;
    double d;
  } v;

  switch (type[0])
    {
    case 'y':
      v.y = g_variant_get_byte (value);
      return put_fixed (out, &v.y, 1);
    case 'b':
      v.u = GUINT32_TO_LE (g_variant_get_boolean (value) ? 1 : 0);
      return put_fixed (out, &v.u, 4);
    case 'n':
    case 'q':
      v.q = GUINT16_TO_LE (type[0] == 'n' ? (guint16)g_variant_get_int16 (value)
                                           : g_variant_get_uint16 (value));
      return put_fixed (out, &v.q, 2);
    case 'i':
    case 'u':
    case 'h':
      v.u = GUINT32_TO_LE (type[0] == 'u' ? g_variant_get_uint32 (value)
                           : type[0] == 'i' ? (guint32)g_variant_get_int32 (value)
                                            : (guint32)g_variant_get_handle (value));
      return put_fixed (out, &v.u, 4);
    case 'x':
    case 't':
      v.t = GUINT64_TO_LE (type[0] == 't' ? g_variant_get_uint64 (value)
                                          : (guint64)g_variant_get_int64 (value));
      return put_fixed (out, &v.t, 8);
    case 'd':
      v.d = g_variant_get_double (value);
      v.t = GUINT64_TO_LE (v.t);
      return put_fixed (out, &v.t, 8);
    case 's':
    case 'o':
      string = g_variant_get_string (value, &length);
      put_string (out, string, length);
      return TRUE;
    case 'g':
      string = g_variant_get_string (value, &length);
      return put_signature (out, string, length);
    case 'v':
      {
        g_autoptr (GVariant) child = g_variant_get_variant (value);
        const char *signature = g_variant_get_type_string (child);

        return carriable (signature) && put_signature (out, signature, strlen (signature)) && put_value (out, child);
      }
    case 'a':
      return put_array (out, value);
    case '(':
    case '{':
      pad (out, 8);
      return put_children (out, value);
    default:
      return FALSE;
    }
}

/* One header field (a struct of a byte and a variant) holding a string of TYPE. */
static void
put_string_field (GByteArray *out, guint8 code, char type, const char *value)
{
  char signature[2] = { type, '\0' };

  if (value == NULL)
    return;
  pad (out, 8);
  g_byte_array_append (out, &code, 1);
  put_signature (out, signature, 1);
  if (type == 'g')
    put_signature (out, value, strlen (value)); /* the body's: its length checked before */
  else
    put_string (out, value, strlen (value));
}

/* NULL when BODY is not a tuple D-Bus can carry. */
GBytes *
ow_bus_marshal (const OwBusHeader *header, GVariant *body)
{
  gboolean is_signal = header->type == G_DBUS_MESSAGE_TYPE_SIGNAL;
  g_autoptr (GByteArray) out = g_byte_array_sized_new (256);
  g_autoptr (GByteArray) payload = g_byte_array_new ();
  g_autofree char *signature = NULL;
  guint8 fixed[4] = { 'l', (guint8)header->type, (guint8)header->flags, PROTOCOL_VERSION };
  guint fields_at, fields_start;
  guint32 fields_length;

  /* The fields D-Bus requires of the two kinds of message the daemon sends. */
  g_return_val_if_fail (header->serial != 0, NULL);
  g_return_val_if_fail (is_signal || header->type == G_DBUS_MESSAGE_TYPE_METHOD_RETURN, NULL);
  g_return_val_if_fail (!is_signal || (header->path != NULL && header->interface != NULL
                                       && header->member != NULL),
                        NULL);
  g_return_val_if_fail (is_signal || header->reply_serial != 0, NULL);

  if (body != NULL)
    {
      const char *type = g_variant_get_type_string (body);

      if (type[0] != '(' || (strcmp (type, "()") != 0 && !carriable (type)))
        return NULL;
      if (!put_children (payload, body))
        return NULL;
      /* The body's signature is its tuple's type without the parentheses. */
      if (strlen (type) - 2 > G_MAXUINT8)
        return NULL;
      signature = g_strndup (type + 1, strlen (type) - 2);
    }
  g_byte_array_append (out, fixed, sizeof fixed);
  put_u32 (out, payload->len);
  put_u32 (out, header->serial);
  put_u32 (out, 0);
  fields_at = out->len - 4;
  fields_start = out->len;
  put_string_field (out, FIELD_PATH, 'o', header->path);
  put_string_field (out, FIELD_INTERFACE, 's', header->interface);
  put_string_field (out, FIELD_MEMBER, 's', header->member);
  if (header->reply_serial != 0)
    {
      static const guint8 code = FIELD_REPLY_SERIAL;

      pad (out, 8);
      g_byte_array_append (out, &code, 1);
      put_signature (out, "u", 1);
      put_u32 (out, header->reply_serial);
    }
  put_string_field (out, FIELD_DESTINATION, 's', header->destination);
  if (signature != NULL) /* GDBus writes an empty one for an empty tuple */
    put_string_field (out, FIELD_SIGNATURE, 'g', signature);
  fields_length = GUINT32_TO_LE (out->len - fields_start);
  memcpy (out->data + fields_at, &fields_length, sizeof fields_length);
  pad (out, 8);
  g_byte_array_append (out, payload->data, payload->len);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}
