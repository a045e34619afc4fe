/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomctl status: the daemon's version, hierarchy, kernel log and number of watches. */
#include "oomctl-commands.h"
#include "oomctl-common.h"
#include "oomwatch-names.h"

/* Memory pressure costs the daemon one fd per level armed, on top of one per watch. */
static void
print_pressure_costs (GVariant *watches)
{
  GVariantIter iter;
  GVariant *dict;
  guint armed = 0, fds = 0;

  g_variant_iter_init (&iter, watches);
  while (g_variant_iter_next (&iter, "(&s@a{sv})", NULL, &dict))
    {
      guint32 n = 0;

      if (g_variant_lookup (dict, OOMWATCH_KEY_PRESSURE_FDS, "u", &n))
        armed++;
      fds += n;
      g_variant_unref (dict);
    }
  g_print ("pressure:  %u watches with memory pressure armed, %u fds (each counts as a watch)\n",
           armed, fds);
}

int
oomctl_status (int argc, char **argv)
{
  const GOptionEntry entries[] = { { NULL } };
  g_autoptr (OomwatchManager) manager = NULL;
  g_autoptr (GVariant) watches = NULL;
  g_autoptr (GError) error = NULL;
  guint hierarchy;
  int status;

  status = oomctl_parse_no_arguments (&argc, &argv, entries, "Show the daemon's state.");
  if (status != OOMCTL_EXIT_OK)
    return status;
  manager = oomctl_manager_new (&error);
  /* ListWatches first: it starts the daemon if needed, and proves it answers. */
  if (manager == NULL
      || !oomwatch_manager_call_list_watches_sync (manager, G_DBUS_CALL_FLAGS_NONE, -1, &watches,
                                                   NULL, &error))
    return oomctl_fail ("cannot reach oomwatchd", error);

  hierarchy = oomwatch_manager_get_hierarchy (manager);
  g_print ("version:   %s\n", oomwatch_manager_get_version (manager) ?: "?");
  if (hierarchy == 0)
    g_print ("hierarchy: none (no memory cgroup controller mounted)\n");
  else
    g_print ("hierarchy: cgroup v%u\nmount:     %s\n", hierarchy,
             oomwatch_manager_get_mount_point (manager) ?: "?");
  g_print ("kernel log: %s\n", oomwatch_manager_get_kernel_log (manager)
                                   ? "read (oom-kill signals name the victim)"
                                   : "not read (oom-kill signals carry no victim names)");
  g_print ("watches:   %zu\n", g_variant_n_children (watches));
  print_pressure_costs (watches);
  return OOMCTL_EXIT_OK;
}
