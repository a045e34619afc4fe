/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's D-Bus marshaller against GDBus's own: random bodies of every type D-Bus has, in
 * signals and replies, must make the same message as g_dbus_message_to_blob() (the same fixed
 * header and body bytes, and the same message once parsed; GDBus may order the header fields
 * otherwise), and a body GDBus refuses (a maybe, an empty tuple inside) no message at all.
 * Run with --seed to replay a failure. */
#include "ow-bus-marshal.h"

#include <string.h>

#define ROUNDS 3000
#define MAX_DEPTH 3

static const char *const strings[] = { "", "a", "oom-kill", "/sys/fs/cgroup/a b",
                                       "é ü 漢字", "a\tb\nc", "0123456789abcdef0123456789" };
static const char *const paths[] = { "/", "/a", "/org/oomwatch/OomWatch1", "/a/b_c/D9" };
static const char *const signatures[] = { "", "s", "a{sv}", "(ssta{sv})", "aay" };

/* Mostly types D-Bus has; now and then a maybe or an empty tuple, which it has not. */
static void
random_type (GString *out, guint depth)
{
  static const char basic[] = "ybnqiuxtdsogh";
  guint pick = g_test_rand_int_range (0, depth >= MAX_DEPTH ? 13 : 19);

  if (pick < 13)
    g_string_append_c (out, basic[pick]);
  else if (pick == 13)
    g_string_append_c (out, 'v');
  else if (pick == 14)
    {
      g_string_append_c (out, 'a');
      random_type (out, depth + 1);
    }
  else if (pick == 15)
    {
      g_string_append (out, "a{");
      g_string_append_c (out, basic[g_test_rand_int_range (0, 13)]);
      random_type (out, depth + 1);
      g_string_append_c (out, '}');
    }
  else if (pick == 16 && g_test_rand_int_range (0, 8) == 0)
    {
      g_string_append_c (out, 'm');
      random_type (out, depth + 1);
    }
  else if (pick == 16 && g_test_rand_int_range (0, 8) == 0)
    g_string_append (out, "()");
  else
    {
      guint n = g_test_rand_int_range (1, 4);

      g_string_append_c (out, '(');
      for (guint i = 0; i < n; i++)
        random_type (out, depth + 1);
      g_string_append_c (out, ')');
    }
}

static GVariant *random_value (const GVariantType *type, guint depth);

static GVariant *
random_container (const GVariantType *type, guint depth)
{
  g_auto (GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (type);

  if (g_variant_type_is_array (type))
    {
      guint n = g_test_rand_int_range (0, 4);

      for (guint i = 0; i < n; i++)
        g_variant_builder_add_value (
            &builder, random_value (g_variant_type_element (type), depth + 1));
      return g_variant_builder_end (&builder);
    }
  for (const GVariantType *item = g_variant_type_first (type); item != NULL;
       item = g_variant_type_next (item))
    g_variant_builder_add_value (&builder, random_value (item, depth + 1));
  return g_variant_builder_end (&builder);
}

static GVariant *
random_value (const GVariantType *type, guint depth)
{
  const char *t = g_variant_type_peek_string (type);
  guint64 bits = ((guint64)g_test_rand_int () << 32) | (guint32)g_test_rand_int ();

  switch (t[0])
    {
    case 'y': return g_variant_new_byte ((guint8)bits);
    case 'b': return g_variant_new_boolean (bits & 1);
    case 'n': return g_variant_new_int16 ((gint16)bits);
    case 'q': return g_variant_new_uint16 ((guint16)bits);
    case 'i': return g_variant_new_int32 ((gint32)bits);
    case 'u': return g_variant_new_uint32 ((guint32)bits);
    case 'h': return g_variant_new_handle ((gint32)(bits % 8));
    case 'x': return g_variant_new_int64 ((gint64)bits);
    case 't': return g_variant_new_uint64 (bits);
    case 'd': return g_variant_new_double (g_test_rand_double_range (-1e9, 1e9));
    case 's': return g_variant_new_string (strings[bits % G_N_ELEMENTS (strings)]);
    case 'o': return g_variant_new_object_path (paths[bits % G_N_ELEMENTS (paths)]);
    case 'g': return g_variant_new_signature (signatures[bits % G_N_ELEMENTS (signatures)]);
    case 'm':
      return g_variant_new_maybe (g_variant_type_element (type),
                                  bits & 1 ? random_value (g_variant_type_element (type), depth + 1)
                                           : NULL);
    case 'v':
      {
        g_autoptr (GString) inner = g_string_new (NULL);

        random_type (inner, depth + 1);
        return g_variant_new_variant (
            random_value (G_VARIANT_TYPE (inner->str), depth + 1));
      }
    default: return random_container (type, depth);
    }
}

static GVariant *
random_body (void)
{
  g_autoptr (GString) type = g_string_new ("(");
  guint n = g_test_rand_int_range (0, 4);

  for (guint i = 0; i < n; i++)
    random_type (type, 1);
  g_string_append_c (type, ')');
  return g_variant_ref_sink (random_value (G_VARIANT_TYPE (type->str), 1));
}

/* The same message from GDBus, serialised by it. */
static GDBusMessage *
gdbus_message (const OwBusHeader *header, GVariant *body)
{
  GDBusMessage *message = g_dbus_message_new ();

  g_dbus_message_set_message_type (message, header->type);
  g_dbus_message_set_flags (message, header->flags);
  g_dbus_message_set_byte_order (message, G_DBUS_MESSAGE_BYTE_ORDER_LITTLE_ENDIAN);
  g_dbus_message_set_serial (message, header->serial);
  if (header->reply_serial != 0)
    g_dbus_message_set_reply_serial (message, header->reply_serial);
  if (header->path != NULL)
    g_dbus_message_set_path (message, header->path);
  if (header->interface != NULL)
    g_dbus_message_set_interface (message, header->interface);
  if (header->member != NULL)
    g_dbus_message_set_member (message, header->member);
  if (header->destination != NULL)
    g_dbus_message_set_destination (message, header->destination);
  if (body != NULL)
    g_dbus_message_set_body (message, body);
  return message;
}

/* Where a message's body starts: after its fields, padded to 8. */
static gsize
body_offset (const guint8 *blob)
{
  guint32 fields;

  memcpy (&fields, blob + 12, sizeof fields);
  return (16 + GUINT32_FROM_LE (fields) + 7) / 8 * 8;
}

static void
assert_same (const OwBusHeader *header, GVariant *body)
{
  g_autofree char *signature = NULL;
  g_autoptr (GDBusMessage) theirs = NULL;
  g_autoptr (GBytes) ours = ow_bus_marshal (header, body);
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) ours_error = NULL;
  g_autofree guchar *blob = NULL;
  g_autoptr (GDBusMessage) ours_parsed = NULL;
  g_autoptr (GDBusMessage) theirs_parsed = NULL;
  g_autofree char *ours_text = NULL;
  g_autofree char *theirs_text = NULL;
  const guint8 *data;
  gsize size, their_size;

  if (body != NULL)
    {
      const char *type = g_variant_get_type_string (body);

      signature = g_strndup (type + 1, strlen (type) - 2);
      if (!g_variant_is_signature (signature))
        {
          g_assert_null (ours); /* a maybe: GDBus has no signature for it */
          return;
        }
    }
  theirs = gdbus_message (header, body);
  blob = g_dbus_message_to_blob (theirs, &their_size, G_DBUS_CAPABILITY_FLAGS_NONE, &error);
  if (blob == NULL)
    {
      g_assert_null (ours); /* GDBus refuses it: so do we */
      return;
    }
  if (ours == NULL)
    {
      /* GDBus writes what the bus would refuse: an empty tuple in a type it had no value of
       * to walk (an empty array), or a signature over 255 bytes. */
      g_autofree char *text = g_variant_print (body, TRUE);

      g_assert_true (strstr (text, "()") != NULL
                     || strlen (g_variant_get_type_string (body)) - 2 > G_MAXUINT8);
      return;
    }
  data = g_bytes_get_data (ours, &size);
  /* Byte order, type, flags, version, body length, serial. */
  g_assert_cmpmem (data, 12, blob, 12);
  g_assert_cmpmem (data + body_offset (data), size - body_offset (data),
                   blob + body_offset (blob), their_size - body_offset (blob));
  theirs_parsed = g_dbus_message_new_from_blob (blob, their_size, G_DBUS_CAPABILITY_FLAGS_NONE,
                                                &error);
  ours_parsed = g_dbus_message_new_from_blob ((guchar *)data, size,
                                              G_DBUS_CAPABILITY_FLAGS_NONE, &ours_error);
  if (theirs_parsed == NULL)
    {
      /* GDBus cannot read all it writes (a signature in a dict entry): nor ours, alike. */
      g_assert_nonnull (error);
      g_assert_error (ours_error, error->domain, error->code);
      g_assert_cmpstr (ours_error->message, ==, error->message);
      return;
    }
  g_assert_no_error (ours_error);
  ours_text = g_dbus_message_print (ours_parsed, 0);
  theirs_text = g_dbus_message_print (theirs_parsed, 0);
  g_assert_cmpstr (ours_text, ==, theirs_text);
}

static void
test_random (void)
{
  for (guint i = 0; i < ROUNDS; i++)
    {
      g_autoptr (GVariant) body = g_test_rand_int_range (0, 10) == 0 ? NULL : random_body ();
      gboolean signal = g_test_rand_bit ();
      OwBusHeader header = {
        .type = signal ? G_DBUS_MESSAGE_TYPE_SIGNAL : G_DBUS_MESSAGE_TYPE_METHOD_RETURN,
        .flags = g_test_rand_bit () ? G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED : 0,
        .serial = (guint32)g_test_rand_int_range (1, G_MAXINT32) | ((guint32)g_test_rand_bit () << 31),
        .reply_serial = signal ? 0 : (guint32)g_test_rand_int_range (1, G_MAXINT32),
        .path = signal ? paths[g_test_rand_int_range (0, G_N_ELEMENTS (paths))] : NULL,
        .interface = signal ? "org.oomwatch.OomWatch1.Manager" : NULL,
        .member = signal ? "OomEvent" : NULL,
        .destination = g_test_rand_bit () ? ":1.42" : NULL,
      };

      assert_same (&header, body);
    }
}

/* An OomEvent as the daemon sends it. */
static void
test_oom_event (void)
{
  g_autoptr (GVariant) body = g_variant_ref_sink (g_variant_new_parsed (
      "('/sys/fs/cgroup/memory/a', 'oom-kill', @t 3, {'pid': <@u 42>, 'comm': <'hog'>, "
      "'memory': <{'anon': <@t 1048576>}>, 'under-oom': <false>})"));
  OwBusHeader header = { G_DBUS_MESSAGE_TYPE_SIGNAL, G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED,
                         0x80000001u, 0, "/org/oomwatch/OomWatch1",
                         "org.oomwatch.OomWatch1.Manager", "OomEvent", ":1.7" };

  assert_same (&header, body);
}

/* What D-Bus has no form for gives no message, wherever it is, also in an empty array. */
static void
test_refused (void)
{
  static const char *const bodies[] = { "(@ms 'a',)", "(@ams [],)", "((),)", "(<@a{sms} {}>,)",
                                        "(@a() [],)", "([<@mu nothing>],)" };
  OwBusHeader header = { G_DBUS_MESSAGE_TYPE_METHOD_RETURN, 0, 1, 1 };
  g_autoptr (GVariantBuilder) many = g_variant_builder_new (G_VARIANT_TYPE_TUPLE);
  g_autoptr (GVariant) long_body = NULL;
  g_autoptr (GVariant) long_variant = NULL;
  g_autoptr (GBytes) bytes = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr (GVariant) body = g_variant_ref_sink (g_variant_new_parsed (bodies[i]));
      g_autoptr (GBytes) refused = ow_bus_marshal (&header, body);

      g_test_message ("%s", bodies[i]);
      g_assert_null (refused);
    }
  /* A signature over 255 bytes, of the body or in a variant. */
  for (guint i = 0; i < 256; i++)
    g_variant_builder_add (many, "y", 1);
  long_body = g_variant_ref_sink (g_variant_builder_end (many));
  bytes = ow_bus_marshal (&header, long_body);
  g_assert_null (bytes);
  long_variant = g_variant_ref_sink (g_variant_new ("(v)", long_body));
  bytes = ow_bus_marshal (&header, long_variant);
  g_assert_null (bytes);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bus-marshal/random", test_random);
  g_test_add_func ("/bus-marshal/oom-event", test_oom_event);
  g_test_add_func ("/bus-marshal/refused", test_refused);
  return g_test_run ();
}
