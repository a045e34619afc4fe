/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-kmsg.h"
#include "ow-fd.h"
#include "ow-kmsg-parser.h"
#include "oomwatch-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <string.h>
#include <unistd.h>

/* A record can be up to about 8 KiB; a smaller buffer loses it (EINVAL). */
#define RECORD_MAX 16384
/* The "Killed process" line follows its "oom-kill:" line within a few records. */
#define RECENT_MAX 64

struct _OwKmsg
{
  int fd;
  guint fd_id;
  const OwKmsgListener *listener;
  gpointer user_data;
  GQueue recent; /* OwVictim (ours, a reference each), oldest first */
  guint64 overruns;
  /* One record at a time. Allocated per drain, 16 KiB had glibc consolidate its heap each time. */
  char buf[RECORD_MAX];
};

static OwVictim *
find_recent (OwKmsg *self, guint32 pid)
{
  for (GList *l = self->recent.tail; l != NULL; l = l->prev)
    if (((OwVictim *)l->data)->pid == pid)
      return l->data;
  return NULL;
}

static void
tell_kill_logged (OwKmsg *self)
{
  if (self->listener->kill_logged != NULL)
    self->listener->kill_logged (self->user_data);
}

static void
handle_record (OwKmsg *self, OwKmsgRecord *record, GPtrArray *named)
{
  OwVictim *victim;

  if (record->kind == OW_KMSG_KILLED_PROCESS)
    {
      tell_kill_logged (self);
      /* Follows the oom-kill: line of the same kill; its name is the complete one. */
      victim = find_recent (self, record->pid);
      if (victim != NULL && record->comm != NULL)
        {
          g_free (victim->comm);
          victim->comm = g_steal_pointer (&record->comm);
        }
      if (victim != NULL)
        victim->memory = record->memory;
      return;
    }
  if (record->kind != OW_KMSG_OOM_KILL)
    return;

  victim = ow_victim_new ();
  victim->pid = record->pid;
  victim->has_uid = record->has_uid;
  victim->uid = record->uid;
  victim->comm = g_steal_pointer (&record->comm);
  victim->task_cgroup = g_steal_pointer (&record->task_memcg);
  victim->oom_cgroup = g_steal_pointer (&record->oom_memcg);
  victim->global = record->global;
  g_queue_push_tail (&self->recent, victim);
  if (self->recent.length > RECENT_MAX)
    ow_victim_unref (g_queue_pop_head (&self->recent));
  g_debug ("kernel log: pid %u (%s) killed in %s", victim->pid, victim->comm,
           victim->task_cgroup ?: "(ambiguous record)");
  g_ptr_array_add (named, ow_victim_ref (victim));
}

GPtrArray *
ow_kmsg_drain (OwKmsg *self)
{
  char *buf = self->buf;
  GPtrArray *named = g_ptr_array_new_with_free_func ((GDestroyNotify)ow_victim_unref);

  for (;;)
    {
      ssize_t len = read (self->fd, buf, RECORD_MAX - 1);
      OwKmsgRecord record;

      if (len < 0 && errno == EPIPE)
        {
          /* Records were overwritten before we read them: carry on from the oldest left. */
          self->overruns++;
          g_debug ("kernel log overrun (%" G_GUINT64_FORMAT ")", self->overruns);
          tell_kill_logged (self);
          continue;
        }
      if (len < 0 && errno == EINTR)
        continue;
      if (len <= 0)
        break;
      buf[len] = '\0';
      if (ow_kmsg_parse (buf, (gsize)len, &record))
        handle_record (self, &record, named);
      ow_kmsg_record_clear (&record);
    }
  return named;
}

guint64
ow_kmsg_get_overruns (OwKmsg *self)
{
  return self->overruns;
}

static gboolean
on_kmsg (int fd, GIOCondition condition, gpointer user_data)
{
  OwKmsg *self = user_data;
  g_autoptr (GPtrArray) named = ow_kmsg_drain (self);

  for (guint i = 0; i < named->len; i++)
    self->listener->victim (g_ptr_array_index (named, i), self->user_data);
  return G_SOURCE_CONTINUE;
}

OwKmsg *
ow_kmsg_new (const char *path, const OwKmsgListener *listener, gpointer user_data, GError **error)
{
  g_autoptr (OwKmsg) self = g_new0 (OwKmsg, 1);

  self->listener = listener;
  self->user_data = user_data;
  g_queue_init (&self->recent);
  self->fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (self->fd < 0)
    {
      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED, "Cannot open %s: %s", path,
                   g_strerror (errno));
      return NULL;
    }
  /* Only kills from now on: the history is not ours to report. */
  lseek (self->fd, 0, SEEK_END);
  /* Low priority: an OOM report is dozens of records, and the cgroups' own wake-ups of the
   * same moment should not wait behind them. Nothing depends on this for correctness: a kill
   * counted before its record was read drains the log itself (ow_kmsg_drain), and victims are
   * reference-counted, so a starved reader only names a victim later. */
  self->fd_id = ow_fd_add_watch (G_PRIORITY_LOW, self->fd, G_IO_IN, on_kmsg, self);
  return g_steal_pointer (&self);
}

void
ow_kmsg_free (OwKmsg *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->fd_id, g_source_remove);
  ow_fd_close (self->fd);
  g_queue_clear_full (&self->recent, (GDestroyNotify)ow_victim_unref);
  g_free (self);
}
