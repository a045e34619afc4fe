/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's container identity: believed only from root-owned path components
 * (ow-container.c), and the names from the kubelet's log directories (ow-container-names.c):
 * entry names only, nothing opened, re-listed at most once a second. */
#include "ow-container.h"
#include "oomwatch-names.h"

#include <glib/gstdio.h>
#include <unistd.h>

#define ID "4f797c539e6c745de61a93ca3ff892358ecbcaccd8414d5db545c38428142970"
#define ID2 "9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d"
#define UID "3f1bd5a2-6c0e-4b1e-9d3a-0c1e5f6a7b8c"
#define UID_ "3f1bd5a2_6c0e_4b1e_9d3a_0c1e5f6a7b8c"
#define NOBODY 65534

static void
make_dirs (const char *root, const char *relative)
{
  g_autofree char *path = g_build_filename (root, relative, NULL);

  g_assert_cmpint (g_mkdir_with_parents (path, 0755), ==, 0);
}

static void
remove_tree (const char *path)
{
  const char *argv[] = { "rm", "-rf", path, NULL };

  g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
}

/* A root-owned tree laid out as each driver lays out a container names it; the same tree with
 * a component handed to a user (as delegation does) names nothing. */
static void
test_trust (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *root = g_dir_make_tmp ("oomwatch-container-XXXXXX", &error);
  g_autoptr (OwHierarchy) hierarchy = NULL;
  const char *systemd = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
                        ".slice/cri-containerd-" ID ".scope";
  const char *cgroupfs = "/kubepods/burstable/pod" UID "/" ID;
  const char *docker = "/system.slice/docker-" ID2 ".scope";
  const char *delegated = "/user.slice/user-65534.slice/kubepods/burstable/pod" UID "/" ID;

  if (geteuid () != 0)
    {
      g_test_skip ("needs root to own the tree and hand parts of it to a user");
      return;
    }
  g_assert_no_error (error);
  hierarchy = ow_hierarchy_new_for_tests (2, root, &error);
  g_assert_no_error (error);
  for (const char *const *p = (const char *const[]){ systemd, cgroupfs, docker, NULL }; *p; p++)
    {
      g_autoptr (OomwatchContainerInfo) info = NULL;

      make_dirs (root, *p);
      info = ow_container_identify (hierarchy, NULL, *p);

      g_test_message ("%s", *p);
      g_assert_nonnull (info);
      g_assert_nonnull (info->container_id);
    }
  {
    g_autofree char *pod
        = g_build_filename (root, "/user.slice/user-65534.slice/kubepods/burstable/pod" UID, NULL);
    g_autofree char *container = g_build_filename (pod, ID, NULL);
    g_autoptr (OomwatchContainerInfo) before = NULL;
    g_autoptr (OomwatchContainerInfo) pod_only = NULL;
    g_autoptr (OomwatchContainerInfo) after = NULL;

    make_dirs (root, delegated);
    before = ow_container_identify (hierarchy, NULL, delegated);
    g_assert_nonnull (before); /* root's own tree: believed */
    /* The container's cgroup handed over: the user could have named it so. */
    g_assert_cmpint (chown (container, NOBODY, NOBODY), ==, 0);
    after = ow_container_identify (hierarchy, NULL, delegated);
    g_assert_null (after);
    /* Only the pod's: the container below claims nothing either. */
    g_assert_cmpint (chown (container, 0, 0), ==, 0);
    g_assert_cmpint (chown (pod, NOBODY, NOBODY), ==, 0);
    pod_only = ow_container_identify (hierarchy, NULL, delegated);
    g_assert_null (pod_only);
  }
  /* A path that is not there cannot be checked: nothing believed. */
  g_assert_null (ow_container_identify (hierarchy, NULL, "/docker/" ID));
  remove_tree (root);
}

static void
make_link (const char *dir, const char *name, const char *target)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_assert_cmpint (symlink (target, path), ==, 0);
}

static void
test_names (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *root = g_dir_make_tmp ("oomwatch-names-XXXXXX", &error);
  g_autofree char *pods = g_build_filename (root, "pods", NULL);
  g_autofree char *containers = g_build_filename (root, "containers", NULL);
  g_autoptr (OwContainerNames) names = ow_container_names_new (pods, containers);
  g_autoptr (OomwatchContainerInfo) info
      = oomwatch_container_info_new ("/kubepods/burstable/pod" UID "/" ID);
  g_autoptr (OomwatchContainerInfo) pod = oomwatch_container_info_new ("/kubepods/pod" UID);
  g_autoptr (OomwatchContainerInfo) other = oomwatch_container_info_new ("/docker/" ID2);

  g_assert_no_error (error);
  /* Nothing there yet: one listing, then none for a second however often asked. */
  ow_container_names_fill (names, info, TRUE);
  ow_container_names_fill (names, info, TRUE);
  g_assert_null (info->container_name);
  g_assert_cmpuint (ow_container_names_reads (names), ==, 2); /* both directories, once */
  g_assert_true (ow_container_names_missing (info));

  make_dirs (pods, "shop_web-0_" UID "/web");
  make_dirs (containers, ".");
  /* The kubelet's links point into /var/log/pods; these point anywhere: never followed. */
  make_link (containers, "web-0_shop_web-" ID ".log", "/proc/self/mem");
  /* Hostile or foreign entries name nothing. */
  make_link (containers, "web-0_shop_evil_x-" ID2 ".log", "/etc/shadow");
  make_link (containers, "Web-0_shop_web-" ID2 ".log", "/etc/shadow");
  make_link (containers, "web-0_shop_web-" ID2 ".txt", "/etc/shadow");
  make_link (pods, "kube_bad_" UID "x", "/etc");
  ow_container_names_fill (names, info, FALSE); /* no reading without READ */
  g_assert_null (info->container_name);
  ow_container_names_fill (names, info, TRUE); /* within the second: still not read */
  g_assert_null (info->container_name);
  g_usleep (G_USEC_PER_SEC + 10000);
  ow_container_names_fill (names, info, TRUE);
  g_assert_cmpstr (info->container_name, ==, "web");
  g_assert_cmpstr (info->pod_name, ==, "web-0");
  g_assert_cmpstr (info->pod_namespace, ==, "shop");
  g_assert_false (ow_container_names_missing (info));
  ow_container_names_fill (names, pod, TRUE);
  g_assert_cmpstr (pod->pod_name, ==, "web-0");
  g_assert_cmpstr (pod->pod_namespace, ==, "shop");
  ow_container_names_fill (names, other, TRUE);
  g_assert_null (other->container_name);
  g_assert_cmpuint (ow_container_names_reads (names), ==, 4);
  remove_tree (root);
}

/* Removed watches' identities are kept for later kills, at most OW_CONTAINER_GONE_MAX. */
static void
test_gone (void)
{
  g_autoptr (OwContainerNames) names = ow_container_names_new ("", "");
  g_autoptr (OomwatchContainerInfo) first = NULL;
  g_autoptr (OomwatchContainerInfo) last = NULL;
  g_autoptr (OomwatchContainerInfo) again = NULL;

  for (guint i = 0; i <= OW_CONTAINER_GONE_MAX; i++)
    {
      g_autofree char *cgroup = g_strdup_printf ("/docker/%u/docker/" ID, i);

      ow_container_names_remember (names, cgroup, oomwatch_container_info_new (cgroup));
    }
  ow_container_names_remember (names, "/x", NULL);
  first = ow_container_names_recall (names, "/docker/0/docker/" ID);
  g_assert_null (first); /* the oldest made room */
  last = ow_container_names_recall (names, "/docker/1024/docker/" ID);
  g_assert_nonnull (last);
  g_assert_cmpstr (last->container_id, ==, ID);
  g_assert_cmpstr (last->runtime, ==, OOMWATCH_RUNTIME_DOCKER);
  again = ow_container_names_recall (names, "/docker/1024/docker/" ID);
  g_assert_nonnull (again);
  g_assert_null (ow_container_names_recall (names, "/x"));
  g_assert_cmpuint (ow_container_names_reads (names), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/container/trust", test_trust);
  g_test_add_func ("/container/names", test_names);
  g_test_add_func ("/container/gone", test_gone);
  return g_test_run ();
}
