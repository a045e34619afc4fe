/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the cgroup path → container / pod parser, over the paths each runtime and
 * both kubelet cgroup drivers make (cgroup v1 memory hierarchy and v2 alike: the paths below
 * the mount are the same), nested setups, and hostile input. */
#include "oomwatch-container.h"
#include "oomwatch-names.h"

#include <string.h>

#define ID "4f797c539e6c745de61a93ca3ff892358ecbcaccd8414d5db545c38428142970"
#define ID2 "9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d"
#define UID "3f1bd5a2-6c0e-4b1e-9d3a-0c1e5f6a7b8c"
#define UID_ "3f1bd5a2_6c0e_4b1e_9d3a_0c1e5f6a7b8c"
#define STATIC_UID "6a1b2c3d4e5f60718293a4b5c6d7e8f9"

typedef struct
{
  const char *cgroup;
  const char *id, *runtime, *uid, *qos;
} Case;

static void
check (const Case *c)
{
  g_autoptr (OomwatchContainerInfo) info = oomwatch_container_info_new (c->cgroup);
  g_autofree char *shown = g_strescape (c->cgroup, NULL);

  g_test_message ("%s", shown);
  if (c->id == NULL && c->uid == NULL)
    {
      g_assert_null (info);
      return;
    }
  g_assert_nonnull (info);
  g_assert_cmpstr (info->container_id, ==, c->id);
  g_assert_cmpstr (info->runtime, ==, c->runtime);
  g_assert_cmpstr (info->pod_uid, ==, c->uid);
  g_assert_cmpstr (info->pod_qos, ==, c->qos);
  /* The components the daemon checks end where the path names them. */
  if (info->container_id != NULL)
    g_assert_nonnull (g_strstr_len (c->cgroup, (gssize)info->container_end, info->container_id));
  if (info->pod_uid != NULL)
    g_assert_cmpuint (info->pod_end, >, 0);
}

#define KP_SD "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice"

static void
test_systemd_driver (void)
{
  const Case cases[] = {
    { KP_SD "/cri-containerd-" ID ".scope", ID, OOMWATCH_RUNTIME_CONTAINERD, UID,
      OOMWATCH_POD_QOS_BURSTABLE },
    { KP_SD "/crio-" ID ".scope", ID, OOMWATCH_RUNTIME_CRIO, UID, OOMWATCH_POD_QOS_BURSTABLE },
    { KP_SD "/docker-" ID ".scope", ID, OOMWATCH_RUNTIME_DOCKER, UID, OOMWATCH_POD_QOS_BURSTABLE },
    /* crun's payload sub-cgroup, a process's own sub-cgroups below the container */
    { KP_SD "/crio-" ID ".scope/container", ID, OOMWATCH_RUNTIME_CRIO, UID,
      OOMWATCH_POD_QOS_BURSTABLE },
    /* conmon is not the container */
    { KP_SD "/crio-conmon-" ID ".scope", NULL, NULL, UID, OOMWATCH_POD_QOS_BURSTABLE },
    { KP_SD, NULL, NULL, UID, OOMWATCH_POD_QOS_BURSTABLE },
    { "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
      ".slice/cri-containerd-" ID ".scope",
      ID, OOMWATCH_RUNTIME_CONTAINERD, UID, OOMWATCH_POD_QOS_BESTEFFORT },
    /* Guaranteed pods sit directly under kubepods.slice */
    { "/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" ID ".scope", ID,
      OOMWATCH_RUNTIME_CONTAINERD, UID, OOMWATCH_POD_QOS_GUARANTEED },
    /* Static pods: the UID is a 32-hex hash */
    { "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" STATIC_UID ".slice/crio-" ID
      ".scope",
      ID, OOMWATCH_RUNTIME_CRIO, STATIC_UID, OOMWATCH_POD_QOS_BURSTABLE },
    /* kind: --cgroup-root=/kubelet makes every slice start with kubelet- */
    { "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/"
      "kubelet-kubepods-burstable-pod" UID_ ".slice/cri-containerd-" ID ".scope",
      ID, OOMWATCH_RUNTIME_CONTAINERD, UID, OOMWATCH_POD_QOS_BURSTABLE },
    /* kind node in docker (v2, cgroupns off): the node's scope comes first */
    { "/system.slice/docker-" ID2 ".scope/kubelet.slice/kubelet-kubepods.slice/"
      "kubelet-kubepods-pod" UID_ ".slice/cri-containerd-" ID ".scope",
      ID, OOMWATCH_RUNTIME_CONTAINERD, UID, OOMWATCH_POD_QOS_GUARANTEED },
    /* the pod of a kind node: the node's container is not the pod's */
    { "/system.slice/docker-" ID2 ".scope/kubelet.slice/kubelet-kubepods.slice/"
      "kubelet-kubepods-pod" UID_ ".slice",
      NULL, NULL, UID, OOMWATCH_POD_QOS_GUARANTEED },
    /* Docker and podman without Kubernetes */
    { "/system.slice/docker-" ID ".scope", ID, OOMWATCH_RUNTIME_DOCKER, NULL, NULL },
    { "/machine.slice/libpod-" ID ".scope", ID, OOMWATCH_RUNTIME_PODMAN, NULL, NULL },
    { "/machine.slice/machine-libpod_pod_" ID2 ".slice/libpod-" ID ".scope", ID,
      OOMWATCH_RUNTIME_PODMAN, NULL, NULL },
    { "/machine.slice/libpod-conmon-" ID ".scope", NULL, NULL, NULL, NULL },
    /* Not kubepods */
    { "/system.slice/kubepods-pod" UID_ ".slice", NULL, NULL, NULL, NULL },
    { "/kubepods.slice/mykubepods-pod" UID_ ".slice", NULL, NULL, NULL, NULL },
    { "/kubepods.slice/kubepods-burstable.slice", NULL, NULL, NULL, NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    check (&cases[i]);
}

static void
test_cgroupfs_driver (void)
{
  const Case cases[] = {
    { "/kubepods/burstable/pod" UID "/" ID, ID, NULL, UID, OOMWATCH_POD_QOS_BURSTABLE },
    { "/kubepods/besteffort/pod" UID "/" ID, ID, NULL, UID, OOMWATCH_POD_QOS_BESTEFFORT },
    { "/kubepods/pod" UID "/" ID, ID, NULL, UID, OOMWATCH_POD_QOS_GUARANTEED },
    { "/kubepods/burstable/pod" UID, NULL, NULL, UID, OOMWATCH_POD_QOS_BURSTABLE },
    /* CRI-O names its cgroupfs container cgroups too */
    { "/kubepods/burstable/pod" UID "/crio-" ID, ID, OOMWATCH_RUNTIME_CRIO, UID,
      OOMWATCH_POD_QOS_BURSTABLE },
    { "/kubepods/burstable/pod" UID "/crio-conmon-" ID, NULL, NULL, UID,
      OOMWATCH_POD_QOS_BURSTABLE },
    /* k3d / kind with cgroupfs: a node prefix */
    { "/docker/" ID2 "/kubepods/burstable/pod" UID "/" ID, ID, NULL, UID,
      OOMWATCH_POD_QOS_BURSTABLE },
    { "/kubelet/kubepods/besteffort/pod" UID "/" ID, ID, NULL, UID, OOMWATCH_POD_QOS_BESTEFFORT },
    { "/docker/" ID, ID, OOMWATCH_RUNTIME_DOCKER, NULL, NULL },
    /* docker-in-docker: the innermost container */
    { "/docker/" ID2 "/docker/" ID, ID, OOMWATCH_RUNTIME_DOCKER, NULL, NULL },
    { "/libpod_parent/libpod-" ID, ID, OOMWATCH_RUNTIME_PODMAN, NULL, NULL },
    /* A bare id anywhere else names nothing */
    { "/default/" ID, NULL, NULL, NULL, NULL },
    { "/" ID, NULL, NULL, NULL, NULL },
    /* pod<UID> needs kubepods[/QOS] above it */
    { "/burstable/pod" UID "/" ID, NULL, NULL, NULL, NULL },
    { "/kubepods/other/pod" UID "/" ID, NULL, NULL, NULL, NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    check (&cases[i]);
}

static void
test_hostile (void)
{
  const Case cases[] = {
    /* ids of the wrong length or case, stray suffixes */
    { "/docker/" ID "0", NULL, NULL, NULL, NULL },
    { "/docker/4F797C539E6C745DE61A93CA3FF892358ECBCACCD8414D5DB545C38428142970", NULL, NULL, NULL,
      NULL },
    { "/system.slice/docker-" ID ".scope.scope", NULL, NULL, NULL, NULL },
    { "/system.slice/docker-" ID ".service", NULL, NULL, NULL, NULL },
    { "/system.slice/docker--" ID ".scope", NULL, NULL, NULL, NULL },
    { "/system.slice/docker-" ID ".slice", NULL, NULL, NULL, NULL },
    /* uids: dashes in the systemd form, wrong places, upper case, too short */
    { "/kubepods.slice/kubepods-pod" UID ".slice", NULL, NULL, NULL, NULL },
    { "/kubepods/pod3f1bd5a26c0e-4b1e-9d3a-0c1e5f6a7b8c0", NULL, NULL, NULL, NULL },
    { "/kubepods/pod3F1BD5A2-6C0E-4B1E-9D3A-0C1E5F6A7B8C", NULL, NULL, NULL, NULL },
    { "/kubepods/pod", NULL, NULL, NULL, NULL },
    { "/kubepods.slice/kubepods-pod.slice", NULL, NULL, NULL, NULL },
    { "/kubepods.slice/-pod" UID_ ".slice", NULL, NULL, NULL, NULL },
    { "", NULL, NULL, NULL, NULL },
    { "/", NULL, NULL, NULL, NULL },
    { "////", NULL, NULL, NULL, NULL },
    { "/kubepods/burstable/pod" UID "//" ID "/", ID, NULL, UID, OOMWATCH_POD_QOS_BURSTABLE },
    { "/kubepods/burstable/pod" UID "/\xff" ID, NULL, NULL, UID, OOMWATCH_POD_QOS_BURSTABLE },
  };
  g_autofree char *huge = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    check (&cases[i]);
  g_assert_null (oomwatch_container_info_new (NULL));
  {
    g_autofree char *pad = g_strnfill (5000, 'x');

    huge = g_strdup_printf ("/docker/" ID "/%s", pad);
    g_assert_null (oomwatch_container_info_new (huge));
  }
}

static void
test_details (void)
{
  g_autoptr (OomwatchContainerInfo) info
      = oomwatch_container_info_new (KP_SD "/cri-containerd-" ID ".scope");
  g_autoptr (OomwatchContainerInfo) copy = NULL;
  g_auto (GVariantBuilder) dict = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr (GVariant) details = NULL;
  const char *value;

  info->pod_namespace = g_strdup ("shop");
  info->pod_name = g_strdup ("web-0");
  info->container_name = g_strdup ("web");
  copy = oomwatch_container_info_copy (info);
  oomwatch_container_info_add_details (copy, &dict);
  oomwatch_container_info_add_details (NULL, &dict);
  details = g_variant_ref_sink (g_variant_builder_end (&dict));
  g_assert_cmpuint (g_variant_n_children (details), ==, 7);
  g_assert_true (g_variant_lookup (details, OOMWATCH_KEY_CONTAINER_ID, "&s", &value));
  g_assert_cmpstr (value, ==, ID);
  g_assert_true (g_variant_lookup (details, OOMWATCH_KEY_CONTAINER_RUNTIME, "&s", &value));
  g_assert_cmpstr (value, ==, "containerd");
  g_assert_true (g_variant_lookup (details, OOMWATCH_KEY_POD_UID, "&s", &value));
  g_assert_cmpstr (value, ==, UID);
  g_assert_true (g_variant_lookup (details, OOMWATCH_KEY_POD_QOS, "&s", &value));
  g_assert_cmpstr (value, ==, "burstable");
  g_assert_true (g_variant_lookup (details, OOMWATCH_KEY_POD_NAMESPACE, "&s", &value));
  g_assert_cmpstr (value, ==, "shop");
  g_assert_true (g_variant_lookup (details, OOMWATCH_KEY_POD_NAME, "&s", &value));
  g_assert_cmpstr (value, ==, "web-0");
  g_assert_true (g_variant_lookup (details, OOMWATCH_KEY_CONTAINER_NAME, "&s", &value));
  g_assert_cmpstr (value, ==, "web");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/container-id/systemd-driver", test_systemd_driver);
  g_test_add_func ("/container-id/cgroupfs-driver", test_cgroupfs_driver);
  g_test_add_func ("/container-id/hostile", test_hostile);
  g_test_add_func ("/container-id/details", test_details);
  return g_test_run ();
}
