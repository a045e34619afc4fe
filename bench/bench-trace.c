/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What happens between the eventfd wake-up and the signal leaving for the bus: a few OOMs with
 * strace on the daemon and on the relay, then the system calls of the last incident, from the
 * read of the eventfd to the sendmsg of the signal. strace slows every call down, so the
 * times only order the steps; the CPU per OOM (bench_cost) is the undisturbed figure. */
#include "bench.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

typedef struct
{
  char *tid;
  gint64 at_us; /* of the day */
  char *call;
} Line;

static void
line_free (gpointer data)
{
  Line *line = data;

  g_free (line->tid);
  g_free (line->call);
  g_free (line);
}

/* "TID HH:MM:SS.uuuuuu call…" (strace pads the TID) */
static Line *
parse_line (const char *text)
{
  char tid[32];
  guint h, m, s, us;
  int call = 0;
  Line *line;

  if (sscanf (text, "%31s %u:%u:%u.%u %n", tid, &h, &m, &s, &us, &call) != 5 || call == 0)
    return NULL;
  line = g_new0 (Line, 1);
  line->tid = g_strdup (tid);
  line->at_us = ((h * 60 + m) * 60 + s) * G_USEC_PER_SEC + us;
  line->call = g_strdup (text + call);
  return line;
}

static gboolean
is_eventfd_read (const Line *line)
{
  return g_str_has_prefix (line->call, "read(")
         && strstr (line->call, ", \"\\1\\0\\0\\0\\0\\0\\0\\0\", 8) = 8") != NULL;
}

/* The sendmsg of the signal: the relay's Oom, or the daemon's OomEvent of kind "oom". */
static gboolean
is_signal_sent (const Line *line, const char *member)
{
  return g_str_has_prefix (line->call, "sendmsg(") && strstr (line->call, member) != NULL
         && (strcmp (member, "OomEvent") != 0 || strstr (line->call, "\\3\\0\\0\\0oom\\0") != NULL);
}

static void
print_incident (const char *who, const char *pid, const char *path, const char *member)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GPtrArray) parsed = g_ptr_array_new_with_free_func (line_free);
  gssize first = -1, last = -1;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return;
  lines = g_strsplit (text, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      Line *line = parse_line (lines[i]);

      if (line != NULL)
        g_ptr_array_add (parsed, line);
    }
  /* The last signal sent, and the main thread's eventfd read nearest before it. */
  for (gssize i = (gssize)parsed->len - 1; i >= 0 && first < 0; i--)
    {
      Line *line = g_ptr_array_index (parsed, i);

      if (last < 0 && is_signal_sent (line, member))
        last = i;
      else if (last >= 0 && strcmp (line->tid, pid) == 0 && is_eventfd_read (line))
        first = i;
    }
  if (first < 0 || last < first)
    {
      g_print ("%s: no complete wake-up -> signal in the trace\n", who);
      return;
    }
  g_print ("%s: %zd system calls from the eventfd read to the signal's sendmsg (under strace):\n",
           who, last - first + 1);
  for (gssize i = first; i <= last; i++)
    {
      Line *line = g_ptr_array_index (parsed, i);
      Line *start = g_ptr_array_index (parsed, first);

      g_print ("  %+6" G_GINT64_FORMAT " us %-6s %.110s\n", line->at_us - start->at_us,
               strcmp (line->tid, pid) == 0 ? "main" : "thread", line->call);
    }
}

static GSubprocess *
strace (Bench *bench, const char *pid, const char *path)
{
  const char *argv[] = { "strace", "-f", "-tt", "-T", "-s", "400", "-o", path, "-p", pid, NULL };
  GSubprocess *process = ow_test_env_spawn (bench->env, G_SUBPROCESS_FLAGS_STDERR_SILENCE, argv);

  return process;
}

void
bench_trace (Bench *bench, guint rounds, const char *outdir)
{
  g_autofree char *daemon_path = g_build_filename (outdir, "trace-oomwatchd.txt", NULL);
  g_autofree char *relay_path = g_build_filename (outdir, "trace-relay.txt", NULL);
  const char *relay_pid = g_subprocess_get_identifier (bench->relay);
  g_autoptr (GSubprocess) on_daemon = NULL;
  g_autoptr (GSubprocess) on_relay = NULL;
  g_autofree char *strace_path = g_find_program_in_path ("strace");

  if (strace_path == NULL)
    {
      g_print ("trace: strace is not installed; no breakdown\n");
      return;
    }
  on_daemon = strace (bench, bench->env->daemon_pid, daemon_path);
  on_relay = strace (bench, relay_pid, relay_path);
  ow_test_env_iterate (1000); /* attached */
  for (guint i = 0; i < rounds; i++)
    {
      double b, c;

      bench_one_oom (bench, &b, &c);
    }
  g_subprocess_send_signal (on_daemon, SIGINT);
  g_subprocess_send_signal (on_relay, SIGINT);
  ow_test_env_wait_process (on_daemon);
  ow_test_env_wait_process (on_relay);
  g_print ("\n== from the eventfd wake-up to the signal on the bus socket (strace; %s, %s)\n",
           daemon_path, relay_path);
  print_incident ("oomwatchd", bench->env->daemon_pid, daemon_path, "OomEvent");
  print_incident ("bare relay", relay_pid, relay_path, "Oom\\0");
  g_ptr_array_set_size (bench->env->signals, 0);
}
