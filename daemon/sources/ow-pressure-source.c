/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-pressure-source.h"
#include "ow-fd.h"
#include "oomwatch-error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

/* 2 s: the shortest window the kernel grants an opener without CAP_SYS_RESOURCE, which the
 * systemd unit drops; the same on every machine so that levels mean the same everywhere. */
#define PSI_WINDOW_US 2000000u

struct _OwPressureSource
{
  OwHierarchy *hierarchy; /* borrowed */
  OwFdMux *mux;           /* borrowed */
  char *cgroup;
  ino_t ino;
  OwPressureLevel level;
  guint version;
  int fd; /* v1: the eventfd; v2: the PSI trigger */
  guint fd_id;
  guint quiet_id;
  const OwPressureSourceListener *listener;
  gpointer user_data;
};

/* The PSI trigger per level: low-memory-monitor's stall fractions (7 %, 10 %, 10 % of its 1 s
 * window), over the 2 s window GLib's GMemoryMonitorPsi uses too. */
static const struct
{
  const char *kind;
  guint stall_us;
} psi_triggers[] = {
  [OW_PRESSURE_LOW] = { "some", 140000 },
  [OW_PRESSURE_MEDIUM] = { "some", 200000 },
  [OW_PRESSURE_CRITICAL] = { "full", 200000 },
};

static void on_fd (int fd, guint32 events, gpointer user_data);

static gboolean
start_polling (OwPressureSource *self, GError **error)
{
  self->fd_id = ow_fd_mux_add (self->mux, self->fd,
                               self->version == 1 ? EPOLLIN : EPOLLPRI, on_fd, self, error);
  return self->fd_id != 0;
}

/* Whether the kernel signalled since the last look (and clears it); -1: the cgroup is gone. */
static int
signalled_meanwhile (OwPressureSource *self)
{
  struct pollfd pfd = { .fd = self->fd, .events = self->version == 1 ? POLLIN : POLLPRI };
  guint64 count;

  if (self->version == 1)
    return read (self->fd, &count, sizeof count) == sizeof count;
  /* PSI: polling consumes the pending event; POLLERR means the cgroup was removed. */
  if (poll (&pfd, 1, 0) < 0)
    return 0;
  if (pfd.revents & (POLLERR | POLLNVAL))
    return -1;
  return (pfd.revents & POLLPRI) != 0;
}

static gboolean
on_quiet (gpointer user_data)
{
  OwPressureSource *self = user_data;
  g_autoptr (GError) error = NULL;

  switch (signalled_meanwhile (self))
    {
    case 1:
      return G_SOURCE_CONTINUE; /* still under pressure: stay silent one more period */
    case -1:
      break;
    default:
      if (!start_polling (self, &error))
        g_warning ("%s: pressure %s not re-armed: %s", self->cgroup,
                   ow_pressure_level_to_string (self->level), error->message);
      else
        g_debug ("%s: pressure %s quiet, re-armed", self->cgroup,
                 ow_pressure_level_to_string (self->level));
    }
  self->quiet_id = 0;
  return G_SOURCE_REMOVE;
}

/* On v1 the removal of the cgroup signals every registration once: not pressure. */
static gboolean
cgroup_still_there (OwPressureSource *self)
{
  g_auto (OwFd) dir = ow_hierarchy_open_cgroup (self->hierarchy, self->cgroup, NULL);
  struct stat st;

  return dir >= 0 && fstat (dir, &st) == 0 && st.st_ino == self->ino;
}

static void
start_quiet_period (OwPressureSource *self)
{
  ow_fd_mux_remove (self->mux, &self->fd_id);
  self->quiet_id = g_timeout_add (OW_PRESSURE_QUIET_MS, on_quiet, self);
}

static void
on_fd (int fd, guint32 events, gpointer user_data)
{
  OwPressureSource *self = user_data;
  guint64 count;

  if (self->version == 1 && read (fd, &count, sizeof count) != sizeof count)
    return; /* spurious */
  if ((events & EPOLLERR) || (self->version == 1 && !cgroup_still_there (self)))
    {
      ow_fd_mux_remove (self->mux, &self->fd_id);
      return; /* gone: the cgroup's own source reports the removal */
    }
  start_quiet_period (self);
  self->listener->level (self->level, fd, self->user_data); /* may free self: nothing after this */
}

gboolean
ow_pressure_source_take_pending (OwPressureSource *self)
{
  if (self->fd_id == 0 || signalled_meanwhile (self) != 1)
    return FALSE;
  start_quiet_period (self);
  return TRUE;
}

gboolean
ow_pressure_source_is_quiet (OwPressureSource *self)
{
  return self->quiet_id != 0;
}

int
ow_pressure_source_get_fd (OwPressureSource *self)
{
  return self->fd;
}

static gboolean
not_supported (OwPressureSource *self, const char *why, GError **error)
{
  g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NOT_SUPPORTED,
               "Memory pressure of '%s' cannot be watched: %s", self->cgroup, why);
  return FALSE;
}

static gboolean
register_v1 (OwPressureSource *self, int dir, GError **error)
{
  g_auto (OwFd) level_fd = -1;
  g_auto (OwFd) control = -1;
  g_autofree char *line = NULL;

  self->fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (self->fd >= 0)
    level_fd = openat (dir, "memory.pressure_level", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (level_fd >= 0)
    control = openat (dir, "cgroup.event_control", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (control >= 0)
    {
      /* hierarchy: pressure in descendants counts too, as PSI does on v2. */
      line = g_strdup_printf ("%d %d %s,hierarchy", self->fd, level_fd,
                              ow_pressure_level_to_string (self->level));
      if (write (control, line, strlen (line)) == (ssize_t)strlen (line))
        return TRUE;
    }
  if (errno == ENOENT)
    return not_supported (self, "memory.pressure_level is missing", error);
  oomwatch_set_error_errno (error, errno, "Cannot register for memory pressure of '%s'",
                            self->cgroup);
  return FALSE;
}

static gboolean
register_v2 (OwPressureSource *self, int dir, GError **error)
{
  g_autofree char *trigger = g_strdup_printf ("%s %u %u", psi_triggers[self->level].kind,
                                              psi_triggers[self->level].stall_us, PSI_WINDOW_US);

  /* The v2 root has no memory.pressure: the machine-wide file stands for it. */
  if (strcmp (self->cgroup, "/") == 0)
    self->fd = open ("/proc/pressure/memory", O_RDWR | O_CLOEXEC);
  else
    self->fd = openat (dir, "memory.pressure", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (self->fd >= 0 && write (self->fd, trigger, strlen (trigger) + 1) >= 0)
    return TRUE;
  if (errno == ENOENT || errno == EOPNOTSUPP)
    return not_supported (self, "no PSI (a kernel built with psi disabled needs psi=1)", error);
  oomwatch_set_error_errno (error, errno, "Cannot set a memory pressure trigger (%s) on '%s'",
                            trigger, self->cgroup);
  return FALSE;
}

OwPressureSource *
ow_pressure_source_new (OwHierarchy *hierarchy, OwFdMux *mux, const char *cgroup,
                        OwPressureLevel level, const OwPressureSourceListener *listener,
                        gpointer user_data, GError **error)
{
  g_autoptr (OwPressureSource) self = g_new0 (OwPressureSource, 1);
  g_auto (OwFd) dir = -1;
  struct stat st;

  self->hierarchy = hierarchy;
  self->mux = mux;
  self->cgroup = g_strdup (cgroup);
  self->level = level;
  self->version = ow_hierarchy_get_version (hierarchy);
  self->listener = listener;
  self->user_data = user_data;
  self->fd = -1;
  dir = ow_hierarchy_open_cgroup (hierarchy, cgroup, error);
  if (dir < 0)
    return NULL;
  self->ino = fstat (dir, &st) == 0 ? st.st_ino : 0;
  if (!(self->version == 1 ? register_v1 (self, dir, error) : register_v2 (self, dir, error)))
    return NULL;
  if (!start_polling (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

void
ow_pressure_source_free (OwPressureSource *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->quiet_id, g_source_remove);
  ow_fd_mux_remove (self->mux, &self->fd_id);
  ow_fd_close (self->fd); /* closing the eventfd or trigger drops the registration */
  g_free (self->cgroup);
  g_free (self);
}
