/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomctl: the command-line client of oomwatchd. A table of sub-commands. */
#include "oomctl-commands.h"
#include "oomctl-common.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

static const OomctlCommand commands[] = {
  { "watch", oomctl_watch, "Watch cgroups and print their OOM events", "[OPTION…] CGROUP…" },
  { "unwatch", oomctl_unwatch, "Drop a persistent watch until the next reload (root)",
    "[OPTION…] CGROUP" },
  { "list", oomctl_list, "List the watched cgroups", "[OPTION…]" },
  { "monitor", oomctl_monitor, "Print every OOM signal of the daemon (root)", "[OPTION…]" },
  { "status", oomctl_status, "Show the daemon's version, hierarchy and watches", "[OPTION…]" },
  { "history", oomctl_history, "Print the signals sent recently (what a client missed)",
    "[OPTION…] [CGROUP…]" },
  { "metrics", oomctl_metrics, "Print the OOM counters for Prometheus", "[OPTION…]" },
  { "dump", oomctl_dump, "Print systemd-oomd's state, as systemd's oomctl does (the default)",
    "[OPTION…]" },
};

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: %s COMMAND [OPTION…]\n\nCommands:\n", OOMCTL_NAME);
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun '%s COMMAND --help' for a command's options.\n", OOMCTL_NAME);
}

static int
run_command (const OomctlCommand *command, int argc, char **argv)
{
  g_autofree char *prgname = g_strdup_printf ("%s %s", OOMCTL_NAME, command->name);

  g_set_prgname (prgname);
  oomctl_set_command (command);
  return command->run (argc, argv);
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  /* As systemd's oomctl: no command (options only, e.g. --no-pager) means dump. */
  if (argc < 2 || (argv[1][0] == '-' && strcmp (argv[1], "--version") != 0
                   && strcmp (argv[1], "--help") != 0 && strcmp (argv[1], "-h") != 0))
    return run_command (&commands[G_N_ELEMENTS (commands) - 1], argc, argv);
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
      || strcmp (argv[1], "help") == 0)
    {
      print_usage (stdout);
      return OOMCTL_EXIT_OK;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      g_print ("%s (oomwatch) %s\n", OOMCTL_NAME, OOMWATCH_VERSION);
      return OOMCTL_EXIT_OK;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      return run_command (&commands[i], argc - 1, argv + 1);
  g_printerr ("%s: unknown command '%s'\n", OOMCTL_NAME, argv[1]);
  print_usage (stderr);
  return OOMCTL_EXIT_USAGE;
}
