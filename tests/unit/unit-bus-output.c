/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's bus output stream on a socket pair: a write the socket takes completes in the
 * next iteration with every byte; one the socket has no room for waits until the other end
 * reads; a wait cancelled completes with G_IO_ERROR_CANCELLED. A message sent now goes only
 * when nothing GDBus wrote is unfinished, and what the socket did not take of it goes before
 * GDBus's next bytes. */
#include "ow-bus-output.h"

#include <errno.h>
#include <string.h>
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
  pair->out = ow_bus_output_new (pair->fds[0], NULL);
  pair->block = g_malloc0 (BLOCK);
}

static void
pair_clear (Pair *pair)
{
  g_clear_object (&pair->out);
  if (pair->fds[0] >= 0)
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

/* A message GDBus would write: a fixed header with SERIAL (in ORDER, 'l' or 'B'), then zeros. */
static void
write_message_in (Pair *pair, char order, guint32 serial, Written *written)
{
  static guint8 message[32] = { 'l', 4, 0, 1 };
  guint32 wire = order == 'B' ? GUINT32_TO_BE (serial) : GUINT32_TO_LE (serial);

  message[0] = (guint8)order;
  memcpy (message + 8, &wire, sizeof wire);
  *written = (Written){ 0 };
  g_output_stream_write_async (pair->out, message, sizeof message, G_PRIORITY_DEFAULT, NULL,
                               on_written, written);
  settle ();
  g_assert_true (written->done);
  g_assert_no_error (written->error);
  g_assert_cmpint (written->written, ==, sizeof message);
}

static void
write_message (Pair *pair, guint32 serial, Written *written)
{
  write_message_in (pair, 'l', serial, written);
}

static gboolean
send_now (Pair *pair, const char *text, guint32 last_serial)
{
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));

  return ow_bus_output_send_now (OW_BUS_OUTPUT (pair->out), bytes, last_serial);
}

/* Sent now only when GDBus's messages up to the caller's last serial are written. */
static void
test_send_now_serial (void)
{
  Pair pair;
  Written written;

  pair_init (&pair);
  g_assert_true (send_now (&pair, "first", 0));
  g_assert_cmpuint (drain (&pair), ==, 5);
  write_message (&pair, 9, &written);
  g_assert_false (send_now (&pair, "early", 10));
  g_assert_true (send_now (&pair, "late", 9));
  g_assert_cmpuint (drain (&pair), ==, 32 + 4);
  write_message_in (&pair, 'B', 0x01000002, &written);
  g_assert_false (send_now (&pair, "early", 0x01000003));
  g_assert_true (send_now (&pair, "late", 0x01000002));
  /* GDBus's serials wrap: 1 after 0xffffffff is later, and queued. */
  write_message (&pair, G_MAXUINT32, &written);
  g_assert_false (send_now (&pair, "early", 1));
  g_assert_true (send_now (&pair, "late", G_MAXUINT32));
  pair_clear (&pair);
}

/* Fills the socket under the stream, bypassing it. */
static void
fill_raw (Pair *pair)
{
  while (send (pair->fds[0], pair->block, BLOCK, MSG_DONTWAIT) > 0)
    ;
  g_assert_cmpint (errno, ==, EAGAIN);
}

/* Not while a write of GDBus's waits for room, nor between the parts of its message. */
static void
test_send_now_while_writing (void)
{
  Pair pair;
  Written written = { 0 };
  gsize sent;

  pair_init (&pair);
  fill_raw (&pair);
  g_output_stream_write_async (pair.out, pair.block, BLOCK, G_PRIORITY_DEFAULT, NULL, on_written,
                               &written);
  settle ();
  g_assert_false (written.done);
  drain (&pair);
  g_assert_false (send_now (&pair, "no", 0)); /* a write waits, and goes first */
  while (!written.done)
    {
      drain (&pair);
      g_main_context_iteration (NULL, TRUE);
    }
  g_assert_no_error (written.error);
  g_assert_cmpint (written.written, <, BLOCK); /* the socket is smaller than the message */
  for (sent = (gsize)written.written; sent < BLOCK; sent += (gsize)written.written)
    {
      drain (&pair);
      g_assert_false (send_now (&pair, "no", 0)); /* GDBus has the rest of it to write */
      written = (Written){ 0 };
      g_output_stream_write_async (pair.out, pair.block + sent, BLOCK - sent, G_PRIORITY_DEFAULT,
                                   NULL, on_written, &written);
      while (!written.done)
        {
          drain (&pair);
          g_main_context_iteration (NULL, TRUE);
        }
      g_assert_no_error (written.error);
    }
  g_assert_true (send_now (&pair, "now", 0));
  pair_clear (&pair);
}

/* What the socket did not take goes first, then GDBus's write, even when GDBus's thread is the
 * one that finds room; nothing is sent now meanwhile. */
static void
test_send_now_residue (void)
{
  g_autoptr (GMainContext) worker = g_main_context_new ();
  g_autoptr (GByteArray) read_back = g_byte_array_new ();
  g_autofree char *own = g_strnfill (BLOCK - 1, 'A');
  char theirs[100];
  Pair pair;
  Written written = { 0 };
  gssize got;

  memset (theirs, 'B', sizeof theirs);
  pair_init (&pair);
  g_assert_true (send_now (&pair, own, 0));
  g_main_context_push_thread_default (worker);
  g_output_stream_write_async (pair.out, theirs, sizeof theirs, G_PRIORITY_DEFAULT, NULL,
                               on_written, &written);
  while (g_main_context_iteration (worker, FALSE))
    ;
  g_assert_false (written.done); /* the socket is full of the residue */
  g_assert_false (send_now (&pair, "no", 0));
  /* Only GDBus's context runs: it writes the residue before its own bytes. */
  while (!written.done)
    {
      while ((got = read (pair.fds[1], pair.block, BLOCK)) > 0)
        g_byte_array_append (read_back, (guint8 *)pair.block, (guint)got);
      g_main_context_iteration (worker, TRUE);
    }
  settle (); /* the caller's source: nothing left for it, or the residue written out of turn */
  while ((got = read (pair.fds[1], pair.block, BLOCK)) > 0)
    g_byte_array_append (read_back, (guint8 *)pair.block, (guint)got);
  g_assert_cmpuint (read_back->len, ==, BLOCK - 1 + sizeof theirs);
  g_main_context_pop_thread_default (worker);
  g_assert_true (written.done);
  g_assert_cmpint (written.written, ==, sizeof theirs);
  g_assert_cmpmem (read_back->data, BLOCK - 1, own, BLOCK - 1);
  g_assert_cmpmem (read_back->data + BLOCK - 1, sizeof theirs, theirs, sizeof theirs);
  g_assert_true (send_now (&pair, "now", 0));
  pair_clear (&pair);
}

/* A residue, even with room for more, keeps the next message from being sent now; its source
 * is one, also when GDBus's thread wrote the residue before it ran, and goes with the stream. */
static void
test_send_now_one_residue (void)
{
  g_autoptr (GMainContext) worker = g_main_context_new ();
  g_autofree char *own = g_strnfill (BLOCK - 1, 'A');
  Pair pair;
  Written written = { 0 };

  pair_init (&pair);
  g_assert_true (send_now (&pair, own, 0));
  drain (&pair); /* room again; the caller's source has not run */
  g_assert_false (send_now (&pair, "no", 0));
  g_main_context_push_thread_default (worker);
  g_output_stream_write_async (pair.out, "B", 1, G_PRIORITY_DEFAULT, NULL, on_written, &written);
  while (!written.done)
    {
      drain (&pair);
      g_main_context_iteration (worker, TRUE);
    }
  g_main_context_pop_thread_default (worker);
  g_assert_true (send_now (&pair, own, 0)); /* a second residue, the first's source not run */
  g_assert_true (g_output_stream_close (pair.out, NULL, NULL));
  g_assert_null (g_main_context_find_source_by_user_data (NULL, pair.out));
  pair_clear (&pair);
}

static gpointer
read_all (gpointer user_data)
{
  Pair *pair = user_data;
  gsize total = 0;
  char buffer[4096];
  gssize got;

  GPollFD readable = { .fd = pair->fds[1], .events = G_IO_IN };

  /* Until the end: the other side shuts down once it wrote everything. */
  while ((got = read (pair->fds[1], buffer, sizeof buffer)) != 0)
    if (got > 0)
      total += (gsize)got;
    else
      g_poll (&readable, 1, -1);
  return GSIZE_TO_POINTER (total);
}

/* At the end, with no main loop to run its source, the residue is written out all the same. */
static void
test_flush_now (void)
{
  g_autofree char *own = g_strnfill (BLOCK - 1, 'A');
  Pair pair;
  GThread *reader;

  pair_init (&pair);
  g_assert_true (send_now (&pair, own, 0));
  reader = g_thread_new ("reader", read_all, &pair);
  g_assert_true (ow_bus_output_flush_now (OW_BUS_OUTPUT (pair.out), 60000));
  g_assert_true (g_output_stream_close (pair.out, NULL, NULL));
  shutdown (pair.fds[0], SHUT_WR);
  g_assert_cmpuint (GPOINTER_TO_SIZE (g_thread_join (reader)), ==, BLOCK - 1);
  pair_clear (&pair);
}

/* The stream writes to a duplicate it closes: the peer sees the end only then, and nothing
 * is sent after. */
static void
test_send_now_closed (void)
{
  Pair pair;
  char byte;

  pair_init (&pair);
  close (pair.fds[0]);
  pair.fds[0] = -1;
  g_assert_cmpint (read (pair.fds[1], &byte, 1), ==, -1);
  g_assert_true (g_output_stream_close (pair.out, NULL, NULL));
  g_assert_false (send_now (&pair, "late", 0));
  g_assert_cmpint (read (pair.fds[1], &byte, 1), ==, 0);
  pair_clear (&pair);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bus-output/at-once", test_at_once);
  g_test_add_func ("/bus-output/full-socket", test_full_socket);
  g_test_add_func ("/bus-output/cancelled", test_cancelled);
  g_test_add_func ("/bus-output/send-now-serial", test_send_now_serial);
  g_test_add_func ("/bus-output/send-now-while-writing", test_send_now_while_writing);
  g_test_add_func ("/bus-output/send-now-residue", test_send_now_residue);
  g_test_add_func ("/bus-output/send-now-closed", test_send_now_closed);
  g_test_add_func ("/bus-output/send-now-one-residue", test_send_now_one_residue);
  g_test_add_func ("/bus-output/flush-now", test_flush_now);
  return g_test_run ();
}
