/* The kernel signals the eventfd when the cgroup *enters* OOM handling, before a victim is
 * killed, and never for the kill itself nor for recovery. So after each signal this source
 * re-reads memory.oom_control a few times over about a second (to see oom_kill rise), and
 * keeps re-reading while tasks are paused (to see under_oom fall). While nothing happens it
 * has no timer at all. The removal of the cgroup also signals the eventfd once: told apart by
 * the cgroup no longer being there. Only the eventfd is kept open: state files are re-opened
 * through the hierarchy, so a watch costs one fd. */
#include "ow-v1-source.h"
#include "ow-fd.h"
#include "ow-keyed-file.h"
#include "oomwatch-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define RECHECK_FIRST_MS 5
#define RECHECK_WINDOW_MS 1200
#define PAUSED_RECHECK_MS 100

typedef struct
{
  OwSource parent;
  OwHierarchy *hierarchy; /* borrowed: outlives every source */
  char *cgroup;
  ino_t control_ino; /* of its memory.oom_control: a new cgroup of the same name has another */
  int event_fd;
  guint event_fd_id;
  guint64 oom_kill_seen;
  gboolean paused;
  guint recheck_id;
  guint recheck_interval_ms;
  gint64 recheck_until;
} OwV1Source;

typedef struct
{
  gboolean kill_disabled;
  gboolean under_oom;
  guint64 oom_kill;
} OomControl;

typedef enum {
  READ_OK,
  READ_REMOVED,
  READ_FAILED,
} ReadResult;

static gboolean
parse_oom_control (const char *text, OomControl *state)
{
  guint64 kill_disabled, under_oom;

  if (!ow_keyed_file_lookup (text, "oom_kill_disable", &kill_disabled)
      || !ow_keyed_file_lookup (text, "under_oom", &under_oom))
    return FALSE;
  state->kill_disabled = kill_disabled != 0;
  state->under_oom = under_oom != 0;
  /* oom_kill appeared in 4.13; without it kills are simply not counted. */
  if (!ow_keyed_file_lookup (text, "oom_kill", &state->oom_kill))
    state->oom_kill = 0;
  return TRUE;
}

static ReadResult
read_oom_control_fd (int fd, const char *cgroup, OomControl *state, GError **error)
{
  char buf[512];
  ssize_t len;

  len = fd < 0 ? -1 : pread (fd, buf, sizeof buf - 1, 0);
  if (len < 0)
    {
      int saved = errno;

      if (saved == ENODEV)
        return READ_REMOVED;
      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED,
                   "Cannot read memory.oom_control of '%s': %s", cgroup, g_strerror (saved));
      return READ_FAILED;
    }
  buf[len] = '\0';
  if (!parse_oom_control (buf, state))
    {
      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED,
                   "Unexpected contents in memory.oom_control of '%s'", cgroup);
      return READ_FAILED;
    }
  return READ_OK;
}

static ReadResult
read_oom_control_at (int dir, const char *cgroup, OomControl *state, GError **error)
{
  g_auto (OwFd) fd = openat (dir, "memory.oom_control", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

  if (fd < 0 && errno == ENOENT)
    {
      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_INVALID_CGROUP,
                   "Invalid cgroup path '%s': not a memory cgroup", cgroup);
      return READ_FAILED;
    }
  return read_oom_control_fd (fd, cgroup, state, error);
}

/* Re-resolves the cgroup's memory.oom_control in one openat2 (a wake-up waits for this): gone,
 * or another file under the same name (a new cgroup), is removal. */
static ReadResult
read_state (OwV1Source *self, OomControl *state)
{
  g_autoptr (GError) error = NULL;
  g_auto (OwFd) fd = -1;
  struct stat st;
  ReadResult result;

  fd = ow_hierarchy_open_cgroup_file (self->hierarchy, self->cgroup, "memory.oom_control", &error);
  if (fd < 0 && g_error_matches (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NO_SUCH_CGROUP))
    return READ_REMOVED;
  if (fd >= 0 && (fstat (fd, &st) < 0 || st.st_ino != self->control_ino))
    return READ_REMOVED;
  result = fd < 0 ? READ_FAILED : read_oom_control_fd (fd, self->cgroup, state, &error);
  if (result == READ_FAILED)
    g_warning ("%s", error->message);
  return result;
}

static void
report_kills (OwV1Source *self, const OomControl *state)
{
  OwEvent event = { .kind = OW_EVENT_OOM_KILL, .has_total = TRUE, .total = state->oom_kill };

  /* A counter that went down means a different cgroup now: start again from it. */
  if (state->oom_kill > self->oom_kill_seen)
    {
      event.count = state->oom_kill - self->oom_kill_seen;
      self->oom_kill_seen = state->oom_kill;
      ow_source_emit (&self->parent, &event);
    }
  self->oom_kill_seen = state->oom_kill;
}

static void
report_recovery (OwV1Source *self, const OomControl *state)
{
  gboolean paused = state->kill_disabled && state->under_oom;

  if (self->paused && !paused)
    {
      OwEvent event = { .kind = OW_EVENT_OOM_RECOVERED, .count = 1, .has_under_oom = TRUE };

      self->paused = FALSE;
      ow_source_emit (&self->parent, &event);
    }
  self->paused = paused;
}

static void schedule_recheck (OwV1Source *self, guint interval_ms);

static gboolean
on_recheck (gpointer user_data)
{
  OwV1Source *self = user_data;
  OomControl state;
  guint next_ms;

  self->recheck_id = 0;
  /* Removal is reported by the eventfd's own wake-up; stop looking until then. */
  if (read_state (self, &state) != READ_OK)
    return G_SOURCE_REMOVE;

  report_kills (self, &state);
  report_recovery (self, &state);

  if (self->paused)
    next_ms = PAUSED_RECHECK_MS;
  else if (g_get_monotonic_time () < self->recheck_until)
    next_ms = MIN (self->recheck_interval_ms * 2, PAUSED_RECHECK_MS * 2);
  else
    return G_SOURCE_REMOVE;
  schedule_recheck (self, next_ms);
  return G_SOURCE_REMOVE;
}

static void
schedule_recheck (OwV1Source *self, guint interval_ms)
{
  g_clear_handle_id (&self->recheck_id, g_source_remove);
  self->recheck_interval_ms = interval_ms;
  self->recheck_id = g_timeout_add (interval_ms, on_recheck, self);
}

static gboolean
on_event_fd (int fd, guint32 events, gpointer user_data)
{
  OwV1Source *self = user_data;
  OwEvent oom = { .kind = OW_EVENT_OOM, .has_under_oom = TRUE };
  OomControl state;
  ReadResult result;
  guint64 signals = 0;

  if (read (fd, &signals, sizeof signals) != sizeof signals)
    return G_SOURCE_CONTINUE; /* EAGAIN: a spurious wake-up */

  result = read_state (self, &state);
  if (result == READ_REMOVED)
    {
      /* The removal wake-up is one signal; any others merged into the read were OOMs. */
      oom.count = signals - 1;
      ow_source_emit (&self->parent, &oom);
      self->event_fd_id = 0;
      ow_source_emit_removed (&self->parent);
      return G_SOURCE_REMOVE;
    }

  oom.count = signals;
  oom.under_oom = result == READ_OK ? state.kill_disabled && state.under_oom : self->paused;
  ow_source_emit (&self->parent, &oom);
  if (result == READ_OK)
    {
      report_kills (self, &state);
      self->paused = oom.under_oom;
    }
  self->recheck_until = g_get_monotonic_time () + RECHECK_WINDOW_MS * G_TIME_SPAN_MILLISECOND;
  schedule_recheck (self, self->paused ? PAUSED_RECHECK_MS : RECHECK_FIRST_MS);
  return G_SOURCE_CONTINUE;
}

static void
v1_source_describe (OwSource *source, GVariantDict *dict)
{
  OwV1Source *self = (OwV1Source *) source;

  g_variant_dict_insert (dict, "under-oom", "b", self->paused);
}

static void
v1_source_free (OwSource *source)
{
  OwV1Source *self = (OwV1Source *) source;

  g_clear_handle_id (&self->recheck_id, g_source_remove);
  ow_hierarchy_unpoll_fd (self->hierarchy, &self->event_fd_id);
  /* Closing the eventfd makes the kernel drop the registration. */
  ow_fd_close (self->event_fd);
  g_free (self->cgroup);
  g_free (self);
}

static const OwSourceVTable v1_source_vtable = {
  .describe = v1_source_describe,
  .free = v1_source_free,
};

static gboolean
register_event_fd (int dir, int event_fd, const char *cgroup, GError **error)
{
  g_auto (OwFd) control = -1;
  g_auto (OwFd) event_control = -1;
  g_autofree char *line = NULL;
  int saved;

  control = openat (dir, "memory.oom_control", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (control >= 0)
    event_control = openat (dir, "cgroup.event_control", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (event_control >= 0)
    {
      line = g_strdup_printf ("%d %d", event_fd, control);
      if (write (event_control, line, strlen (line)) == (ssize_t) strlen (line))
        return TRUE;
    }
  saved = errno;
  g_set_error (error, OOMWATCH_ERROR,
               oomwatch_error_from_errno (saved),
               "Cannot register for OOM notifications of '%s': %s", cgroup, g_strerror (saved));
  return FALSE;
}

OwSource *
ow_v1_source_new (OwHierarchy *hierarchy,
                  const char *canonical,
                  const OwSourceCallbacks *callbacks,
                  gpointer user_data,
                  GError **error)
{
  g_autoptr (OwSource) source = NULL;
  g_auto (OwFd) dir = -1;
  OwV1Source *self;
  OomControl state;
  struct stat st;

  dir = ow_hierarchy_open_cgroup (hierarchy, canonical, error);
  if (dir < 0)
    return NULL;

  self = g_new0 (OwV1Source, 1);
  source = &self->parent;
  ow_source_init (source, &v1_source_vtable, callbacks, user_data);
  self->hierarchy = hierarchy;
  self->cgroup = g_strdup (canonical);
  self->event_fd = -1;

  if (read_oom_control_at (dir, canonical, &state, error) != READ_OK)
    return NULL;
  if (fstatat (dir, "memory.oom_control", &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      int saved = errno;

      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED, "Cannot stat cgroup '%s': %s",
                   canonical, g_strerror (saved));
      return NULL;
    }
  self->control_ino = st.st_ino;
  self->oom_kill_seen = state.oom_kill;
  self->paused = state.kill_disabled && state.under_oom;

  self->event_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (self->event_fd < 0)
    {
      int saved = errno;

      g_set_error (error, OOMWATCH_ERROR,
                   oomwatch_error_from_errno (saved),
                   "Cannot create an eventfd for '%s': %s", canonical, g_strerror (saved));
      return NULL;
    }
  self->event_fd_id = ow_hierarchy_poll_fd (hierarchy, self->event_fd, EPOLLIN, on_event_fd, self,
                                            error);
  if (self->event_fd_id == 0 || !register_event_fd (dir, self->event_fd, canonical, error))
    return NULL;
  return g_steal_pointer (&source);
}
