/* memory.events holds cumulative counters; the kernel wakes pollers with POLLPRI after a
 * change (rate-limited, changes merge), and a read re-arms. So every wake-up re-reads the
 * counters and reports what rose since the last read: nothing is lost to merging. rmdir wakes
 * no poller; the hierarchy's inotify watch on the parent reports it instead. */
#include "ow-v2-source.h"
#include "ow-fd.h"
#include "ow-keyed-file.h"
#include "oomwatch-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <sys/epoll.h>
#include <unistd.h>

static const struct
{
  const char *key;
  OwEventKind kind;
} counters[] = {
  { "oom", OW_EVENT_OOM },
  { "oom_kill", OW_EVENT_OOM_KILL },
  { "oom_group_kill", OW_EVENT_OOM_GROUP_KILL },
};

typedef struct
{
  OwSource parent;
  OwHierarchy *hierarchy; /* borrowed: outlives every source */
  char *cgroup;
  int events_fd;
  guint events_fd_id;
  gboolean removal_watched;
  guint64 seen[G_N_ELEMENTS (counters)];
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
  for (gsize i = 0; i < G_N_ELEMENTS (counters); i++)
    {
      OwEvent event = { .kind = counters[i].kind, .has_total = TRUE };
      guint64 value;

      if (!ow_keyed_file_lookup (text, counters[i].key, &value))
        continue;
      event.total = value;
      event.count = value > self->seen[i] ? value - self->seen[i] : 0;
      self->seen[i] = value;
      ow_source_emit (&self->parent, &event);
    }
}

static gboolean
on_events (int fd, guint32 events, gpointer user_data)
{
  OwV2Source *self = user_data;
  char buf[1024];

  if (!read_events (fd, buf, sizeof buf))
    {
      if (errno != ENODEV)
        {
          g_warning ("Cannot read memory.events of '%s': %s", self->cgroup, g_strerror (errno));
          return G_SOURCE_CONTINUE;
        }
      self->events_fd_id = 0;
      ow_source_emit_removed (&self->parent);
      return G_SOURCE_REMOVE;
    }
  report_changes (self, buf);
  return G_SOURCE_CONTINUE;
}

static void
v2_source_free (OwSource *source)
{
  OwV2Source *self = (OwV2Source *) source;

  if (self->removal_watched)
    ow_hierarchy_unwatch_removal (self->hierarchy, self->cgroup);
  ow_hierarchy_unpoll_fd (self->hierarchy, &self->events_fd_id);
  ow_fd_close (self->events_fd);
  g_free (self->cgroup);
  g_free (self);
}

/* nogaps hook */
static void
v2_source_counters (OwSource *source, OwCounters *out)
{
  OwV2Source *self = (OwV2Source *) source;
  OwCounter counter;

  for (gsize i = 0; i < G_N_ELEMENTS (counters); i++)
    if (ow_counter_for_kind (counters[i].kind, &counter))
      {
        out->has[counter] = TRUE;
        out->value[counter] = self->seen[i];
      }
}

static const OwSourceVTable v2_source_vtable = {
  .free = v2_source_free,
  .counters = v2_source_counters,
};

OwSource *
ow_v2_source_new (OwHierarchy *hierarchy,
                  const char *canonical,
                  const OwSourceCallbacks *callbacks,
                  gpointer user_data,
                  GError **error)
{
  g_autoptr (OwSource) source = NULL;
  g_auto (OwFd) dir = -1;
  OwV2Source *self;
  char buf[1024];

  dir = ow_hierarchy_open_cgroup (hierarchy, canonical, error);
  if (dir < 0)
    return NULL;

  self = g_new0 (OwV2Source, 1);
  source = &self->parent;
  ow_source_init (source, &v2_source_vtable, callbacks, user_data);
  self->hierarchy = hierarchy;
  self->cgroup = g_strdup (canonical);
  self->events_fd = openat (dir, "memory.events", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (self->events_fd < 0)
    {
      int saved = errno;

      if (saved == ENOENT)
        g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_INVALID_CGROUP,
                     "Invalid cgroup path '%s': not a memory cgroup (no memory.events: the root, "
                     "or memory is not in its parent's cgroup.subtree_control)",
                     canonical);
      else
        g_set_error (error, OOMWATCH_ERROR,
                     oomwatch_error_from_errno (saved),
                     "Cannot open memory.events of '%s': %s", canonical, g_strerror (saved));
      return NULL;
    }
  /* The first read sets the baseline and re-arms the notification. */
  if (!read_events (self->events_fd, buf, sizeof buf))
    {
      int saved = errno;

      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED,
                   "Cannot read memory.events of '%s': %s", canonical, g_strerror (saved));
      return NULL;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (counters); i++)
    if (!ow_keyed_file_lookup (buf, counters[i].key, &self->seen[i]))
      self->seen[i] = 0;

  if (!ow_hierarchy_watch_removal (hierarchy, canonical, source, error))
    return NULL;
  self->removal_watched = TRUE;
  /* Removed before the inotify watch was in place? Then no IN_DELETE will come. */
  if (!read_events (self->events_fd, buf, sizeof buf))
    {
      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NO_SUCH_CGROUP, "No such cgroup '%s'",
                   canonical);
      return NULL;
    }
  report_changes (self, buf);
  self->events_fd_id = ow_hierarchy_poll_fd (hierarchy, self->events_fd, EPOLLPRI, on_events,
                                             self, error);
  if (self->events_fd_id == 0)
    return NULL;
  return g_steal_pointer (&source);
}
