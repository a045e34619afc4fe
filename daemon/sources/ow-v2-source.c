/* SPDX-License-Identifier: GPL-2.0-or-later */
/* memory.events holds cumulative counters; the kernel wakes pollers with POLLPRI after a
 * change (rate-limited, changes merge), and a read re-arms. So every wake-up re-reads the
 * counters and reports what rose since the last read: nothing is lost to merging. rmdir wakes
 * no poller: the registry learns of it from the cgroup monitor (IN_DELETE on the parent), or
 * here from a read failing with ENODEV. */
#include "ow-v2-source.h"
#include "ow-fd.h"
#include "ow-keyed-file.h"
#include "oomwatch-error.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

/* The memory.events counter each kind reports (ow-event.c), or NULL. */
static const char *
key_of (OwEventKind kind)
{
  return ow_event_kind_info (kind)->events_key;
}

typedef struct
{
  OwSource parent;
  int events_fd;
  guint events_fd_id;
  guint64 seen[OW_EVENT_N_KINDS];
  char *first_read; /* counting from zero: the counters as first read, until reported */
} OwV2Source;

/* Reads memory.events; FALSE with errno ENODEV once the cgroup is gone. */
static gboolean
read_events (int fd, char *buf, gsize size)
{
  ssize_t len = pread (fd, buf, size - 1, 0);

  if (len < 0)
    return FALSE;
  buf[len] = '\0';
  return TRUE;
}

static void
report_changes (OwV2Source *self, const char *text)
{
  for (OwEventKind i = 0; i < OW_EVENT_N_KINDS; i++)
    {
      OwEvent event = { .kind = i, .has_total = TRUE };
      guint64 value;

      if (key_of (i) == NULL || !ow_keyed_file_lookup (text, key_of (i), &value))
        continue;
      event.total = value;
      event.count = value > self->seen[i] ? value - self->seen[i] : 0;
      self->seen[i] = value;
      ow_source_emit (&self->parent, &event);
    }
}

static void
read_and_report (OwV2Source *self)
{
  char buf[1024];

  g_autofree char *first_read = g_steal_pointer (&self->first_read);

  if (read_events (self->events_fd, buf, sizeof buf))
    report_changes (self, buf);
  else if (errno == ENODEV)
    {
      /* A cgroup that died at birth (a scope OOM-killed at once and removed by systemd
       * before its first report): what the first read saw still happened, and is told. */
      if (first_read != NULL)
        report_changes (self, first_read);
      ow_source_emit_removed (&self->parent); /* may free self: nothing after this */
    }
  else
    g_warning ("Cannot read memory.events of '%s': %s", self->parent.cgroup, g_strerror (errno));
}

static void
on_events (int fd, guint32 events, gpointer user_data)
{
  read_and_report (user_data);
}

static void
v2_source_sync (OwSource *source)
{
  read_and_report ((OwV2Source *)source);
}

static void
v2_source_free (OwSource *source)
{
  OwV2Source *self = (OwV2Source *)source;

  ow_fd_mux_remove (source->context->mux, &self->events_fd_id);
  ow_fd_close (self->events_fd);
  g_free (self->first_read);
  g_free (self);
}

static void
v2_source_counters (OwSource *source, OwCounters *out)
{
  OwV2Source *self = (OwV2Source *) source;
  OwCounter counter;

  for (OwEventKind i = 0; i < OW_EVENT_N_KINDS; i++)
    if (key_of (i) != NULL && ow_counter_for_kind (i, &counter))
      {
        out->has[counter] = TRUE;
        out->value[counter] = self->seen[i];
      }
}

/* The kernel adds every event to the cgroup's own memory.events.local and to memory.events of
 * the cgroup and each ancestor (unless mounted with memory_localevents, where the two files
 * agree and the difference is zero). */
static gboolean
v2_source_read_descendants (OwSource *source, OwCounters *out)
{
  OwV2Source *self = (OwV2Source *)source;
  g_auto (OwFd) dir = ow_hierarchy_open_cgroup (source->context->hierarchy, source->cgroup, NULL);
  g_auto (OwFd) local_fd = -1;
  char events[1024], local[1024];
  OwCounter counter;

  if (dir < 0)
    return FALSE;
  local_fd = openat (dir, "memory.events.local", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (local_fd < 0 || !read_events (self->events_fd, events, sizeof events)
      || !read_events (local_fd, local, sizeof local))
    return FALSE;
  for (OwEventKind i = 0; i < OW_EVENT_N_KINDS; i++)
    {
      guint64 all, own;

      if (key_of (i) == NULL || !ow_counter_for_kind (i, &counter))
        continue;
      if (!ow_keyed_file_lookup (events, key_of (i), &all)
          || !ow_keyed_file_lookup (local, key_of (i), &own) || own > all)
        return FALSE;
      out->has[counter] = TRUE;
      out->value[counter] = all - own;
    }
  return TRUE;
}

static const OwSourceVTable v2_source_vtable = {
  .sync = v2_source_sync,
  .free = v2_source_free,
  .counters = v2_source_counters,
  .read_descendants = v2_source_read_descendants,
};

OwSource *
ow_v2_source_new (const OwSourceContext *context, const char *canonical, OwSourceBaseline baseline,
                  const OwSourceListener *listener, gpointer user_data, GError **error)
{
  g_autoptr (OwSource) source = NULL;
  g_auto (OwFd) dir = -1;
  OwV2Source *self;
  struct stat st;
  char buf[1024];

  dir = ow_hierarchy_open_cgroup (context->hierarchy, canonical, error);
  if (dir < 0)
    return NULL;

  self = g_new0 (OwV2Source, 1);
  source = &self->parent;
  ow_source_init (source, &v2_source_vtable, context, canonical, listener, user_data);
  source->ino = fstat (dir, &st) == 0 ? st.st_ino : 0;
  self->events_fd = openat (dir, "memory.events", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (self->events_fd < 0)
    {
      if (errno == ENOENT)
        g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_INVALID_CGROUP,
                     "Invalid cgroup path '%s': not a memory cgroup (memory is not in its "
                     "parent's cgroup.subtree_control)",
                     canonical);
      else
        oomwatch_set_error_errno (error, errno, "Cannot open memory.events of '%s'", canonical);
      return NULL;
    }
  /* The baseline read also arms the notification. */
  if (!read_events (self->events_fd, buf, sizeof buf))
    {
      oomwatch_set_error_errno (error, errno, "Cannot read memory.events of '%s'", canonical);
      return NULL;
    }
  for (OwEventKind i = 0; i < OW_EVENT_N_KINDS; i++)
    if (key_of (i) != NULL
        && (baseline == OW_SOURCE_BASELINE_ZERO
            || !ow_keyed_file_lookup (buf, key_of (i), &self->seen[i])))
      self->seen[i] = 0;
  if (baseline == OW_SOURCE_BASELINE_ZERO)
    self->first_read = g_strdup (buf);
  self->events_fd_id
      = ow_fd_mux_add (context->mux, self->events_fd, EPOLLPRI, on_events, self, error);
  if (self->events_fd_id == 0)
    return NULL;
  return g_steal_pointer (&source);
}
