/* SPDX-License-Identifier: GPL-2.0-or-later */
/* GDBus's reads of the daemon's bus stream (ow-bus-read-source.c) on a socket pair: a read
 * waits for the other end and gets its bytes, never from inside the call; the end of the
 * stream reads as 0; a cancelled read completes with G_IO_ERROR_CANCELLED. The bytes are not
 * D-Bus, so the stream hands them out as they come. */
#include "ow-bus-stream.h"

#include <sys/socket.h>
#include <unistd.h>

typedef struct
{
  gboolean done;
  gssize got;
  GError *error;
} Read;

typedef struct
{
  int peer;
  GSocketConnection *connection;
  GInputStream *in;
  char buffer[64];
} Pair;

static void
on_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Read *read = user_data;

  read->got = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &read->error);
  read->done = TRUE;
}

static void
pair_init (Pair *pair)
{
  g_autoptr (GSocket) socket = NULL;
  int fds[2];

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds));
  socket = g_socket_new_from_fd (fds[0], NULL);
  g_assert_nonnull (socket);
  pair->peer = fds[1];
  pair->connection = g_socket_connection_factory_create_connection (socket);
  pair->in = ow_bus_stream_new (pair->connection);
}

static void
pair_clear (Pair *pair)
{
  g_clear_object (&pair->in);
  g_clear_object (&pair->connection);
  if (pair->peer >= 0)
    close (pair->peer);
}

static void
settle (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
wait_done (Read *read)
{
  while (!read->done)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_waits_for_bytes (void)
{
  static const char text[] = "not a D-Bus message, only bytes";
  Pair pair;
  Read read = { 0 };

  pair_init (&pair);
  g_input_stream_read_async (pair.in, pair.buffer, sizeof pair.buffer, G_PRIORITY_DEFAULT, NULL,
                             on_read, &read);
  settle ();
  g_assert_false (read.done);
  g_assert_cmpint (write (pair.peer, text, sizeof text - 1), ==, sizeof text - 1);
  wait_done (&read);
  g_assert_no_error (read.error);
  g_assert_cmpint (read.got, >, 0);
  g_assert_cmpmem (pair.buffer, read.got, text, read.got);

  /* what is left is read at once, but still called back from the loop */
  read = (Read){ 0 };
  g_input_stream_read_async (pair.in, pair.buffer, sizeof pair.buffer, G_PRIORITY_DEFAULT, NULL,
                             on_read, &read);
  g_assert_false (read.done);
  close (pair.peer);
  pair.peer = -1;
  wait_done (&read);
  g_assert_no_error (read.error);
  if (read.got > 0)
    {
      read = (Read){ 0 };
      g_input_stream_read_async (pair.in, pair.buffer, sizeof pair.buffer, G_PRIORITY_DEFAULT, NULL,
                                 on_read, &read);
      wait_done (&read);
    }
  g_assert_no_error (read.error);
  g_assert_cmpint (read.got, ==, 0); /* the end */
  pair_clear (&pair);
}

static void
test_cancelled (void)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Pair pair;
  Read read = { 0 };

  pair_init (&pair);
  g_input_stream_read_async (pair.in, pair.buffer, sizeof pair.buffer, G_PRIORITY_DEFAULT,
                             cancellable, on_read, &read);
  settle ();
  g_assert_false (read.done);
  g_cancellable_cancel (cancellable);
  wait_done (&read);
  g_assert_error (read.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&read.error);
  pair_clear (&pair);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bus-read/waits-for-bytes", test_waits_for_bytes);
  g_test_add_func ("/bus-read/cancelled", test_cancelled);
  return g_test_run ();
}
