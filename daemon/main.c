/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomwatchd: options, signals, the bus name; the manager does the work. */
#include "ow-bus-connect.h"
#include "ow-bus-send.h"
#include "ow-hierarchy.h"
#include "ow-manager.h"
#include "oomwatch-names.h"

#include <errno.h>
#include <glib-unix.h>
#include <locale.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef DEFAULT_CONFIG
#define DEFAULT_CONFIG "/etc/oomwatch/oomwatch.conf"
#endif
/* fds kept for the bus, the hierarchy, logging, the transient opens of a watch and the memory
 * files of the last cgroups read (16, system/ow-cgroup-memory.c) */
#define RESERVED_FDS ((rlim_t)80)
/* the main thread's time slice (request_short_slice; the kernel grants 0.1 ms at the least) */
#define SHORT_SLICE_NS 500000

/* sched_setattr(2)'s argument; glibc has no wrapper (nor the type, before 2.41) */
typedef struct
{
  guint32 size, sched_policy;
  guint64 sched_flags;
  gint32 sched_nice;
  guint32 sched_priority;
  guint64 sched_runtime, sched_deadline, sched_period;
} SchedAttr;

/* GLib 2.74's slice allocator keeps what it once held: the many small GVariants of a large
 * message would stay the daemon's for good. With plain malloc they go back (ow-heap-trim.h).
 * GLib reads G_SLICE when it is loaded, before main(): so when it is not set, set it and start
 * again, once. */
static void
use_plain_malloc (char **argv)
{
  if (getenv ("G_SLICE") != NULL)
    return;
  setenv ("G_SLICE", "always-malloc", 1);
  execv ("/proc/self/exe", argv);
  /* If that fails the daemon still works; it only keeps such memory. */
}

/* A log line on stderr (not the journal) starts with the local time. With TZ unset glibc checks
 * /etc/localtime again at every line, a stat per event; with TZ naming that file it reads it
 * once. Before any thread: setenv() is not thread-safe. */
static void
read_time_zone_once (void)
{
  if (getenv ("TZ") == NULL)
    setenv ("TZ", ":/etc/localtime", 1);
}

typedef struct
{
  GMainLoop *loop;
  OwManager *manager;
  gboolean name_acquired;
  int exit_status;
} Daemon;

static gboolean
on_quit_signal (gpointer user_data)
{
  Daemon *daemon = user_data;

  g_message ("Terminating on signal");
  g_main_loop_quit (daemon->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_reload_signal (gpointer user_data)
{
  Daemon *daemon = user_data;
  g_autoptr (GError) error = NULL;

  g_message ("Reloading the configuration on SIGHUP");
  ow_manager_reload (daemon->manager, &error); /* a bad file is logged and changes nothing */
  return G_SOURCE_CONTINUE;
}

/* EEVDF (Linux 6.12 and later) lets a thread ask for a shorter time slice: woken, it runs
 * sooner, with the same share of the CPU; the main thread's wake-ups start with a signal clients
 * wait for. 0.5 ms covers one OOM's work, so the scheduler does not stop the thread halfway,
 * inside GDBus's locks, with the writer thread it just woke blocked on them; 0.1 ms did
 * (docs/benchmarks.md). Asked for once the bus connection, and with it GDBus's writer thread,
 * exists: a new thread inherits it, and a writer with a short slice preempts the main thread
 * that holds the connection's lock. Earlier kernels accept and ignore it. */
static void
request_short_slice (void)
{
  SchedAttr attr = { 0 };

  if (syscall (SYS_sched_getattr, 0, &attr, sizeof attr, 0) < 0
      || (attr.sched_policy != SCHED_OTHER && attr.sched_policy != SCHED_BATCH))
    return;
  attr.size = sizeof attr;
  attr.sched_runtime = SHORT_SLICE_NS;
  if (syscall (SYS_sched_setattr, 0, &attr, 0) < 0)
    g_debug ("No shorter time slice: %s", g_strerror (errno));
}

/* Serves the manager on CONNECTION before the name is asked for, so no call finds it missing. */
static gboolean
export_manager (Daemon *daemon, GDBusConnection *connection)
{
  g_autoptr (GError) error = NULL;

  /* A lost bus must end in a non-zero exit through the loop, not in raise(SIGTERM). */
  g_dbus_connection_set_exit_on_close (connection, FALSE);
  request_short_slice ();
  if (!ow_manager_export (daemon->manager, connection, &error))
    {
      g_printerr ("oomwatchd: cannot export the manager: %s\n", error->message);
      return FALSE;
    }
  return TRUE;
}

static void
on_name_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  Daemon *daemon = user_data;

  daemon->name_acquired = TRUE;
  g_message ("Serving %s", name);
}

static void
on_name_lost (GDBusConnection *connection, const char *name, gpointer user_data)
{
  Daemon *daemon = user_data;

  if (connection == NULL)
    {
      g_printerr ("oomwatchd: lost the connection to the system bus\n");
      daemon->exit_status = 1;
    }
  else if (daemon->name_acquired)
    g_message ("Replaced by another oomwatchd, exiting");
  else
    {
      g_printerr ("oomwatchd: cannot own %s: another oomwatchd runs (use --replace), or this "
                  "user may not own the name\n",
                  name);
      daemon->exit_status = 1;
    }
  g_main_loop_quit (daemon->loop);
}

/* Signals are looked at before any other work the loop has ready. */
static void
add_signal (int signum, GSourceFunc handler, Daemon *daemon)
{
  g_autoptr (GSource) source = g_unix_signal_source_new (signum);

  g_source_set_priority (source, G_PRIORITY_HIGH);
  g_source_set_callback (source, handler, daemon, NULL);
  g_source_attach (source, NULL);
}

/* A system service starts with a soft limit of 1024 fds; each watch needs one. */
static guint
raise_fd_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) < 0)
    return 1024 - RESERVED_FDS;
  if (limit.rlim_cur < limit.rlim_max)
    {
      limit.rlim_cur = limit.rlim_max;
      if (setrlimit (RLIMIT_NOFILE, &limit) < 0)
        getrlimit (RLIMIT_NOFILE, &limit);
    }
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur > G_MAXINT)
    return G_MAXINT;
  return limit.rlim_cur > RESERVED_FDS * 2 ? (guint)(limit.rlim_cur - RESERVED_FDS)
                                           : (guint)limit.rlim_cur / 2;
}

int
main (int argc, char **argv)
{
  gboolean replace = FALSE, verbose = FALSE, version = FALSE, no_kernel_log = FALSE;
  int client_watch_limit = -1, total_watch_limit = -1;
  g_autofree char *kernel_log = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *runtime_dir = NULL;
  const GOptionEntry entries[]
      = { { "replace", 'r', 0, G_OPTION_ARG_NONE, &replace, "Replace a running oomwatchd", NULL },
          { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log debug messages", NULL },
          { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
          { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
            "Configuration file (default " DEFAULT_CONFIG ")", "PATH" },
          { "client-watch-limit", 0, 0, G_OPTION_ARG_INT, &client_watch_limit,
            "Watches a caller that is not root may hold (default 256; overrides the file)", "N" },
          { "total-watch-limit", 0, 0, G_OPTION_ARG_INT, &total_watch_limit,
            "Cgroups the daemon watches at most (default: what the fd limit allows)", "N" },
          { "no-kernel-log", 0, 0, G_OPTION_ARG_NONE, &no_kernel_log,
            "Do not read the kernel log (oom-kill signals then do not name the victim)", NULL },
          { "kernel-log", 0, 0, G_OPTION_ARG_FILENAME, &kernel_log,
            "Where to read the kernel log (default /dev/kmsg)", "PATH" },
          { "runtime-dir", 0, 0, G_OPTION_ARG_FILENAME, &runtime_dir,
            "Where to keep state across restarts (default $RUNTIME_DIRECTORY, else /run/oomwatch)",
            "DIR" },
          { NULL } };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (OwHierarchy) hierarchy = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (OwManager) manager = NULL;
  g_autoptr (GDBusConnection) connection = NULL;
  Daemon daemon = { 0 };
  g_autoptr (OwConfig) overrides = ow_config_new ();
  OwManagerSettings settings = { 0 };
  guint owner_id;

  use_plain_malloc (argv);
  read_time_zone_once ();
  setlocale (LC_ALL, "");
  context = g_option_context_new ("— turn cgroup OOM notifications into D-Bus signals");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("oomwatchd: %s\n", error->message);
      return 2;
    }
  if (version)
    {
      g_print ("oomwatchd %s\n", OOMWATCH_VERSION);
      return 0;
    }
  if (client_watch_limit < -1 || total_watch_limit < -1)
    {
      g_printerr ("oomwatchd: watch limits must not be negative\n");
      return 2;
    }
  if (verbose)
    g_log_set_debug_enabled (TRUE);
  prctl (PR_SET_NAME, "oomwatchd"); /* not "exe", after use_plain_malloc()'s exec */

  hierarchy = ow_hierarchy_new_from_system (&error);
  if (hierarchy == NULL)
    {
      g_printerr ("oomwatchd: %s\n", error->message);
      return 1;
    }
  if (ow_hierarchy_get_version (hierarchy) == 0)
    g_warning ("No memory cgroup controller is mounted: Watch() will answer NotSupported");
  else
    g_message ("Memory controller on cgroup v%u at %s", ow_hierarchy_get_version (hierarchy),
               ow_hierarchy_get_mount_point (hierarchy));

  overrides->client_watch_limit = client_watch_limit;
  overrides->total_watch_limit = total_watch_limit;
  overrides->kernel_log = no_kernel_log ? 0 : -1;
  settings.config_path = config_path ?: DEFAULT_CONFIG;
  settings.kernel_log_path = kernel_log ?: "/dev/kmsg";
  settings.overrides = overrides;
  settings.fd_watch_limit = raise_fd_limit ();
  settings.runtime_dir = runtime_dir ?: g_getenv ("RUNTIME_DIRECTORY"); /* continuity: systemd's */

  loop = g_main_loop_new (NULL, FALSE);
  manager = ow_manager_new (g_steal_pointer (&hierarchy), &settings, &error);
  if (manager == NULL)
    {
      g_printerr ("oomwatchd: %s\n", error->message);
      return 1;
    }
  daemon.loop = loop;
  daemon.manager = manager;

  add_signal (SIGHUP, on_reload_signal, &daemon);
  add_signal (SIGINT, on_quit_signal, &daemon);
  add_signal (SIGTERM, on_quit_signal, &daemon);

  /* Our own connection, not GDBus's shared one: its socket is read through a filter that
   * drops over-size messages unparsed (ow-bus-stream.h). */
  connection = ow_bus_connect (G_BUS_TYPE_SYSTEM, &error);
  if (connection == NULL)
    {
      g_printerr ("oomwatchd: cannot connect to the system bus: %s\n", error->message);
      return 1;
    }
  if (!export_manager (&daemon, connection))
    {
      ow_manager_unexport (manager);
      return 1;
    }
  owner_id = g_bus_own_name_on_connection (connection, OOMWATCH_BUS_NAME,
                                           G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT
                                               | (replace ? G_BUS_NAME_OWNER_FLAGS_REPLACE : 0),
                                           on_name_acquired, on_name_lost, &daemon, NULL);
  g_main_loop_run (loop);

  g_bus_unown_name (owner_id);
  ow_manager_unexport (manager);
  ow_bus_flush_sync (connection); /* the name's release, the last signal */
  return daemon.exit_status;
}
