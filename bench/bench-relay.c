/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench-relay CGROUP_DIR [CANONICAL]: the floor of any D-Bus design. Registers its own eventfd
 * for the cgroup's memory.oom_control and emits one GDBus signal per wake-up, nothing else.
 * With CANONICAL, the relay does what oomwatchd's signal cannot do without: it re-opens and
 * reads memory.oom_control (under-oom, and telling the removal wake-up apart) and sends
 * oomwatchd's arguments (cgroup, kind, count, details with timestamp, hierarchy, under-oom).
 * With BENCH_RELAY_FLOOR=1 in its environment (the bare relay only), it does the least any
 * implementation of oomwatchd's API must do per OOM on cgroup v1: the signal at the wake-up,
 * then the kernel log read from /dev/kmsg up to the "Killed process" record, then a second
 * signal (OomKill) for the kill with its victim: the floor of CPU per OOM (bench/floor).
 * SIGUSR1: register again (a new eventfd), so that the kernel wakes this one before the
 * registrations made earlier; prints "ready" each time it is registered. */
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct
{
  GDBusConnection *connection;
  char *cgroup_dir;
  const char *canonical; /* NULL: the bare relay */
  int efd;
  guint efd_id;
  int kmsg;         /* BENCH_RELAY_FLOOR: /dev/kmsg, at its end when started */
  guint kills_owed; /* wake-ups whose kill the kernel log has not shown yet */
} Relay;

static gboolean
on_term (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static gboolean
on_eventfd (int fd, GIOCondition condition, gpointer user_data)
{
  Relay *relay = user_data;
  guint64 count;

  if (read (fd, &count, sizeof count) != sizeof count)
    return G_SOURCE_CONTINUE;
  if (relay->canonical != NULL)
    {
      g_auto (GVariantDict) details = G_VARIANT_DICT_INIT (NULL);
      g_autofree char *path = g_build_filename (relay->cgroup_dir, "memory.oom_control", NULL);
      char text[512] = "";
      int control = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      struct stat st;

      if (control < 0 || fstat (control, &st) < 0 || pread (control, text, sizeof text - 1, 0) < 0)
        perror ("bench-relay");
      if (control >= 0)
        close (control);
      g_variant_dict_insert (&details, "timestamp", "t", (guint64)g_get_real_time ());
      g_variant_dict_insert (&details, "hierarchy", "u", 1);
      g_variant_dict_insert (&details, "under-oom", "b", strstr (text, "under_oom 1") != NULL);
      g_dbus_connection_emit_signal (relay->connection, NULL, "/org/oomwatch/Bench",
                                     "org.oomwatch.Bench", "Oom",
                                     g_variant_new ("(sst@a{sv})", relay->canonical, "oom", count,
                                                    g_variant_dict_end (&details)),
                                     NULL);
    }
  else
    g_dbus_connection_emit_signal (relay->connection, NULL, "/org/oomwatch/Bench",
                                   "org.oomwatch.Bench", "Oom", g_variant_new ("(t)", count), NULL);
  g_dbus_connection_flush_sync (relay->connection, NULL, NULL);
  relay->kills_owed++;
  return G_SOURCE_CONTINUE;
}

/* The floor's kernel log: every record is one read(); a "Killed process" record owed a
 * wake-up is one more signal, with the victim's pid. */
static gboolean
on_kmsg (int fd, GIOCondition condition, gpointer user_data)
{
  Relay *relay = user_data;
  char record[8192];

  for (;;)
    {
      ssize_t n = read (fd, record, sizeof record - 1);
      const char *killed;

      if (n < 0 && errno == EPIPE)
        continue; /* overwritten records */
      if (n <= 0)
        break;
      record[n] = '\0';
      killed = strstr (record, "Killed process ");
      if (killed == NULL || relay->kills_owed == 0)
        continue;
      relay->kills_owed--;
      g_dbus_connection_emit_signal (relay->connection, NULL, "/org/oomwatch/Bench",
                                     "org.oomwatch.Bench", "OomKill",
                                     g_variant_new ("(t)", strtoull (killed + 15, NULL, 10)), NULL);
      g_dbus_connection_flush_sync (relay->connection, NULL, NULL);
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
relay_register (Relay *relay)
{
  g_autofree char *control_path = g_build_filename (relay->cgroup_dir, "memory.oom_control", NULL);
  g_autofree char *event_path = g_build_filename (relay->cgroup_dir, "cgroup.event_control", NULL);
  g_autofree char *line = NULL;
  int cfd, ecfd;
  gboolean ok;

  g_clear_handle_id (&relay->efd_id, g_source_remove);
  if (relay->efd >= 0)
    close (relay->efd); /* the kernel drops that registration */
  relay->efd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  cfd = open (control_path, O_RDONLY | O_CLOEXEC);
  ecfd = open (event_path, O_WRONLY | O_CLOEXEC);
  line = g_strdup_printf ("%d %d", relay->efd, cfd);
  ok = relay->efd >= 0 && cfd >= 0 && ecfd >= 0 && write (ecfd, line, strlen (line)) > 0;
  if (!ok)
    perror ("bench-relay");
  if (cfd >= 0)
    close (cfd);
  if (ecfd >= 0)
    close (ecfd);
  if (!ok)
    return FALSE;
  relay->efd_id = g_unix_fd_add (relay->efd, G_IO_IN, on_eventfd, relay);
  printf ("ready\n");
  fflush (stdout);
  return TRUE;
}

static gboolean
on_usr1 (gpointer user_data)
{
  relay_register (user_data);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Relay relay = { .efd = -1, .kmsg = -1 };

  if (argc != 2 && argc != 3)
    return 2;
  relay.cgroup_dir = argv[1];
  relay.canonical = argv[2];
  relay.connection = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (relay.connection == NULL)
    {
      g_printerr ("bench-relay: %s\n", error->message);
      return 1;
    }
  g_unix_signal_add (SIGTERM, on_term, loop);
  g_unix_signal_add (SIGUSR1, on_usr1, &relay);
  if (relay.canonical == NULL && g_strcmp0 (g_getenv ("BENCH_RELAY_FLOOR"), "1") == 0)
    {
      relay.kmsg = open ("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      if (relay.kmsg < 0 || lseek (relay.kmsg, 0, SEEK_END) < 0)
        {
          perror ("bench-relay: /dev/kmsg");
          return 1;
        }
      g_unix_fd_add (relay.kmsg, G_IO_IN, on_kmsg, &relay);
    }
  if (!relay_register (&relay))
    return 1;
  g_main_loop_run (loop);
  g_object_unref (relay.connection);
  return 0;
}
