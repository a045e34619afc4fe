/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's bus output stream on a socket pair: a write the socket takes completes in the
 * next iteration with every byte; one the socket has no room for waits until the other end
 * reads; a wait cancelled completes with G_IO_ERROR_CANCELLED. */
#include "ow-bus-output.h"

#include <sys/socket.h>
#include <unistd.h>

#define BLOCK 65536

typedef struct
{
  gboolean done;
  gssize written;
  GError *error;
} Written;

typedef struct
{
  int fds[2];
  GOutputStream *out;
  char *block;
} Pair;

static void
on_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Written *written = user_data;

  written->written
      = g_output_stream_write_finish (G_OUTPUT_STREAM (source), result, &written->error);
  written->done = TRUE;
}

static void
pair_init (Pair *pair)
{
  int small = 4096;

  g_assert_no_errno (
      socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair->fds));
  g_assert_no_errno (setsockopt (pair->fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small));
  pair->out = ow_bus_output_new (pair->fds[0]);
  pair->block = g_malloc0 (BLOCK);
}

static void
pair_clear (Pair *pair)
{
  g_clear_object (&pair->out);
  close (pair->fds[0]);
  close (pair->fds[1]);
  g_free (pair->block);
}

/* Runs what is ready, without waiting. */
static void
settle (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Reads what is there at the other end; how many bytes. */
static gsize
drain (Pair *pair)
{
  gsize total = 0;
  gssize got;

  while ((got = read (pair->fds[1], pair->block, BLOCK)) > 0)
    total += (gsize)got;
  return total;
}

/* Writes until the socket has no room: the first write that does not complete at once is
 * left waiting in WAITING; returns the bytes written before it. */
static gsize
fill (Pair *pair, Written *waiting, GCancellable *cancellable)
{
  gsize total = 0;

  for (guint i = 0; i < 1000; i++)
    {
      *waiting = (Written){ 0 };
      g_output_stream_write_async (pair->out, pair->block, BLOCK, G_PRIORITY_DEFAULT, cancellable,
                                   on_written, waiting);
      settle ();
      if (!waiting->done)
        return total;
      g_assert_no_error (waiting->error);
      g_assert_cmpint (waiting->written, >, 0);
      total += (gsize)waiting->written;
    }
  g_assert_not_reached ();
}

static void
test_at_once (void)
{
  Pair pair;
  Written written = { 0 };

  pair_init (&pair);
  g_output_stream_write_async (pair.out, "hello", 5, G_PRIORITY_DEFAULT, NULL, on_written,
                               &written);
  g_assert_false (written.done); /* never from inside the call */
  settle ();
  g_assert_true (written.done);
  g_assert_no_error (written.error);
  g_assert_cmpint (written.written, ==, 5);
  g_assert_cmpuint (drain (&pair), ==, 5);
  pair_clear (&pair);
}

static void
test_full_socket (void)
{
  Pair pair;
  Written waiting;
  gsize before, read_back = 0;

  pair_init (&pair);
  before = fill (&pair, &waiting, NULL);
  g_assert_cmpuint (before, >, 0);
  while (!waiting.done)
    {
      read_back += drain (&pair);
      g_main_context_iteration (NULL, TRUE);
    }
  g_assert_no_error (waiting.error);
  g_assert_cmpint (waiting.written, >, 0);
  read_back += drain (&pair);
  g_assert_cmpuint (read_back, ==, before + (gsize)waiting.written);
  pair_clear (&pair);
}

static void
test_cancelled (void)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Pair pair;
  Written waiting;

  pair_init (&pair);
  fill (&pair, &waiting, cancellable);
  g_cancellable_cancel (cancellable);
  while (!waiting.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (waiting.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&waiting.error);
  pair_clear (&pair);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bus-output/at-once", test_at_once);
  g_test_add_func ("/bus-output/full-socket", test_full_socket);
  g_test_add_func ("/bus-output/cancelled", test_cancelled);
  return g_test_run ();
}
