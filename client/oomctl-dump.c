/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomctl dump: systemd-oomd's state, as systemd's own oomctl prints it, so that installing
 * ours under that name loses nothing. */
#include "oomctl-commands.h"
#include "oomctl-common.h"
#include "oomctl-output.h"
#include "oomwatch-names.h"

#include <errno.h>
#include <gio/gunixfdlist.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static gboolean
copy_to_stdout (int fd)
{
  char buffer[16384];
  ssize_t n;

  fflush (stdout);
  while ((n = read (fd, buffer, sizeof buffer)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 || fwrite (buffer, 1, (size_t) n, stdout) != (size_t) n)
        return FALSE;
    }
  return fflush (stdout) == 0;
}

int
oomctl_dump (int argc, char **argv)
{
  const GOptionEntry entries[] = { { NULL } };
  g_autoptr (GDBusConnection) bus = NULL;
  g_autoptr (GUnixFDList) fds = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;
  gboolean copied;
  int saved;
  int fd;
  gint32 index = -1;
  int status;

  status = oomctl_parse_no_arguments (&argc, &argv, entries,
                                      "Print the state of systemd-oomd (the userspace OOM "
                                      "killer), as systemd's oomctl dump does.");
  if (status != OOMCTL_EXIT_OK)
    return status;
  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (bus == NULL)
    {
      g_printerr ("%s: Failed to connect to the system bus: %s\n", OOMCTL_NAME, error->message);
      return OOMCTL_EXIT_FAILED;
    }
  oomctl_pager_open ();
  reply = g_dbus_connection_call_with_unix_fd_list_sync (
      bus, OOMWATCH_OOMD_BUS_NAME, OOMWATCH_OOMD_OBJECT_PATH, OOMWATCH_OOMD_INTERFACE,
      OOMWATCH_OOMD_DUMP_METHOD, NULL, G_VARIANT_TYPE ("(h)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
      &fds, NULL, &error);
  if (reply == NULL)
    {
      g_dbus_error_strip_remote_error (error);
      g_printerr ("Failed to dump context: %s\n", error->message);
      return OOMCTL_EXIT_FAILED;
    }
  g_variant_get (reply, "(h)", &index);
  fd = fds != NULL ? g_unix_fd_list_get (fds, index, &error) : -1;
  if (fd < 0)
    {
      g_printerr ("Failed to dump context: no file descriptor in the reply\n");
      return OOMCTL_EXIT_FAILED;
    }
  copied = copy_to_stdout (fd);
  saved = errno;
  close (fd);
  if (!copied)
    {
      g_printerr ("Failed to copy systemd-oomd's state: %s\n", g_strerror (saved));
      return OOMCTL_EXIT_FAILED;
    }
  return OOMCTL_EXIT_OK;
}
