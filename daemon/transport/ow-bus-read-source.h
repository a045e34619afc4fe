/* SPDX-License-Identifier: GPL-2.0-or-later */
/* GDBus's reads of the bus stream, one at a time, completed by one source made at the first
 * read and kept: no GTask, pollable source or idle per read (GIO's default makes two or three
 * a read, two reads a message). A read that can complete at once is called back from the
 * source's next dispatch; one started from a callback of that dispatch (GDBus reads the next
 * message from the last one's callback) is called back from the same dispatch, a few at most
 * before the context's other sources run again. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _OwBusReadSource OwBusReadSource;

/* Reads without waiting: the bytes read, 0 at the end of the stream, or -1 with ERROR
 * (G_IO_ERROR_WOULD_BLOCK: the source waits for its fd, then tries again). */
typedef gssize (*OwBusReadTry) (GObject *stream, void *buffer, gsize count, GError **error);

/* Attached to the thread-default context of the calling thread; FD stays the caller's. */
OwBusReadSource *ow_bus_read_source_new (int fd, OwBusReadTry try_read);
void ow_bus_read_source_free (OwBusReadSource *self);

/* As g_input_stream_read_async(): CALLBACK gets STREAM and RESULT, and calls finish(). */
void ow_bus_read_source_start (OwBusReadSource *self, GObject *stream, GAsyncResult *result,
                               void *buffer, gsize count, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data);
gssize ow_bus_read_source_finish (OwBusReadSource *self, GError **error);
/* Try the read in progress again even if the fd stays quiet. Any thread. */
void ow_bus_read_source_wake (OwBusReadSource *self);

G_END_DECLS
