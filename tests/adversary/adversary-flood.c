/* SPDX-License-Identifier: GPL-2.0-or-later */
/* adversary-flood: the attacker's bulk sender. Opens CONNECTIONS raw connections to the bus in
 * DBUS_SYSTEM_BUS_ADDRESS and sends oomwatchd method calls as fast as the bus takes them,
 * keeping up to WINDOW calls unanswered per connection, for SECONDS (or, with --once, one
 * call of each kind per connection). Kinds:
 *   recursive   Watch(CGROUP, {recursive: true})
 *   list        ListWatches()
 *   introspect  Introspectable.Introspect()
 *   getall      Properties.GetAll(Manager)
 *   ping        Peer.Ping()
 *   big         Watch(<1 MiB path>, {})
 *   fds         Watch(CGROUP, {recursive: true}) carrying 16 fds (the bus's maximum)
 *   huge        Watch(CGROUP, {HUGE_KEYS × "recursive": true}), close to 32 MB
 *   call-SHAPE  Watch with a body of BODY_BYTES in one of adv_body_shape()'s shapes (av, aav,
 *               asv, deep)
 *   signal-SHAPE  the same body as systemd-oomd's Killed signal, sent to oomwatchd alone
 * With --churn=N each connection is closed after N messages and a new one opened.
 * Prints "ready" once connected, then "done sent=N replies=N connections=N [ERROR-NAME=N …]". */
#include "adversary-wire.h"
#include "oomwatch-names.h"

#include <fcntl.h>
#include <gio/gio.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FDS_PER_MESSAGE 16
#define BIG_PATH_BYTES ((gsize)1024 * 1024)
/* After the last call, how long replies are awaited: a huge call takes long to parse. */
#define GRACE_USEC (10 * G_USEC_PER_SEC)
#define ONCE_GRACE_USEC (60 * G_USEC_PER_SEC)

static int connections = 4;
static int window = 64;
static double seconds = 5;
static char *cgroup = NULL;
static char *kinds = NULL;
static int huge_keys = 1300000;
static gboolean once = FALSE;
static gboolean no_reply = FALSE;
static int churn = 0;
static int body_bytes = 32 * 1024 * 1024 - 4096; /* the bus's default limit, less a header */
static volatile sig_atomic_t stopping = 0;

/* SIGTERM: stop sending, collect the replies still due, print the summary. */
static void
on_term (int signo)
{
  stopping = 1;
}

static GByteArray *
manager_call (const char *member, const char *signature, AdvBody *body, guint32 n_fds)
{
  return adv_wire_method_call (OOMWATCH_BUS_NAME, OOMWATCH_OBJECT_PATH, OOMWATCH_MANAGER_INTERFACE,
                               member, signature, body, n_fds, no_reply);
}

static GByteArray *
watch_call (const char *path, gsize path_len, guint n_keys, guint32 n_fds)
{
  g_autoptr (GByteArray) body = adv_body_new ();

  adv_body_string (body, path, path_len);
  adv_body_options (body, n_keys, OOMWATCH_KEY_RECURSIVE);
  return manager_call ("Watch", "sa{sv}", body, n_fds);
}

static GByteArray *
make_message (const char *kind)
{
  g_autoptr (GByteArray) body = adv_body_new ();

  if (g_str_equal (kind, "recursive"))
    return watch_call (cgroup, strlen (cgroup), 1, 0);
  if (g_str_equal (kind, "fds"))
    return watch_call (cgroup, strlen (cgroup), 1, FDS_PER_MESSAGE);
  if (g_str_equal (kind, "huge"))
    return watch_call (cgroup, strlen (cgroup), (guint)huge_keys, 0);
  if (g_str_equal (kind, "big"))
    {
      g_autofree char *path = g_strnfill (BIG_PATH_BYTES, 'b');

      return watch_call (path, BIG_PATH_BYTES, 0, 0);
    }
  if (g_str_has_prefix (kind, "call-") || g_str_has_prefix (kind, "signal-"))
    {
      gboolean call = g_str_has_prefix (kind, "call-");
      const char *signature = adv_body_shape (body, strchr (kind, '-') + 1, (gsize)body_bytes);

      if (signature == NULL)
        {
          g_printerr ("unknown shape in %s\n", kind);
          exit (2);
        }
      if (call)
        return manager_call ("Watch", signature, body, 0);
      return adv_wire_message (4, OOMWATCH_BUS_NAME, OOMWATCH_OOMD_OBJECT_PATH,
                               OOMWATCH_OOMD_INTERFACE, OOMWATCH_OOMD_KILLED_SIGNAL, signature,
                               body, 0, TRUE);
    }
  if (g_str_equal (kind, "list"))
    return manager_call ("ListWatches", NULL, NULL, 0);
  if (g_str_equal (kind, "introspect"))
    return adv_wire_method_call (OOMWATCH_BUS_NAME, OOMWATCH_OBJECT_PATH,
                                 "org.freedesktop.DBus.Introspectable", "Introspect", NULL, NULL, 0,
                                 no_reply);
  if (g_str_equal (kind, "ping"))
    return adv_wire_method_call (OOMWATCH_BUS_NAME, OOMWATCH_OBJECT_PATH,
                                 "org.freedesktop.DBus.Peer", "Ping", NULL, NULL, 0, no_reply);
  if (g_str_equal (kind, "getall"))
    {
      adv_body_string (body, OOMWATCH_MANAGER_INTERFACE, strlen (OOMWATCH_MANAGER_INTERFACE));
      return adv_wire_method_call (OOMWATCH_BUS_NAME, OOMWATCH_OBJECT_PATH,
                                   "org.freedesktop.DBus.Properties", "GetAll", "s", body, 0,
                                   no_reply);
    }
  g_printerr ("unknown kind %s\n", kind);
  exit (2);
}

/* Sends MESSAGE on WIRES[*I]; a connection the bus closed is dropped (and *I stepped back). */
static guint
send_kind (GPtrArray *wires, guint *i, GByteArray *message, const char *kind, const int *fds)
{
  g_autoptr (GError) error = NULL;
  guint n_fds = g_str_equal (kind, "fds") ? FDS_PER_MESSAGE : 0;

  if (adv_wire_send (g_ptr_array_index (wires, *i), message, fds, n_fds, &error))
    return 1;
  g_printerr ("adversary-flood: %s\n", error->message);
  g_ptr_array_remove_index (wires, (*i)--);
  return 0;
}

/* Replaces WIRES[I] by a new connection once it sent CHURN messages; FALSE if none is made. */
static gboolean
renew (GPtrArray *wires, guint i, const char *address, guint64 *opened)
{
  g_autoptr (GError) error = NULL;
  AdvWire *wire = g_ptr_array_index (wires, i);

  if (churn <= 0 || wire->sent < (guint64)churn + 1)
    return TRUE;
  wire = adv_wire_connect (address, TRUE, &error);
  if (wire == NULL)
    return FALSE;
  adv_wire_free (g_ptr_array_index (wires, i));
  g_ptr_array_index (wires, i) = wire;
  (*opened)++;
  return TRUE;
}

static void
print_summary (guint64 sent, guint64 replies, guint64 opened, GHashTable *errors)
{
  g_autoptr (GString) line = g_string_new (NULL);
  GHashTableIter iter;
  gpointer name, count;

  g_string_printf (line,
                   "done sent=%" G_GUINT64_FORMAT " replies=%" G_GUINT64_FORMAT
                   " connections=%" G_GUINT64_FORMAT,
                   sent, replies, opened);
  g_hash_table_iter_init (&iter, errors);
  while (g_hash_table_iter_next (&iter, &name, &count))
    g_string_append_printf (line, " %s=%u", (char *)name, GPOINTER_TO_UINT (count));
  printf ("%s\n", line->str);
  fflush (stdout);
}

int
main (int argc, char **argv)
{
  const GOptionEntry entries[]
      = { { "connections", 'n', 0, G_OPTION_ARG_INT, &connections, "Connections", "N" },
          { "window", 'w', 0, G_OPTION_ARG_INT, &window, "Unanswered calls per connection", "N" },
          { "seconds", 's', 0, G_OPTION_ARG_DOUBLE, &seconds, "How long", "S" },
          { "cgroup", 'c', 0, G_OPTION_ARG_STRING, &cgroup, "Cgroup the Watch calls name",
            "CGROUP" },
          { "kinds", 'k', 0, G_OPTION_ARG_STRING, &kinds, "Comma-separated kinds", "K,…" },
          { "huge-keys", 0, 0, G_OPTION_ARG_INT, &huge_keys, "Option keys in a huge call", "N" },
          { "once", 0, 0, G_OPTION_ARG_NONE, &once, "One call of each kind per connection", NULL },
          { "no-reply", 0, 0, G_OPTION_ARG_NONE, &no_reply, "Ask for no replies", NULL },
          { "churn", 0, 0, G_OPTION_ARG_INT, &churn, "Messages per connection", "N" },
          { "body-bytes", 0, 0, G_OPTION_ARG_INT, &body_bytes, "Size of shaped bodies", "N" },
          { NULL } };
  g_autoptr (GOptionContext) context = g_option_context_new ("- flood oomwatchd");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) wires = g_ptr_array_new_with_free_func ((GDestroyNotify)adv_wire_free);
  g_autoptr (GPtrArray) messages
      = g_ptr_array_new_with_free_func ((GDestroyNotify)g_byte_array_unref);
  g_autoptr (GHashTable) errors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto (GStrv) kind_names = NULL;
  int fds[FDS_PER_MESSAGE];
  const char *address = g_getenv ("DBUS_SYSTEM_BUS_ADDRESS");
  guint64 sent = 0, replies = 0, next = 0, opened;
  gint64 until;

  signal (SIGTERM, on_term);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || address == NULL || kinds == NULL)
    {
      g_printerr ("adversary-flood: %s\n", error != NULL ? error->message
                                                         : "need --kinds and "
                                                           "a bus");
      return 2;
    }
  if (cgroup == NULL)
    cgroup = g_strdup ("/");
  for (int i = 0; i < FDS_PER_MESSAGE; i++)
    fds[i] = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  kind_names = g_strsplit (kinds, ",", -1);
  for (guint i = 0; kind_names[i] != NULL; i++)
    g_ptr_array_add (messages, make_message (kind_names[i]));
  for (int i = 0; i < connections; i++)
    {
      AdvWire *wire = adv_wire_connect (address, TRUE, &error);

      if (wire == NULL)
        {
          /* The bus may refuse more connections of this user: flood with what we have. */
          g_printerr ("adversary-flood: connection %d: %s\n", i, error->message);
          g_clear_error (&error);
          break;
        }
      g_ptr_array_add (wires, wire);
    }
  opened = wires->len;
  printf ("ready connections=%u\n", wires->len);
  fflush (stdout);

  if (once)
    for (guint i = 0; i < wires->len; i++)
      for (guint k = 0; k < messages->len; k++)
        sent += send_kind (wires, &i, g_ptr_array_index (messages, k), kind_names[k], fds);
  until = g_get_monotonic_time () + (gint64)(seconds * G_USEC_PER_SEC);
  while (wires->len > 0)
    {
      gboolean sending, can_send = FALSE, waiting = FALSE;
      g_autofree struct pollfd *polls = NULL;

      if (stopping && until > g_get_monotonic_time ())
        until = g_get_monotonic_time ();
      sending = !once && g_get_monotonic_time () < until;

      for (guint i = 0; sending && i < wires->len; i++)
        if ((int)((AdvWire *)g_ptr_array_index (wires, i))->outstanding < window)
          {
            guint k = next++ % messages->len;
            guint ok = send_kind (wires, &i, g_ptr_array_index (messages, k), kind_names[k], fds);

            sent += ok;
            /* The bus may refuse a new connection for a while: send on the others. */
            if (ok > 0 && !renew (wires, i, address, &opened))
              g_ptr_array_remove_index (wires, i--);
          }
      polls = g_new0 (struct pollfd, wires->len);
      for (guint i = 0; i < wires->len; i++)
        {
          AdvWire *wire = g_ptr_array_index (wires, i);

          polls[i] = (struct pollfd){ wire->fd, POLLIN, 0 };
          can_send |= (int)wire->outstanding < window;
          waiting |= wire->outstanding > 0;
        }
      if (!sending
          && (!waiting || g_get_monotonic_time () > until + (once ? ONCE_GRACE_USEC : GRACE_USEC)))
        break;
      /* Below the window everywhere: poll without waiting, else sleep until a reply comes. */
      poll (polls, wires->len, sending && can_send ? 0 : 100);
      for (guint i = wires->len; i-- > 0;)
        {
          int got;

          if ((polls[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
            continue;
          got = adv_wire_read (g_ptr_array_index (wires, i), errors, FALSE, &error);
          if (got < 0)
            {
              g_printerr ("adversary-flood: %s\n", error->message);
              g_clear_error (&error);
              g_ptr_array_remove_index (wires, i);
              continue;
            }
          replies += (guint64)got;
        }
    }
  print_summary (sent, replies, opened, errors);
  return 0;
}
