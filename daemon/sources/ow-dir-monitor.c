/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-dir-monitor.h"
#include "ow-str-hash.h"
#include "ow-fd.h"
#include "oomwatch-error.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/inotify.h>
#include <unistd.h>

struct _OwDirMonitor
{
  int fd;
  guint fd_id;
  const OwDirMonitorListener *listener;
  gpointer user_data;
  GHashTable *dirs; /* canonical dir → DirWatch */
  GHashTable *wds;  /* GINT_TO_POINTER (wd) → DirWatch (borrowed) */
};

typedef struct
{
  char *dir;
  int wd;
  guint32 mask; /* the events asked for: the union of its users' */
  guint users;
} DirWatch;

static void
dir_watch_free (gpointer data)
{
  DirWatch *watch = data;

  g_free (watch->dir);
  g_free (watch);
}

static void
forget (OwDirMonitor *self, DirWatch *watch)
{
  g_hash_table_remove (self->wds, GINT_TO_POINTER (watch->wd));
  g_hash_table_remove (self->dirs, watch->dir);
}

static gboolean
on_inotify (int fd, GIOCondition condition, gpointer user_data)
{
  OwDirMonitor *self = user_data;
  char buf[4096] __attribute__ ((aligned (__alignof__(struct inotify_event))));
  ssize_t len;

  while ((len = read (fd, buf, sizeof buf)) > 0)
    {
      for (char *p = buf; p < buf + len;)
        {
          const struct inotify_event *event = (const struct inotify_event *)p;
          DirWatch *watch = g_hash_table_lookup (self->wds, GINT_TO_POINTER (event->wd));
          g_autofree char *dir = watch != NULL ? g_strdup (watch->dir) : NULL;

          p += sizeof *event + event->len;
          if (event->mask & IN_Q_OVERFLOW)
            self->listener->changed (NULL, NULL, event->mask, self->user_data);
          else if (event->mask & IN_IGNORED)
            {
              if (watch != NULL)
                forget (self, watch);
            }
          else if (dir != NULL && event->len > 0)
            self->listener->changed (dir, event->name, event->mask, self->user_data);
        }
    }
  return G_SOURCE_CONTINUE;
}

OwDirMonitor *
ow_dir_monitor_new (const OwDirMonitorListener *listener, gpointer user_data, GError **error)
{
  g_autoptr (OwDirMonitor) self = g_new0 (OwDirMonitor, 1);

  self->listener = listener;
  self->user_data = user_data;
  self->dirs = g_hash_table_new_full (ow_str_hash, g_str_equal, NULL, dir_watch_free);
  self->wds = g_hash_table_new (g_direct_hash, g_direct_equal);
  self->fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  if (self->fd < 0)
    {
      int saved = errno;

      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED, "Cannot create an inotify fd: %s",
                   g_strerror (saved));
      return NULL;
    }
  self->fd_id = ow_fd_add_watch (G_PRIORITY_DEFAULT, self->fd, G_IO_IN, on_inotify, self);
  return g_steal_pointer (&self);
}

void
ow_dir_monitor_free (OwDirMonitor *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->fd_id, g_source_remove);
  ow_fd_close (self->fd);
  g_clear_pointer (&self->wds, g_hash_table_unref);
  g_clear_pointer (&self->dirs, g_hash_table_unref);
  g_free (self);
}

/* One more user of DIR if it is watched already for MASK (no need to open it); FALSE if not. */
gboolean
ow_dir_monitor_add_user (OwDirMonitor *self, const char *dir, guint32 mask)
{
  DirWatch *watch = g_hash_table_lookup (self->dirs, dir);

  if (watch == NULL || (watch->mask & mask) != mask)
    return FALSE;
  watch->users++;
  return TRUE;
}

/* DIR_FD is the directory, opened safely; inotify wants a path, so it is given the fd's
 * /proc/self/fd link, which names exactly that directory whatever happens to DIR meanwhile.
 * A directory already watched gets MASK added to its events. */
gboolean
ow_dir_monitor_add (OwDirMonitor *self, int dir_fd, const char *dir, guint32 mask, GError **error)
{
  DirWatch *watch = g_hash_table_lookup (self->dirs, dir);
  g_autofree char *link = NULL;
  int wd;

  if (watch != NULL && (watch->mask & mask) == mask)
    {
      watch->users++;
      return TRUE;
    }
  if (watch != NULL)
    mask |= watch->mask;
  link = g_strdup_printf ("/proc/self/fd/%d", dir_fd);
  wd = inotify_add_watch (self->fd, link, mask | IN_ONLYDIR);
  if (wd < 0)
    {
      int saved = errno;

      g_set_error (error, OOMWATCH_ERROR, oomwatch_error_from_errno (saved),
                   "Cannot watch directory '%s' for removals: %s", dir, g_strerror (saved));
      return FALSE;
    }
  if (watch == NULL)
    {
      watch = g_new0 (DirWatch, 1);
      watch->dir = g_strdup (dir);
      g_hash_table_insert (self->dirs, watch->dir, watch);
    }
  else if (watch->wd != wd)
    {
      /* DIR is another directory than the one watched (removed and made again): this one. */
      g_hash_table_remove (self->wds, GINT_TO_POINTER (watch->wd));
      inotify_rm_watch (self->fd, watch->wd);
    }
  watch->wd = wd;
  watch->mask = mask;
  watch->users++;
  g_hash_table_insert (self->wds, GINT_TO_POINTER (wd), watch);
  return TRUE;
}

void
ow_dir_monitor_remove (OwDirMonitor *self, const char *dir)
{
  DirWatch *watch = g_hash_table_lookup (self->dirs, dir);

  if (watch == NULL || --watch->users > 0)
    return;
  inotify_rm_watch (self->fd, watch->wd);
  forget (self, watch);
}
