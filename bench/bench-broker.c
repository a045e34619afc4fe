/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench-broker: runs dbus-broker where dbus-daemon would run, without systemd as PID 1.
 * It takes dbus-daemon's options as the test harness passes them (--config-file=PATH
 * --address=unix:path=SOCKET --nofork --print-address=1), prints the address once the socket
 * listens, and becomes dbus-broker-launch (which forks dbus-broker).
 *
 * dbus-broker-launch needs two things systemd normally provides:
 * - the listening socket, by socket activation: fd 3 with LISTEN_FDS=1 and LISTEN_PID set to
 *   its own pid (this process's: exec keeps it). systemd-socket-activate would do too, but
 *   only accepts after the first connection, so the address could not be printed when ready;
 * - the bus's own address: the launcher connects to it as a client (DBUS_SYSTEM_BUS_ADDRESS);
 * - a journal to log to: it fails at start-up ("launcher_open_log ... No such file or
 *   directory") when /run/systemd/journal/socket cannot be connected. So it runs in a mount
 *   namespace of its own, with a private /run/systemd holding a datagram socket bound there;
 *   nothing reads it, and the launcher's log is lossy by design (it drops what does not fit). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define JOURNAL "/run/systemd/journal/socket"
#define FD_JOURNAL 64 /* out of the way of fd 3, which socket activation defines */

static int
fail (const char *what)
{
  fprintf (stderr, "bench-broker: %s: %s\n", what, strerror (errno));
  return 1;
}

/* dbus-broker-launch turns max_connections_per_user into per-user byte and fd quotas
 * (that many times the per-connection ones), and the broker refuses the result for the
 * test configuration's 4096 ("controller_dispatch_connection ... Return code 4"). The
 * benchmark opens a handful of connections: the limit goes, the rest of the file stays. */
static const char *
broker_config (const char *config, const char *socket_path)
{
  static char path[4200];
  static char text[65536];
  const char *limit = "<limit name=\"max_connections_per_user\">";
  char *start, *end;
  size_t len;
  FILE *in = fopen (config, "re"), *out;

  if (in == NULL)
    return config;
  len = fread (text, 1, sizeof text - 1, in);
  fclose (in);
  text[len] = '\0';
  start = strstr (text, limit);
  end = start != NULL ? strstr (start, "</limit>") : NULL;
  if (end == NULL)
    return config;
  memmove (start, end + strlen ("</limit>"), strlen (end + strlen ("</limit>")) + 1);
  snprintf (path, sizeof path, "%s.broker.conf", socket_path);
  out = fopen (path, "we");
  if (out == NULL || fputs (text, out) < 0 || fclose (out) != 0)
    return config;
  return path;
}

static int
bound_socket (int type, const char *path)
{
  struct sockaddr_un address = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, type | SOCK_CLOEXEC, 0);

  if (fd < 0 || strlen (path) >= sizeof address.sun_path)
    return -1;
  strcpy (address.sun_path, path);
  unlink (path);
  if (bind (fd, (struct sockaddr *)&address, sizeof address) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

int
main (int argc, char **argv)
{
  const char *config = NULL, *socket_path = NULL;
  char pid[32], address[4200];
  int journal, listener;

  for (int i = 1; i < argc; i++)
    if (strncmp (argv[i], "--config-file=", 14) == 0)
      config = argv[i] + 14;
    else if (strncmp (argv[i], "--address=unix:path=", 20) == 0)
      socket_path = argv[i] + 20;
  if (config == NULL || socket_path == NULL)
    {
      fprintf (stderr, "usage: bench-broker --config-file=PATH --address=unix:path=SOCKET\n");
      return 2;
    }

  if (unshare (CLONE_NEWNS) < 0)
    return fail ("unshare");
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return fail ("making / private");
  if (mount ("tmpfs", "/run/systemd", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
    return fail ("mounting a private /run/systemd");
  if (mkdir ("/run/systemd/journal", 0755) < 0)
    return fail ("mkdir /run/systemd/journal");
  journal = bound_socket (SOCK_DGRAM, JOURNAL);
  /* Not close-on-exec: the socket must outlive the exec, or connecting to it fails. */
  if (journal < 0 || dup2 (journal, FD_JOURNAL) < 0)
    return fail (JOURNAL);
  close (journal);

  listener = bound_socket (SOCK_STREAM, socket_path);
  if (listener < 0 || listen (listener, 128) < 0)
    return fail (socket_path);
  chmod (socket_path, 0666); /* clients run as nobody too */
  /* fd 3 is handed over: not close-on-exec (dup2 clears the flag, except onto itself). */
  if (listener == 3 ? fcntl (3, F_SETFD, 0) < 0 : dup2 (listener, 3) < 0)
    return fail ("fd 3");
  if (listener != 3)
    close (listener);
  snprintf (pid, sizeof pid, "%d", (int)getpid ());
  setenv ("LISTEN_FDS", "1", 1);
  setenv ("LISTEN_PID", pid, 1);
  unsetenv ("LISTEN_FDNAMES");
  /* The launcher connects to the bus it runs, as a client, at the system bus address. */
  snprintf (address, sizeof address, "unix:path=%s", socket_path);
  setenv ("DBUS_SYSTEM_BUS_ADDRESS", address, 1);

  printf ("%s\n", address);
  fflush (stdout);
  execlp ("dbus-broker-launch", "dbus-broker-launch", "--scope", "system", "--config-file",
          broker_config (config, socket_path), (char *)NULL);
  return fail ("dbus-broker-launch");
}
