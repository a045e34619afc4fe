/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-v2-root-source.h"
#include "ow-fd.h"
#include "ow-keyed-file.h"
#include "oomwatch-error.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#define RECORD_MAX 16384

typedef struct
{
  OwSource parent;
  int kmsg_fd;
  guint kmsg_fd_id;
  guint64 seen;
} OwV2RootSource;

static gboolean
read_vmstat_oom_kill (guint64 *value, GError **error)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents ("/proc/vmstat", &text, NULL, error))
    return FALSE;
  if (!ow_keyed_file_lookup (text, "oom_kill", value))
    {
      g_set_error_literal (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NOT_SUPPORTED,
                           "This kernel does not count OOM kills in /proc/vmstat");
      return FALSE;
    }
  return TRUE;
}

static void
report_kills (OwV2RootSource *self)
{
  OwEvent event = { .kind = OW_EVENT_OOM_KILL, .has_total = TRUE };
  g_autoptr (GError) error = NULL;

  if (!read_vmstat_oom_kill (&event.total, &error))
    {
      g_warning ("%s", error->message);
      return;
    }
  event.count = event.total > self->seen ? event.total - self->seen : 0;
  self->seen = event.total;
  ow_source_emit (&self->parent, &event);
}

/* Only a wake-up: the records themselves are the kernel-log reader's to parse. */
static void
on_kmsg (int fd, guint32 events, gpointer user_data)
{
  g_autofree char *buf = g_malloc (RECORD_MAX);
  ssize_t len;

  while ((len = read (fd, buf, RECORD_MAX)) > 0 || (len < 0 && (errno == EPIPE || errno == EINTR)))
    ;
  report_kills (user_data);
}

static void
root_source_sync (OwSource *source)
{
  report_kills ((OwV2RootSource *)source);
}

static void
root_source_free (OwSource *source)
{
  OwV2RootSource *self = (OwV2RootSource *)source;

  ow_fd_mux_remove (source->context->mux, &self->kmsg_fd_id);
  ow_fd_close (self->kmsg_fd);
  g_free (self);
}

static const OwSourceVTable root_source_vtable = {
  .sync = root_source_sync,
  .free = root_source_free,
};

OwSource *
ow_v2_root_source_new (const OwSourceContext *context, const OwSourceListener *listener,
                       gpointer user_data, GError **error)
{
  g_autoptr (OwSource) source = NULL;
  OwV2RootSource *self = g_new0 (OwV2RootSource, 1);

  source = &self->parent;
  ow_source_init (source, &root_source_vtable, context, "/", listener, user_data);
  self->kmsg_fd = open (context->kernel_log_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (self->kmsg_fd < 0)
    {
      int saved = errno;

      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NOT_SUPPORTED,
                   "Watching the cgroup v2 root needs the kernel log (%s): %s",
                   context->kernel_log_path, g_strerror (saved));
      return NULL;
    }
  lseek (self->kmsg_fd, 0, SEEK_END);
  if (!read_vmstat_oom_kill (&self->seen, error))
    return NULL;
  self->kmsg_fd_id = ow_fd_mux_add (context->mux, self->kmsg_fd, EPOLLIN, on_kmsg, self, error);
  if (self->kmsg_fd_id == 0)
    return NULL;
  return g_steal_pointer (&source);
}
