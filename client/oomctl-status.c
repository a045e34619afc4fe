/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomctl status: the daemon's version, hierarchy, kernel log and number of watches. */
#include "oomctl-commands.h"
#include "oomctl-common.h"
#include "oomctl-format.h"
#include "oomctl-output.h"
#include "oomwatch-names.h"

/* Memory pressure costs the daemon one fd per level armed, on top of one per watch. */
static void
count_pressure (GVariant *watches, guint *armed_out, guint *fds_out)
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
  *armed_out = armed;
  *fds_out = fds;
}

/* One JSON object, keys sorted. */
static void
print_json (OomwatchManager *manager, GVariant *watches, guint armed, guint fds)
{
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  g_autoptr (GVariant) value = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  const char *mount = oomwatch_manager_get_mount_point (manager);

  g_variant_dict_insert (&dict, "version", "s", oomwatch_manager_get_version (manager) ?: "");
  g_variant_dict_insert (&dict, "hierarchy", "u", oomwatch_manager_get_hierarchy (manager));
  if (mount != NULL && mount[0] != '\0')
    g_variant_dict_insert (&dict, "mount", "s", mount);
  g_variant_dict_insert (&dict, "kernel-log", "b", oomwatch_manager_get_kernel_log (manager));
  g_variant_dict_insert (&dict, "watches", "u", (guint32) g_variant_n_children (watches));
  g_variant_dict_insert (&dict, "pressure-watches", "u", armed);
  g_variant_dict_insert (&dict, "pressure-fds", "u", fds);
  value = g_variant_ref_sink (g_variant_dict_end (&dict));
  oomctl_json_append_value (out, value);
  oomctl_output_line (out->str, NULL);
}

int
oomctl_status (int argc, char **argv)
{
  const GOptionEntry entries[] = { { NULL } };
  g_autoptr (OomwatchManager) manager = NULL;
  g_autoptr (GVariant) watches = NULL;
  g_autoptr (GError) error = NULL;
  guint hierarchy, armed, fds;
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

  count_pressure (watches, &armed, &fds);
  if (oomctl_output_json ())
    {
      print_json (manager, watches, armed, fds);
      return OOMCTL_EXIT_OK;
    }
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
  g_print ("pressure:  %u watches with memory pressure armed, %u fds (each counts as a watch)\n",
           armed, fds);
  return OOMCTL_EXIT_OK;
}
