/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-state-file.h"
#include "ow-fd.h"
#include "oomwatch-error.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

static gboolean
is_volatile (int fd)
{
  struct statfs fs;

  return fstatfs (fd, &fs) == 0 && (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC);
}

static gboolean
write_all (int fd, const char *data, gsize length)
{
  while (length > 0)
    {
      ssize_t done = write (fd, data, length);

      if (done < 0 && errno == EINTR)
        continue;
      if (done <= 0)
        {
          if (done == 0)
            errno = EIO;
          return FALSE;
        }
      data += done;
      length -= (gsize)done;
    }
  return TRUE;
}

gboolean
ow_state_file_replace (const char *path, const char *data, gssize length, int mode, GError **error)
{
  g_autofree char *tmp = g_strconcat (path, ".XXXXXX", NULL);
  g_auto (OwFd) fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode);
  gsize size = length < 0 ? strlen (data) : (gsize)length;
  int saved;

  if (fd < 0)
    {
      saved = errno;
      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED,
                   "Cannot create a file beside %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  /* The umask cut the mode at creation: other readers (the metrics collector) need it whole. */
  if (fchmod (fd, (mode_t)mode) == 0 && write_all (fd, data, size)
      && (is_volatile (fd) || fsync (fd) == 0) && g_close (ow_fd_steal (&fd), NULL)
      && rename (tmp, path) == 0)
    return TRUE;
  saved = errno;
  g_unlink (tmp);
  g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED, "Cannot write %s: %s", path,
               g_strerror (saved));
  return FALSE;
}

int
ow_state_file_replace_and_open (const char *path, const char *data, gssize length, int mode,
                                GError **error)
{
  int fd;

  if (!ow_state_file_replace (path, data, length, mode, error))
    return -1;
  fd = open (path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED, "Cannot open %s: %s", path,
                   g_strerror (saved));
    }
  return fd;
}
