/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pressure-hog: makes a cgroup's reclaim work before an OOM. It writes FILE (CACHE_MIB) and
 * drops it from the cache before joining the cgroup (dirty pages under writeback make the
 * kernel's reclaim look critical at once); then it reads the file over and over: clean page
 * cache beyond a small limit, all reclaimable, no OOM: the kernel says "low". After a first
 * line on stdin it writes the file over and over instead (dirty pages reclaim badly: "medium"
 * or "critical", still no OOM); after a second it allocates anonymous memory (ANON_MIB, never
 * freed) until the OOM killer stops it.
 * Usage: pressure-hog CGROUP_DIR FILE CACHE_MIB ANON_MIB. Prints "ready PID" once in the
 * cgroup. */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#define MIB (1024 * 1024)

static int
join (const char *dir)
{
  char path[4096];
  char pid[32];
  int fd;

  snprintf (path, sizeof path, "%s/cgroup.procs", dir);
  snprintf (pid, sizeof pid, "%d", (int)getpid ());
  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, pid, strlen (pid)) < 0)
    {
      perror (path);
      return -1;
    }
  close (fd);
  return 0;
}

static int phase;

/* Whether a line came in on stdin since the last look: the next phase begins. */
static int
go_on (void)
{
  struct pollfd pfd = { .fd = 0, .events = POLLIN };
  char c;

  if (poll (&pfd, 1, 0) <= 0 || read (0, &c, 1) != 1)
    return 0;
  if (c != '\n')
    return go_on ();
  phase++;
  return 1;
}

static int
prepare (const char *file, long mib, char *buf)
{
  int fd = open (file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  if (fd < 0)
    return -1;
  for (long i = 0; i < mib; i++)
    if (write (fd, buf, MIB) != MIB)
      return -1;
  fsync (fd);
  posix_fadvise (fd, 0, 0, POSIX_FADV_DONTNEED);
  close (fd);
  return 0;
}

/* One pass: read the file back, or (phase 1) write it again. */
static int
churn (const char *file, long mib, char *buf)
{
  int fd = open (file, phase == 0 ? O_RDONLY | O_CLOEXEC : O_WRONLY | O_CLOEXEC);

  if (fd < 0)
    return -1;
  if (phase == 0)
    while (!go_on () && read (fd, buf, MIB) > 0)
      ;
  else
    for (long i = 0; i < mib && !go_on (); i++)
      if (write (fd, buf, MIB) != MIB)
        break;
  close (fd);
  return 0;
}

int
main (int argc, char **argv)
{
  static char buf[MIB];
  long cache_mib, anon_mib;

  if (argc < 5)
    {
      fprintf (stderr, "usage: pressure-hog CGROUP_DIR FILE CACHE_MIB ANON_MIB\n");
      return 2;
    }
  /* A test that fails an assertion must not leave a hog churning behind it. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  cache_mib = strtol (argv[3], NULL, 10);
  anon_mib = strtol (argv[4], NULL, 10);
  memset (buf, 0x5a, sizeof buf);
  if (prepare (argv[2], cache_mib, buf) < 0 || join (argv[1]) < 0)
    {
      perror (argv[2]);
      return 1;
    }
  printf ("ready %d\n", (int)getpid ());
  fflush (stdout);
  while (phase < 2)
    if (churn (argv[2], cache_mib, buf) < 0)
      {
        perror (argv[2]);
        return 1;
      }
  unlink (argv[2]);
  for (long i = 0; i < anon_mib; i++)
    {
      char *chunk = malloc (MIB);

      if (chunk == NULL)
        return 1;
      memset (chunk, 0x5a, MIB);
    }
  return 0;
}
