/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomctl: the command-line client of oomwatchd. A table of sub-commands. */
#include "oomctl-commands.h"
#include "oomctl-common.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

static const OomctlCommand commands[] = {
  { "watch", oomctl_watch, "Watch cgroups and print their OOM events" },
  { "unwatch", oomctl_unwatch, "Drop a persistent watch until the next reload (root)" },
  { "list", oomctl_list, "List the watched cgroups" },
  { "monitor", oomctl_monitor, "Print every OOM signal of the daemon (root)" },
  { "status", oomctl_status, "Show the daemon's version, hierarchy and watches" },
  { "history", oomctl_history, "Print the signals sent recently (what a client missed)" },
  { "metrics", oomctl_metrics, "Print the OOM counters for Prometheus" },
};

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: oomctl COMMAND [OPTION…]\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun 'oomctl COMMAND --help' for a command's options.\n");
}

int
main (int argc, char **argv)
{
  g_autofree char *prgname = NULL;

  setlocale (LC_ALL, "");
  if (argc < 2)
    {
      print_usage (stderr);
      return OOMCTL_EXIT_USAGE;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
      || strcmp (argv[1], "help") == 0)
    {
      print_usage (stdout);
      return OOMCTL_EXIT_OK;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      g_print ("oomctl %s\n", OOMWATCH_VERSION);
      return OOMCTL_EXIT_OK;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      {
        prgname = g_strdup_printf ("oomctl %s", commands[i].name);
        g_set_prgname (prgname);
        return commands[i].run (argc - 1, argv + 1);
      }
  g_printerr ("oomctl: unknown command '%s'\n", argv[1]);
  print_usage (stderr);
  return OOMCTL_EXIT_USAGE;
}
