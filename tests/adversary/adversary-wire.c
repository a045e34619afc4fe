/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Just enough of the D-Bus wire protocol (spec: "Message Protocol") to flood a bus: EXTERNAL
 * authentication, Hello, method calls with any body and fds, and counting the replies. Host
 * byte order is assumed little endian, as the marker 'l' in each header says. */
#include "adversary-wire.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define FIELD_PATH 1
#define FIELD_INTERFACE 2
#define FIELD_MEMBER 3
#define FIELD_ERROR_NAME 4
#define FIELD_REPLY_SERIAL 5
#define FIELD_DESTINATION 6
#define FIELD_SIGNATURE 8
#define FIELD_UNIX_FDS 9
#define TYPE_CALL 1
#define TYPE_RETURN 2
#define TYPE_SIGNAL 4
#define TYPE_ERROR 3
#define FLAG_NO_REPLY 0x1

AdvBody *
adv_body_new (void)
{
  return g_byte_array_new ();
}

void
adv_body_align (AdvBody *body, guint alignment)
{
  static const guint8 zeros[8] = { 0 };

  if (body->len % alignment != 0)
    g_byte_array_append (body, zeros, alignment - body->len % alignment);
}

void
adv_body_u32 (AdvBody *body, guint32 value)
{
  adv_body_align (body, 4);
  g_byte_array_append (body, (const guint8 *)&value, 4);
}

void
adv_body_string (AdvBody *body, const char *value, gsize len)
{
  adv_body_u32 (body, (guint32)len);
  g_byte_array_append (body, (const guint8 *)value, (guint)len);
  g_byte_array_append (body, (const guint8 *)"", 1);
}

void
adv_body_signature (AdvBody *body, const char *value)
{
  guint8 len = (guint8)strlen (value);

  g_byte_array_append (body, &len, 1);
  g_byte_array_append (body, (const guint8 *)value, len + 1);
}

/* a{sv}: N_KEYS entries KEY → <true>. The array's length counts from its first element. */
void
adv_body_options (AdvBody *body, guint n_keys, const char *key)
{
  guint length_at, start;
  guint32 length;

  adv_body_u32 (body, 0);
  length_at = body->len - 4;
  adv_body_align (body, 8);
  start = body->len;
  for (guint i = 0; i < n_keys; i++)
    {
      adv_body_align (body, 8);
      adv_body_string (body, key, strlen (key));
      adv_body_signature (body, "b");
      adv_body_u32 (body, 1);
    }
  length = body->len - start;
  memcpy (body->data + length_at, &length, 4);
}

static void
header_field (AdvBody *header, guint8 code, const char *type, const char *value, guint32 number)
{
  adv_body_align (header, 8);
  g_byte_array_append (header, &code, 1);
  adv_body_signature (header, type);
  if (type[0] == 'u')
    adv_body_u32 (header, number);
  else if (type[0] == 'g')
    adv_body_signature (header, value);
  else
    adv_body_string (header, value, strlen (value));
}

/* The serial (bytes 8–11) is written by adv_wire_send(), so one message can be sent often. */
GByteArray *
adv_wire_method_call (const char *destination, const char *path, const char *interface,
                      const char *member, const char *signature, const AdvBody *body, guint32 n_fds,
                      gboolean no_reply)
{
  return adv_wire_message (TYPE_CALL, destination, path, interface, member, signature, body,
                           n_fds, no_reply);
}

/* A message of TYPE (1 a method call, 4 a signal; a signal expects no reply). */
GByteArray *
adv_wire_message (guint8 type, const char *destination, const char *path, const char *interface,
                  const char *member, const char *signature, const AdvBody *body, guint32 n_fds,
                  gboolean no_reply)
{
  GByteArray *message = g_byte_array_new ();
  guint8 fixed[4] = { 'l', type, no_reply || type == TYPE_SIGNAL ? FLAG_NO_REPLY : 0, 1 };
  guint32 body_len = body != NULL ? body->len : 0;
  guint32 fields_len;

  g_byte_array_append (message, fixed, 4);
  adv_body_u32 (message, body_len);
  adv_body_u32 (message, 0);
  adv_body_u32 (message, 0); /* the fields' length, below */
  header_field (message, FIELD_PATH, "o", path, 0);
  header_field (message, FIELD_DESTINATION, "s", destination, 0);
  if (interface != NULL)
    header_field (message, FIELD_INTERFACE, "s", interface, 0);
  header_field (message, FIELD_MEMBER, "s", member, 0);
  if (signature != NULL && signature[0] != '\0')
    header_field (message, FIELD_SIGNATURE, "g", signature, 0);
  if (n_fds > 0)
    header_field (message, FIELD_UNIX_FDS, "u", "", n_fds);
  fields_len = message->len - 16;
  memcpy (message->data + 12, &fields_len, 4);
  adv_body_align (message, 8);
  if (body != NULL)
    g_byte_array_append (message, body->data, body->len);
  return message;
}

static gboolean
write_all (int fd, const guint8 *data, gsize len, const int *fds, guint n_fds, GError **error)
{
  while (len > 0)
    {
      struct iovec iov = { (void *)data, len };
      char control[CMSG_SPACE (sizeof (int) * 64)] = { 0 };
      struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
      ssize_t written;

      if (n_fds > 0)
        {
          struct cmsghdr *cmsg;

          g_assert (n_fds <= 64);
          msg.msg_control = control;
          msg.msg_controllen = CMSG_SPACE (sizeof (int) * n_fds);
          cmsg = CMSG_FIRSTHDR (&msg);
          cmsg->cmsg_level = SOL_SOCKET;
          cmsg->cmsg_type = SCM_RIGHTS;
          cmsg->cmsg_len = CMSG_LEN (sizeof (int) * n_fds);
          memcpy (CMSG_DATA (cmsg), fds, sizeof (int) * n_fds);
        }
      written = sendmsg (fd, &msg, MSG_NOSIGNAL);
      if (written < 0 && errno == EINTR)
        continue;
      if (written < 0)
        {
          int saved = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "send: %s",
                       g_strerror (saved));
          return FALSE;
        }
      data += written;
      len -= (gsize)written;
      n_fds = 0;
    }
  return TRUE;
}

gboolean
adv_wire_send (AdvWire *wire, GByteArray *message, const int *fds, guint n_fds, GError **error)
{
  guint32 serial = ++wire->serial;

  memcpy (message->data + 8, &serial, 4);
  if (!write_all (wire->fd, message->data, message->len, fds, n_fds, error))
    return FALSE;
  wire->sent++;
  if ((message->data[2] & FLAG_NO_REPLY) == 0)
    wire->outstanding++;
  return TRUE;
}

static guint32
get_u32 (const guint8 *data)
{
  guint32 value;

  memcpy (&value, data, 4);
  return value;
}

/* The ERROR_NAME field of a complete message's header, or NULL. */
static char *
error_name (const guint8 *data, gsize header_end)
{
  gsize at = 16;

  while (at + 4 <= header_end)
    {
      guint8 code = data[at], sig_len = data[at + 1];
      char type = (char)data[at + 2];
      gsize value_len;

      at += 3 + sig_len;
      if (type == 'g')
        value_len = 1 + data[at] + 1;
      else
        {
          at = (at + 3) & ~(gsize)3;
          value_len = type == 'u' ? 4 : 4 + get_u32 (data + at) + 1;
        }
      if (code == FIELD_ERROR_NAME)
        return g_strndup ((const char *)data + at + 4, get_u32 (data + at));
      at = (at + value_len + 7) & ~(gsize)7;
    }
  return NULL;
}

/* Parses what has arrived: every reply lowers OUTSTANDING, every error is counted by name in
 * ERRORS (name → count). Returns the number of replies, or -1 when the bus hung up. */
static int
parse_messages (AdvWire *wire, GHashTable *errors)
{
  int replies = 0;

  while (wire->in->len >= 16)
    {
      const guint8 *data = wire->in->data;
      gsize header_end = 16 + get_u32 (data + 12);
      gsize total = ((header_end + 7) & ~(gsize)7) + get_u32 (data + 4);

      if (wire->in->len < total)
        break;
      if (data[1] == TYPE_RETURN || data[1] == TYPE_ERROR)
        {
          replies++;
          if (wire->outstanding > 0)
            wire->outstanding--;
        }
      if (data[1] == TYPE_ERROR && errors != NULL)
        {
          char *name = error_name (data, header_end);

          if (name != NULL)
            g_hash_table_insert (
                errors, name,
                GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (errors, name)) + 1));
        }
      g_byte_array_remove_range (wire->in, 0, (guint)total);
    }
  return replies;
}

int
adv_wire_read (AdvWire *wire, GHashTable *errors, gboolean block, GError **error)
{
  guint8 buf[65536];
  char control[CMSG_SPACE (sizeof (int) * 64)];
  struct iovec iov = { buf, sizeof buf };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  ssize_t got;

  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  got = recvmsg (wire->fd, &msg, MSG_CMSG_CLOEXEC | (block ? 0 : MSG_DONTWAIT));
  if (got < 0 && (errno == EAGAIN || errno == EINTR))
    return 0;
  if (got <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "the bus closed the connection: %s",
                   got < 0 ? g_strerror (errno) : "end of file");
      return -1;
    }
  /* Nobody sends us fds; never keep any. */
  for (struct cmsghdr *cmsg = CMSG_FIRSTHDR (&msg); cmsg != NULL; cmsg = CMSG_NXTHDR (&msg, cmsg))
    if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
      for (gsize i = 0; i < (cmsg->cmsg_len - CMSG_LEN (0)) / sizeof (int); i++)
        close (((int *)CMSG_DATA (cmsg))[i]);
  g_byte_array_append (wire->in, buf, (guint)got);
  return parse_messages (wire, errors);
}

static gboolean
auth_line (int fd, const char *send, const char *expect, GError **error)
{
  char reply[512];
  gsize got = 0;

  if (!write_all (fd, (const guint8 *)send, strlen (send), NULL, 0, error))
    return FALSE;
  while (got < sizeof reply - 1 && (got < 2 || memcmp (reply + got - 2, "\r\n", 2) != 0))
    {
      ssize_t n = read (fd, reply + got, 1);

      if (n <= 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "authentication: the bus hung up");
          return FALSE;
        }
      got += (gsize)n;
    }
  reply[got] = '\0';
  if (!g_str_has_prefix (reply, expect))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "authentication: %s", reply);
      return FALSE;
    }
  return TRUE;
}

/* ADDRESS: "unix:path=…", as the test harness's bus prints it. */
AdvWire *
adv_wire_connect (const char *address, gboolean unix_fds, GError **error)
{
  g_autoptr (AdvWire) wire = g_new0 (AdvWire, 1);
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  g_autofree char *uid = g_strdup_printf ("%u", (guint)getuid ());
  g_autofree char *auth = NULL;
  g_autoptr (GString) hex = g_string_new (NULL);
  g_autoptr (GByteArray) hello = NULL;
  const char *path = strstr (address, "path=");

  wire->in = g_byte_array_new ();
  wire->fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert (path != NULL && wire->fd >= 0);
  g_strlcpy (sun.sun_path, path + 5, sizeof sun.sun_path);
  if (strchr (sun.sun_path, ',') != NULL)
    *strchr (sun.sun_path, ',') = '\0';
  if (connect (wire->fd, (struct sockaddr *)&sun, sizeof sun) < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "connect %s: %s", sun.sun_path,
                   g_strerror (errno));
      return NULL;
    }
  for (const char *c = uid; *c != '\0'; c++)
    g_string_append_printf (hex, "%02x", (guint)*c);
  auth = g_strdup_printf ("AUTH EXTERNAL %s\r\n", hex->str);
  if (!write_all (wire->fd, (const guint8 *)"", 1, NULL, 0, error)
      || !auth_line (wire->fd, auth, "OK ", error)
      || (unix_fds && !auth_line (wire->fd, "NEGOTIATE_UNIX_FD\r\n", "AGREE_UNIX_FD", error))
      || !write_all (wire->fd, (const guint8 *)"BEGIN\r\n", 7, NULL, 0, error))
    return NULL;
  hello = adv_wire_method_call ("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                "org.freedesktop.DBus", "Hello", NULL, NULL, 0, FALSE);
  if (!adv_wire_send (wire, hello, NULL, 0, error))
    return NULL;
  while (wire->outstanding > 0)
    if (adv_wire_read (wire, NULL, TRUE, error) < 0)
      return NULL;
  return g_steal_pointer (&wire);
}

void
adv_wire_free (AdvWire *wire)
{
  if (wire == NULL)
    return;
  if (wire->fd >= 0)
    close (wire->fd);
  if (wire->in != NULL)
    g_byte_array_unref (wire->in);
  g_free (wire);
}
