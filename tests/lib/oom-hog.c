/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oom-hog: joins a cgroup, then allocates and touches memory until told amount (or until the
 * OOM killer stops it). Usage: oom-hog CGROUP_DIR MIB [--hold]
 * Prints "ready PID" once it is in the cgroup; exits 0 if it got all the memory. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIB (1024 * 1024)

int
main (int argc, char **argv)
{
  char path[4096];
  char pid[32];
  long mib;
  int fd;

  if (argc < 3)
    {
      fprintf (stderr, "usage: oom-hog CGROUP_DIR MIB [--hold]\n");
      return 2;
    }
  mib = strtol (argv[2], NULL, 10);
  snprintf (path, sizeof path, "%s/cgroup.procs", argv[1]);
  snprintf (pid, sizeof pid, "%d", (int) getpid ());
  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, pid, strlen (pid)) < 0)
    {
      perror (path);
      return 1;
    }
  close (fd);
  printf ("ready %s\n", pid);
  fflush (stdout);

  for (long i = 0; i < mib; i++)
    {
      char *chunk = malloc (MIB);

      if (chunk == NULL)
        return 1;
      memset (chunk, 0x5a, MIB);
    }
  if (argc > 3 && strcmp (argv[3], "--hold") == 0)
    pause ();
  return 0;
}
