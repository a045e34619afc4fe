/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-cgroup-path.h"
#include "ow-fd.h"
#include "oomwatch-error.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#define MESSAGE_VALUE_MAX 200

/* Error messages quote what the client sent, but never 64 KiB of it. */
char *
ow_cgroup_path_for_message (const char *input)
{
  g_autofree char *head = NULL;
  g_autofree char *escaped = NULL;

  if (strlen (input) <= MESSAGE_VALUE_MAX)
    return g_strescape (input, NULL);
  head = g_strndup (input, MESSAGE_VALUE_MAX);
  escaped = g_strescape (head, NULL);
  return g_strdup_printf ("%s… (%zu bytes)", escaped, strlen (input));
}

static const char *
strip_mount_prefix (const char *path, const char *mount)
{
  gsize len;

  if (mount == NULL || strcmp (mount, "/") == 0)
    return NULL;
  len = strlen (mount);
  if (strncmp (path, mount, len) != 0)
    return NULL;
  if (path[len] != '\0' && path[len] != '/')
    return NULL;
  return path + len;
}

static char *
invalid_path (GError **error, const char *input, const char *why)
{
  g_autofree char *shown = ow_cgroup_path_for_message (input);

  g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_INVALID_CGROUP, "Invalid cgroup path '%s': %s",
               shown, why);
  return NULL;
}

char *
ow_cgroup_path_canonicalize (const char *input, const char *mount_point,
                             const char *const *other_mounts, GError **error)
{
  g_autoptr (GString) canonical = NULL;
  const char *relative = input;
  const char *stripped;

  if (input[0] == '\0')
    return invalid_path (error, input, "empty path");
  if (strlen (input) > OW_CGROUP_PATH_MAX)
    return invalid_path (error, input, "longer than 4096 bytes");

  stripped = strip_mount_prefix (input, mount_point);
  if (stripped != NULL)
    relative = stripped;
  else
    for (gsize i = 0; other_mounts != NULL && other_mounts[i] != NULL; i++)
      if (strip_mount_prefix (input, other_mounts[i]) != NULL)
        return invalid_path (error, input, "not in the memory controller's hierarchy");

  /* One pass over the components, in place: every Watch() and persistent watch comes here. */
  canonical = g_string_sized_new (strlen (relative) + 1);
  for (const char *part = relative; *part != '\0';)
    {
      gsize len = strcspn (part, "/");
      const char *next = part + len + (part[len] == '/');

      if (len == 0 || (len == 1 && part[0] == '.'))
        {
          part = next;
          continue;
        }
      if (len == 2 && part[0] == '.' && part[1] == '.')
        return invalid_path (error, input, "'..' is not allowed");
      if (len > 255)
        return invalid_path (error, input, "a component is longer than 255 bytes");
      if (memchr (part, '\n', len) != NULL)
        return invalid_path (error, input, "newline in a component");
      g_string_append_c (canonical, '/');
      g_string_append_len (canonical, part, (gssize)len);
      part = next;
    }
  if (canonical->len == 0)
    g_string_append_c (canonical, '/');
  return g_string_free (g_steal_pointer (&canonical), FALSE);
}

static int
open_beneath (int root_fd, const char *relative)
{
  struct open_how how = {
    .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
  };
  g_auto (OwFd) dir = -1;
  g_auto (GStrv) parts = NULL;
  int fd;

  fd = (int)syscall (SYS_openat2, root_fd, relative, &how, sizeof how);
  if (fd >= 0 || errno != ENOSYS)
    return fd;

  /* Kernels before 5.6: walk one component at a time, refusing symlinks. The canonical
   * path has no "..", so each step stays below the previous directory. */
  dir = fcntl (root_fd, F_DUPFD_CLOEXEC, 3);
  parts = g_strsplit (relative, "/", -1);
  for (gsize i = 0; dir >= 0 && parts[i] != NULL; i++)
    {
      int next;

      if (parts[i][0] == '\0' || strcmp (parts[i], ".") == 0)
        continue;
      next = openat (dir, parts[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0)
        return -1;
      ow_fd_close (dir);
      dir = next;
    }
  return ow_fd_steal (&dir);
}

/* Opens CANONICAL below ROOT_FD as an O_PATH directory fd, never leaving the mount nor
 * following a symlink, and checks it is on a filesystem with FS_MAGIC (0: any filesystem,
 * only for ow_hierarchy_new_for_tests). */
int
ow_cgroup_path_open_dir (int root_fd, const char *canonical, unsigned long fs_magic, GError **error)
{
  const char *relative = canonical[1] != '\0' ? canonical + 1 : ".";
  g_auto (OwFd) dir = -1;
  struct statfs fs;

  dir = open_beneath (root_fd, relative);
  if (dir < 0)
    {
      int saved = errno;
      g_autofree char *shown = ow_cgroup_path_for_message (canonical);

      if (saved == ENOENT)
        g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NO_SUCH_CGROUP, "No such cgroup '%s'",
                     shown);
      else if (saved == ENOTDIR || saved == ELOOP || saved == EXDEV || saved == ENAMETOOLONG)
        g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_INVALID_CGROUP,
                     "Invalid cgroup path '%s': %s", shown,
                     saved == ENOTDIR        ? "not a directory"
                     : saved == ENAMETOOLONG ? "name too long"
                                             : "crosses a symbolic link or a mount");
      else
        g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED, "Cannot open cgroup '%s': %s",
                     shown, g_strerror (saved));
      return -1;
    }

  if (fstatfs (dir, &fs) < 0)
    {
      int saved = errno;

      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED, "Cannot stat cgroup '%s': %s",
                   canonical, g_strerror (saved));
      return -1;
    }
  if (fs_magic != 0 && (unsigned long)fs.f_type != fs_magic)
    {
      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_INVALID_CGROUP,
                   "Invalid cgroup path '%s': not on a cgroup filesystem", canonical);
      return -1;
    }
  return ow_fd_steal (&dir);
}

/* Opens the file NAME of cgroup CANONICAL below ROOT_FD for reading, in one step where the
 * kernel can (openat2): the same rules as ow_cgroup_path_open_dir (no symlink, no other
 * mount), without its filesystem check (RESOLVE_NO_XDEV keeps it on ROOT_FD's mount). For
 * the hot path of a wake-up, where every system call is latency. */
int
ow_cgroup_path_open_file (int root_fd, const char *canonical, const char *name, GError **error)
{
  g_autofree char *relative = g_build_filename (canonical + 1, name, NULL);
  struct open_how how = {
    .flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW,
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
  };
  g_auto (OwFd) dir = -1;
  int fd, saved;

  fd = (int)syscall (SYS_openat2, root_fd, relative, &how, sizeof how);
  if (fd < 0 && errno == ENOSYS)
    {
      dir = open_beneath (root_fd, canonical[1] != '\0' ? canonical + 1 : ".");
      fd = dir < 0 ? -1 : openat (dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    }
  if (fd >= 0)
    return fd;
  saved = errno;
  if (saved == ENOENT)
    g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NO_SUCH_CGROUP,
                 "Cannot open %s of cgroup '%s': %s", name, canonical, g_strerror (saved));
  else
    oomwatch_set_error_errno (error, saved, "Cannot open %s of cgroup '%s'", name, canonical);
  return -1;
}
