/* bench-relay CGROUP_DIR: the floor of any D-Bus design. Registers its own eventfd for the
 * cgroup's memory.oom_control and emits one GDBus signal per wake-up, nothing else. */
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static gboolean
on_term (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static gboolean
on_eventfd (int fd, GIOCondition condition, gpointer user_data)
{
  GDBusConnection *connection = user_data;
  guint64 count;

  if (read (fd, &count, sizeof count) != sizeof count)
    return G_SOURCE_CONTINUE;
  g_dbus_connection_emit_signal (connection, NULL, "/org/oomwatch/Bench", "org.oomwatch.Bench",
                                 "Oom", g_variant_new ("(t)", count), NULL);
  g_dbus_connection_flush_sync (connection, NULL, NULL);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) connection = NULL;
  g_autofree char *control_path = NULL, *event_path = NULL, *line = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  int efd, cfd, ecfd;

  if (argc != 2)
    return 2;
  connection = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (connection == NULL)
    {
      g_printerr ("bench-relay: %s\n", error->message);
      return 1;
    }
  control_path = g_build_filename (argv[1], "memory.oom_control", NULL);
  event_path = g_build_filename (argv[1], "cgroup.event_control", NULL);
  efd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  cfd = open (control_path, O_RDONLY | O_CLOEXEC);
  ecfd = open (event_path, O_WRONLY | O_CLOEXEC);
  line = g_strdup_printf ("%d %d", efd, cfd);
  if (efd < 0 || cfd < 0 || ecfd < 0 || write (ecfd, line, strlen (line)) < 0)
    {
      perror ("bench-relay");
      return 1;
    }
  close (ecfd);
  g_unix_fd_add (efd, G_IO_IN, on_eventfd, connection);
  g_unix_signal_add (SIGTERM, on_term, loop);
  printf ("ready\n");
  fflush (stdout);
  g_main_loop_run (loop);
  return 0;
}
