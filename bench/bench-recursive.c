/* Recursive scale: Watch(root, {recursive}) of a tree of about 10,000 cgroups, then the time
 * from mkdir of a new cgroup in that tree until it is armed. "Armed" is what a client can
 * observe: ListWatches() lists it (the daemon lists a watch once its source is registered
 * with the kernel). Polling ListWatches costs time itself; its duration is printed as the
 * resolution of the figure. */
#include "bench.h"

#include <glib/gstdio.h>

static gboolean
listed (Bench *bench, const char *canonical, gint64 *call_us)
{
  gint64 start = g_get_monotonic_time ();
  gboolean found = ow_test_env_watched (bench->env, canonical);

  *call_us = g_get_monotonic_time () - start;
  return found;
}

void
bench_recursive (Bench *bench, guint tree, guint samples, GString *json)
{
  guint groups = 100, leaves = MAX (tree / groups, 1);
  g_autoptr (GArray) armed = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) polls = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GError) error = NULL;
  g_autofree char *root = ow_test_env_make_cgroup (bench->env, "rtree", NULL, FALSE);
  g_autofree char *root_dir = ow_test_env_cgroup_path (bench->env, "rtree");
  g_autofree char *canonical = NULL;
  gint64 start, watch_us;
  BenchStats a, p;

  for (guint g = 0; g < groups; g++)
    for (guint c = 0; c <= leaves; c++)
      {
        g_autofree char *dir = c == 0 ? g_strdup_printf ("%s/g%u", root_dir, g)
                                      : g_strdup_printf ("%s/g%u/c%u", root_dir, g, c);

        g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
      }
  start = g_get_monotonic_time ();
  canonical = ow_test_env_watch_recursive (bench->env, root, &error);
  watch_us = g_get_monotonic_time () - start;
  g_assert_no_error (error);

  for (guint s = 0; s < samples; s++)
    {
      g_autofree char *name = g_strdup_printf ("%s/g%u/new%u", root, s % groups, s);
      g_autofree char *dir = g_strdup_printf ("%s/g%u/new%u", root_dir, s % groups, s);
      gint64 deadline, call_us = 0;
      double took;

      start = g_get_monotonic_time ();
      g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
      deadline = start + 10 * G_USEC_PER_SEC;
      while (!listed (bench, name, &call_us) && g_get_monotonic_time () < deadline)
        ;
      took = (double) (g_get_monotonic_time () - start);
      g_array_append_val (armed, took);
      took = (double) call_us;
      g_array_append_val (polls, took);
    }
  a = bench_stats (armed);
  p = bench_stats (polls);
  g_print ("recursive: Watch() of a %u-cgroup tree: %.2f s; a new cgroup in it armed (listed by "
           "ListWatches) after p50 %.1f ms, p99 %.1f ms (%u mkdirs; one ListWatches call took "
           "p50 %.1f ms)\n",
           groups * (leaves + 1) + 1, watch_us / 1e6, a.p50 / 1e3, a.p99 / 1e3, samples,
           p.p50 / 1e3);
  g_string_append_printf (json,
                          ",\"recursive\":{\"tree\":%u,\"watch_s\":%.3f,\"mkdirs\":%u,"
                          "\"armed_ms\":{\"p50\":%.2f,\"p99\":%.2f,\"max\":%.2f},"
                          "\"list_watches_ms\":%.2f}",
                          groups * (leaves + 1) + 1, watch_us / 1e6, samples, a.p50 / 1e3,
                          a.p99 / 1e3, a.max / 1e3, p.p50 / 1e3);
}
