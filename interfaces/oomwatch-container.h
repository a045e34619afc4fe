/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a cgroup path says about a container and its Kubernetes pod: the container's id and
 * runtime (systemd-driver scopes such as cri-containerd-<ID>.scope, cgroupfs-driver paths such
 * as /kubepods/burstable/pod<UID>/<ID> or /docker/<ID>) and the pod's UID and QoS class,
 * wherever they sit in the path (kind, k3d and docker-in-docker put a prefix before them).
 * Pure string work on input that may be hostile; whether the path may be believed (who owns
 * its components) is the daemon's check, and the pod and container names come from the
 * kubelet's log directories (daemon/ow-container-names.h). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define OOMWATCH_CONTAINER_ID_LENGTH 64

typedef struct
{
  char *container_id;  /* 64 lowercase hex; NULL: none */
  const char *runtime; /* OOMWATCH_RUNTIME_*; NULL: not told by the path */
  char *pod_uid;       /* as Kubernetes prints it (dashes); NULL: none */
  const char *pod_qos; /* OOMWATCH_POD_QOS_*; NULL with pod_uid NULL */
  gsize pod_end;       /* length of the path up to the pod's component; 0: none */
  gsize container_end; /* length of the path up to the container's component; 0: none */
  char *pod_namespace; /* labels from the kubelet's log directories; NULL: not known */
  char *pod_name;
  char *container_name;
} OomwatchContainerInfo;

/* NULL when CGROUP names neither a pod nor a container. */
OomwatchContainerInfo *oomwatch_container_info_new (const char *cgroup);
OomwatchContainerInfo *oomwatch_container_info_copy (const OomwatchContainerInfo *info);
void oomwatch_container_info_free (OomwatchContainerInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OomwatchContainerInfo, oomwatch_container_info_free)

void oomwatch_container_info_add_details (const OomwatchContainerInfo *info,
                                          GVariantBuilder *details);

/* A pod UID as the kubelet writes it: a UUID (8-4-4-4-12 lowercase hex) or, for static pods,
 * 32 lowercase hex. */
gboolean oomwatch_pod_uid_is_valid (const char *uid, gssize length);
gboolean oomwatch_container_id_is_valid (const char *id, gssize length);

G_END_DECLS
