/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The v1 eventfd on memory.oom_control. The kernel signals it when the cgroup enters OOM
 * handling, before a victim is killed, and never for the kill or for recovery: so after each
 * signal the source re-reads memory.oom_control until oom_kill has risen once per signal (each
 * signal looked after for about a second), and while tasks are paused until under_oom falls.
 * While the kernel log is followed, its "Killed process" lines trigger those reads
 * (ow-kill-wait.h), with one timer left at the end of the second; otherwise timers back off
 * from 5 ms. With nothing happening it has no timer. The cgroup's removal also signals the eventfd: told
 * apart by the cgroup being gone (or another directory). A wake-up whose state cannot be read
 * is kept and read again later, never reported. memory.oom_control stays open while the fd
 * budget has fds to spare (ow-fd-budget.h). */
#include "ow-v1-source.h"
#include "ow-v1-control.h"
#include "ow-fd.h"
#include "ow-keyed-file.h"
#include "oomwatch-error.h"
#include "oomwatch-names.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define RECHECK_FIRST_MS 5
#define RECHECK_WINDOW_MS 1200
/* While the kernel log tells kills: the one look before the window's end, for a line the
 * log reader (low priority) has not reached under load, or lost to an overrun. */
#define LOG_GRACE_MS 100
/* Signals this close together share one entry of the owed list: at most 13 entries, however
 * fast a user makes their cgroup OOM. */
#define OWED_MERGE_MS 100
#define PAUSED_RECHECK_MS 100
#define UNREADABLE_RETRY_MS 100
#define UNREADABLE_RETRY_MAX_MS 2000

typedef struct
{
  OwSource parent;
  OwFdLoan *control; /* memory.oom_control kept open while fds are spare (NULL: none) */
  int event_fd;
  guint event_fd_id;
  guint64 oom_kill_seen;
  GArray *owed; /* OwedKills, oldest first; NULL until the first OOM */
  gboolean paused;
  /* Read once registered: whatever happens from then on wakes the eventfd, so the registry's
   * sync after creation has nothing to read. */
  gboolean current_at_birth;
  guint64 unread_signals; /* wake-ups whose state could not be read yet */
  guint retry_ms;
  guint recheck_id;
  guint recheck_interval_ms;
} OwV1Source;

/* Signals whose kill has not been seen yet (at most one each), looked for until UNTIL. */
typedef struct
{
  gint64 until;
  guint64 kills;
} OwedKills;

/* Keeps FD (this cgroup's memory.oom_control) open if the budget has an fd to spare. */
static void
keep_control (OwV1Source *self, int fd)
{
  OwFdBudget *budget = self->parent.context->fd_budget;

  ow_fd_loan_end (self->control);
  self->control = budget != NULL ? ow_fd_budget_lend (budget, fd) : NULL;
  if (budget == NULL)
    ow_fd_close (fd);
}

/* The cgroup's memory.oom_control opened again, when it was not kept: -1 with REMOVED set when
 * the cgroup is gone, or the name is another cgroup's directory now (a new cgroup under it). */
static int
reopen_control (OwV1Source *self, gboolean *removed, GError **error)
{
  OwSource *source = &self->parent;
  g_auto (OwFd) dir = -1;
  struct stat st;
  int fd;

  dir = ow_hierarchy_open_cgroup (source->context->hierarchy, source->cgroup, error);
  *removed = (dir < 0 && g_error_matches (*error, OOMWATCH_ERROR, OOMWATCH_ERROR_NO_SUCH_CGROUP))
             || (dir >= 0 && fstat (dir, &st) == 0 && st.st_ino != source->ino);
  if (dir < 0 || *removed)
    return -1;
  fd = openat (dir, "memory.oom_control", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  *removed = fd < 0 && errno == ENOENT;
  if (fd < 0 && !*removed)
    oomwatch_set_error_errno (error, errno, "Cannot open memory.oom_control of '%s'",
                              source->cgroup);
  return fd;
}

/* Every wake-up waits for this before its signal. Kept open, memory.oom_control is one pread;
 * once its cgroup is removed the kernel answers ENODEV (removal). Otherwise it is opened again
 * below its cgroup's directory, and kept open if an fd is spare now. */
static OwV1ReadResult
read_state (OwV1Source *self, OwV1Control *state)
{
  OwSource *source = &self->parent;
  g_autoptr (GError) error = NULL;
  g_auto (OwFd) fd = -1;
  gboolean removed = FALSE;
  OwV1ReadResult result;

  if (ow_fd_loan_get_fd (self->control) >= 0)
    result = ow_v1_control_read (ow_fd_loan_use (self->control), source->cgroup, state, &error);
  else
    {
      fd = reopen_control (self, &removed, &error);
      if (removed)
        return OW_V1_READ_REMOVED;
      result = fd < 0 ? OW_V1_READ_FAILED : ow_v1_control_read (fd, source->cgroup, state, &error);
      if (result == OW_V1_READ_OK)
        keep_control (self, ow_fd_steal (&fd));
    }
  if (result == OW_V1_READ_FAILED)
    g_warning ("%s", error->message);
  return result;
}

static void
owe_kills (OwV1Source *self, guint64 signals)
{
  OwedKills owed = { .kills = signals };
  OwedKills *newest;

  if (self->owed == NULL)
    self->owed = g_array_new (FALSE, FALSE, sizeof (OwedKills));
  newest = self->owed->len > 0 ? &g_array_index (self->owed, OwedKills, self->owed->len - 1) : NULL;

  owed.until = g_get_monotonic_time () + RECHECK_WINDOW_MS * G_TIME_SPAN_MILLISECOND;
  if (newest != NULL && owed.until - newest->until < OWED_MERGE_MS * G_TIME_SPAN_MILLISECOND)
    {
      newest->kills += signals; /* its signals are looked after a little longer */
      newest->until = owed.until;
      return;
    }
  g_array_append_val (self->owed, owed);
}

static void
pay_kills (OwV1Source *self, guint64 kills)
{
  for (guint i = 0; self->owed != NULL && i < self->owed->len && kills > 0; i++)
    {
      OwedKills *owed = &g_array_index (self->owed, OwedKills, i);
      guint64 paid = MIN (owed->kills, kills);

      owed->kills -= paid;
      kills -= paid;
    }
}

/* Whether a kill may still come: signals that ended without one are forgotten at UNTIL. */
static gboolean
kills_owed (OwV1Source *self)
{
  gint64 now = g_get_monotonic_time ();

  if (self->owed == NULL)
    return FALSE;
  while (self->owed->len > 0
         && (g_array_index (self->owed, OwedKills, 0).kills == 0
             || g_array_index (self->owed, OwedKills, 0).until <= now))
    g_array_remove_index (self->owed, 0);
  for (guint i = 0; i < self->owed->len; i++)
    if (g_array_index (self->owed, OwedKills, i).kills > 0)
      return TRUE;
  return FALSE;
}

static void
report_kills (OwV1Source *self, const OwV1Control *state)
{
  OwEvent event = { .kind = OW_EVENT_OOM_KILL, .has_total = TRUE, .total = state->oom_kill };

  /* A counter that went down means a different cgroup now: start again from it. */
  if (state->oom_kill > self->oom_kill_seen)
    {
      event.count = state->oom_kill - self->oom_kill_seen;
      pay_kills (self, event.count);
      self->oom_kill_seen = state->oom_kill;
      ow_source_emit (&self->parent, &event);
    }
  self->oom_kill_seen = state->oom_kill;
}

static void
report_recovery (OwV1Source *self, const OwV1Control *state)
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

static gboolean on_recheck (gpointer user_data);

static void
schedule_recheck (OwV1Source *self, guint interval_ms)
{
  g_clear_handle_id (&self->recheck_id, g_source_remove);
  self->recheck_interval_ms = interval_ms;
  self->recheck_id = g_timeout_add (interval_ms, on_recheck, self);
}

static gboolean
log_tells_kills (OwV1Source *self)
{
  OwKillWait *wait = self->parent.context->kill_wait;

  return wait != NULL && ow_kill_wait_followed (wait);
}

static void on_kill_logged (gpointer waiter);

/* Kills are owed: wait for the kernel log's line, and look LOG_GRACE_MS after the first look
 * and once more when the last owed signal's second is over; or back off from INTERVAL_MS. */
static void
look_for_kills (OwV1Source *self, guint interval_ms)
{
  const OwedKills *newest;
  gint64 left_ms;

  if (!log_tells_kills (self))
    {
      schedule_recheck (self, interval_ms);
      return;
    }
  ow_kill_wait_add (self->parent.context->kill_wait, self, on_kill_logged);
  newest = &g_array_index (self->owed, OwedKills, self->owed->len - 1);
  left_ms = (newest->until - g_get_monotonic_time ()) / G_TIME_SPAN_MILLISECOND + 1;
  if (interval_ms < LOG_GRACE_MS)
    left_ms = MIN (left_ms, LOG_GRACE_MS);
  schedule_recheck (self, (guint)CLAMP (left_ms, 1, RECHECK_WINDOW_MS));
}

static void
stop_looking (OwV1Source *self)
{
  g_clear_handle_id (&self->recheck_id, g_source_remove);
  if (self->parent.context->kill_wait != NULL)
    ow_kill_wait_remove (self->parent.context->kill_wait, self);
}

/* After a look at the counters: paused, owed kills, or nothing more to look for. */
static void
look_again (OwV1Source *self, guint interval_ms)
{
  if (self->paused)
    {
      stop_looking (self);
      schedule_recheck (self, PAUSED_RECHECK_MS);
    }
  else if (kills_owed (self))
    look_for_kills (self, interval_ms);
  else
    stop_looking (self); /* every kill seen */
}

/* SIGNALS wake-ups of the eventfd, to be told apart and reported. */
static void
handle_signals (OwV1Source *self, guint64 signals)
{
  OwEvent oom = { .kind = OW_EVENT_OOM, .has_under_oom = TRUE };
  OwV1Control state;

  switch (read_state (self, &state))
    {
    case OW_V1_READ_REMOVED:
      /* The removal wake-up is one signal; any others merged into the read were OOMs. */
      self->unread_signals = 0;
      oom.count = signals - 1;
      oom.under_oom = self->paused;
      ow_source_emit (&self->parent, &oom);
      ow_source_emit_removed (&self->parent); /* may free self: nothing after this */
      return;
    case OW_V1_READ_FAILED:
      /* Not known to be an OOM: keep it, and look again (backing off) until it can be read. */
      self->unread_signals = signals;
      self->retry_ms = MIN (MAX (self->retry_ms * 2, UNREADABLE_RETRY_MS), UNREADABLE_RETRY_MAX_MS);
      schedule_recheck (self, self->retry_ms);
      return;
    case OW_V1_READ_OK:
      break;
    }
  self->unread_signals = 0;
  self->retry_ms = 0;
  oom.count = signals;
  oom.under_oom = state.kill_disabled && state.under_oom;
  owe_kills (self, signals);
  ow_source_emit (&self->parent, &oom);
  report_kills (self, &state);
  self->paused = oom.under_oom;
  look_again (self, RECHECK_FIRST_MS);
}

static gboolean
on_recheck (gpointer user_data)
{
  OwV1Source *self = user_data;
  OwV1Control state;

  self->recheck_id = 0;
  if (self->unread_signals > 0)
    {
      handle_signals (self, self->unread_signals);
      return G_SOURCE_REMOVE;
    }
  /* Removal is reported by the eventfd's own wake-up; stop looking until then. */
  if (read_state (self, &state) != OW_V1_READ_OK)
    return G_SOURCE_REMOVE;
  report_kills (self, &state);
  report_recovery (self, &state);
  look_again (self, MIN (self->recheck_interval_ms * 2, PAUSED_RECHECK_MS * 2));
  return G_SOURCE_REMOVE;
}

/* The kernel logged a kill (here or anywhere): read whether it was one of ours. */
static void
on_kill_logged (gpointer waiter)
{
  OwV1Source *self = waiter;
  OwV1Control state;

  if (self->paused || self->unread_signals > 0 || read_state (self, &state) != OW_V1_READ_OK)
    return; /* their own timer reads again */
  report_kills (self, &state);
  report_recovery (self, &state);
  if (!self->paused && kills_owed (self) && log_tells_kills (self))
    ow_kill_wait_add (self->parent.context->kill_wait, self, on_kill_logged); /* timer kept */
  else
    look_again (self, RECHECK_FIRST_MS);
}

static void
on_event_fd (int fd, guint32 events, gpointer user_data)
{
  OwV1Source *self = user_data;
  guint64 signals = 0;

  if (read (fd, &signals, sizeof signals) != sizeof signals)
    return; /* EAGAIN: a spurious wake-up */
  handle_signals (self, signals + self->unread_signals);
}

static void
v1_source_sync (OwSource *source)
{
  OwV1Source *self = (OwV1Source *)source;
  OwV1Control state;

  if (self->current_at_birth)
    {
      self->current_at_birth = FALSE;
      return;
    }
  if (read_state (self, &state) == OW_V1_READ_OK)
    {
      report_kills (self, &state);
      report_recovery (self, &state);
    }
}

static void
v1_source_describe (OwSource *source, GVariantDict *dict)
{
  OwV1Source *self = (OwV1Source *)source;

  g_variant_dict_insert (dict, OOMWATCH_KEY_UNDER_OOM, "b", self->paused);
  /* A kill or a recovery may still be reported: clients (and tests) can wait for quiet. */
  g_variant_dict_insert (dict, OOMWATCH_KEY_RECHECKING, "b", self->recheck_id != 0);
}

static void
v1_source_free (OwSource *source)
{
  OwV1Source *self = (OwV1Source *)source;

  stop_looking (self);
  ow_fd_mux_remove (source->context->mux, &self->event_fd_id);
  /* Closing the eventfd makes the kernel drop the registration. */
  ow_fd_close (self->event_fd);
  ow_fd_loan_end (self->control);
  g_clear_pointer (&self->owed, g_array_unref);
  g_free (self);
}

/* Continuity: v1 keeps a cumulative counter of kills only. */
static void
v1_source_counters (OwSource *source, OwCounters *counters)
{
  counters->has[OW_COUNTER_OOM_KILL] = TRUE;
  counters->value[OW_COUNTER_OOM_KILL] = ((OwV1Source *)source)->oom_kill_seen;
}

static const OwSourceVTable v1_source_vtable = {
  .sync = v1_source_sync,
  .describe = v1_source_describe,
  .free = v1_source_free,
  .counters = v1_source_counters,
};

/* VALUE in decimal at OUT; returns the end. printf's machinery is ~1.5 k instructions, and
 * start-up registers every persistent watch. */
static char *
put_decimal (char *out, guint value)
{
  char digits[10];
  gsize n = 0;

  do
    digits[n++] = (char)('0' + value % 10);
  while ((value /= 10) > 0);
  while (n > 0)
    *out++ = digits[--n];
  return out;
}

/* A delegated cgroup's cgroup.event_control belongs to its user (mode 0200): without
 * CAP_DAC_OVERRIDE the daemon may not register there. */
static gboolean
register_event_fd (int dir, int control, int event_fd, const char *cgroup, GError **error)
{
  g_auto (OwFd) event_control = -1;
  char line[2 * 10 + 1], *end;

  event_control = openat (dir, "cgroup.event_control", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (event_control >= 0)
    {
      end = put_decimal (line, (guint)event_fd);
      *end++ = ' ';
      end = put_decimal (end, (guint)control);
      if (write (event_control, line, (size_t)(end - line)) == end - line)
        return TRUE;
    }
  if (errno == EACCES || errno == EPERM)
    g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_PERMISSION_DENIED,
                 "Cannot register for OOM notifications of '%s': its cgroup.event_control is "
                 "not writable by the daemon (a delegated cgroup?)",
                 cgroup);
  else
    oomwatch_set_error_errno (error, errno, "Cannot register for OOM notifications of '%s'",
                              cgroup);
  return FALSE;
}

OwSource *
ow_v1_source_new (const OwSourceContext *context, const char *canonical, OwSourceBaseline baseline,
                  const OwSourceListener *listener, gpointer user_data, GError **error)
{
  g_autoptr (OwSource) source = NULL;
  g_auto (OwFd) dir = -1;
  g_auto (OwFd) control = -1;
  OwV1Source *self;
  OwV1Control state;
  struct stat st;

  dir = ow_hierarchy_open_cgroup (context->hierarchy, canonical, error);
  if (dir < 0)
    return NULL;
  if (fstat (dir, &st) < 0)
    {
      oomwatch_set_error_errno (error, errno, "Cannot stat cgroup '%s'", canonical);
      return NULL;
    }

  self = g_new0 (OwV1Source, 1);
  source = &self->parent;
  ow_source_init (source, &v1_source_vtable, context, canonical, listener, user_data);
  source->ino = st.st_ino;
  self->event_fd = -1;

  control = openat (dir, "memory.oom_control", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (control < 0)
    {
      if (errno == ENOENT)
        g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_INVALID_CGROUP,
                     "Invalid cgroup path '%s': not a memory cgroup", canonical);
      else
        oomwatch_set_error_errno (error, errno, "Cannot open memory.oom_control of '%s'",
                                  canonical);
      return NULL;
    }

  self->event_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (self->event_fd < 0)
    {
      oomwatch_set_error_errno (error, errno, "Cannot create an eventfd for '%s'", canonical);
      return NULL;
    }
  self->event_fd_id
      = ow_fd_mux_add (context->mux, self->event_fd, EPOLLIN, on_event_fd, self, error);
  if (self->event_fd_id == 0 || !register_event_fd (dir, control, self->event_fd, canonical, error))
    return NULL;
  /* Read once registered: an OOM before the read is in its counters, one after wakes the
   * eventfd (as does registering while under OOM). */
  if (ow_v1_control_read (control, canonical, &state, error) != OW_V1_READ_OK)
    return NULL;
  self->oom_kill_seen = baseline == OW_SOURCE_BASELINE_ZERO ? 0 : state.oom_kill;
  self->paused = state.kill_disabled && state.under_oom;
  self->current_at_birth = TRUE;
  keep_control (self, ow_fd_steal (&control));
  return g_steal_pointer (&source);
}
