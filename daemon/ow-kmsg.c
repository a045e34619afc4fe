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
/* The counter rise and the log record of one kill are milliseconds apart. */
#define VICTIM_MEMORY_USEC ((gint64) 10 * G_USEC_PER_SEC)

struct _OwKmsg
{
  int fd;
  guint fd_id;
  OwKmsgVictimFunc func;
  gpointer user_data;
  GQueue victims; /* OwVictim, oldest first */
  guint64 overruns;
};

static void
victim_free (gpointer data)
{
  OwVictim *victim = data;

  g_free (victim->comm);
  g_free (victim->task_cgroup);
  g_free (victim->oom_cgroup);
  g_hash_table_unref (victim->claimed);
  g_free (victim);
}

gboolean
ow_cgroup_is_below (const char *cgroup, const char *ancestor)
{
  gsize len = strlen (ancestor);

  if (strcmp (ancestor, "/") == 0)
    return cgroup[0] == '/' && cgroup[1] != '\0';
  return strncmp (cgroup, ancestor, len) == 0 && cgroup[len] == '/';
}

static void
forget_old_victims (OwKmsg *self)
{
  gint64 now = g_get_monotonic_time ();
  OwVictim *oldest;

  while ((oldest = g_queue_peek_head (&self->victims)) != NULL
         && now - oldest->seen > VICTIM_MEMORY_USEC)
    victim_free (g_queue_pop_head (&self->victims));
}

static OwVictim *
find_victim (OwKmsg *self, guint32 pid)
{
  for (GList *l = self->victims.tail; l != NULL; l = l->prev)
    if (((OwVictim *) l->data)->pid == pid)
      return l->data;
  return NULL;
}

static void
handle_record (OwKmsg *self, OwKmsgRecord *record)
{
  OwVictim *victim;

  if (record->kind == OW_KMSG_KILLED_PROCESS)
    {
      /* Follows the oom-kill: line of the same kill; its name is the complete one. */
      victim = find_victim (self, record->pid);
      if (victim != NULL && record->comm != NULL)
        {
          g_free (victim->comm);
          victim->comm = g_steal_pointer (&record->comm);
        }
      return;
    }
  if (record->kind != OW_KMSG_OOM_KILL)
    return;

  forget_old_victims (self);
  victim = g_new0 (OwVictim, 1);
  victim->pid = record->pid;
  victim->has_uid = record->has_uid;
  victim->uid = record->uid;
  victim->comm = g_steal_pointer (&record->comm);
  victim->task_cgroup = g_steal_pointer (&record->task_memcg);
  victim->oom_cgroup = g_steal_pointer (&record->oom_memcg);
  victim->seen = g_get_monotonic_time ();
  victim->claimed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_queue_push_tail (&self->victims, victim);
  g_debug ("kernel log: pid %u (%s) killed in %s", victim->pid, victim->comm,
           victim->task_cgroup);
  self->func (victim, self->user_data);
}

void
ow_kmsg_drain (OwKmsg *self)
{
  g_autofree char *buf = g_malloc (RECORD_MAX);

  for (;;)
    {
      ssize_t len = read (self->fd, buf, RECORD_MAX - 1);
      OwKmsgRecord record;

      if (len < 0 && errno == EPIPE)
        {
          /* Records were overwritten before we read them: carry on from the oldest left. */
          self->overruns++;
          g_debug ("kernel log overrun (%" G_GUINT64_FORMAT ")", self->overruns);
          continue;
        }
      if (len < 0 && errno == EINTR)
        continue;
      if (len <= 0)
        break;
      buf[len] = '\0';
      if (ow_kmsg_parse (buf, (gsize) len, &record))
        handle_record (self, &record);
      ow_kmsg_record_clear (&record);
    }
}

static gboolean
on_kmsg (int fd, GIOCondition condition, gpointer user_data)
{
  ow_kmsg_drain (user_data);
  return G_SOURCE_CONTINUE;
}

OwKmsg *
ow_kmsg_new (const char *path, OwKmsgVictimFunc func, gpointer user_data, GError **error)
{
  g_autoptr (OwKmsg) self = g_new0 (OwKmsg, 1);

  self->func = func;
  self->user_data = user_data;
  g_queue_init (&self->victims);
  self->fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (self->fd < 0)
    {
      int saved = errno;

      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED, "Cannot open %s: %s", path,
                   g_strerror (saved));
      return NULL;
    }
  /* Only kills from now on: the history is not ours to report. */
  lseek (self->fd, 0, SEEK_END);
  /* Low priority: an OOM report is dozens of records, and the cgroups' own wake-ups of the
   * same moment must not wait behind them. A kill counted before its record was read drains
   * the log itself (ow_kmsg_drain), so no name is lost. */
  self->fd_id = g_unix_fd_add_full (G_PRIORITY_LOW, self->fd, G_IO_IN, on_kmsg, self, NULL);
  return g_steal_pointer (&self);
}

void
ow_kmsg_free (OwKmsg *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->fd_id, g_source_remove);
  ow_fd_close (self->fd);
  g_queue_clear_full (&self->victims, victim_free);
  g_free (self);
}

gboolean
ow_victim_claim (OwVictim *victim, const char *cgroup)
{
  if (g_hash_table_contains (victim->claimed, cgroup))
    return FALSE;
  g_hash_table_add (victim->claimed, g_strdup (cgroup));
  return TRUE;
}

/* Up to MAX recent victims in CGROUP (or below it, with BELOW_TOO) not yet reported on
 * CGROUP, oldest first. Reporting one is marking it with ow_victim_claim(). */
GPtrArray *
ow_kmsg_unreported (OwKmsg *self, const char *cgroup, gboolean below_too, guint64 max)
{
  GPtrArray *found = g_ptr_array_new ();

  forget_old_victims (self);
  for (GList *l = self->victims.head; l != NULL && found->len < max; l = l->next)
    {
      OwVictim *victim = l->data;

      if (victim->task_cgroup == NULL || g_hash_table_contains (victim->claimed, cgroup))
        continue;
      if (strcmp (victim->task_cgroup, cgroup) == 0
          || (below_too && ow_cgroup_is_below (victim->task_cgroup, cgroup)))
        g_ptr_array_add (found, victim);
    }
  return found;
}
