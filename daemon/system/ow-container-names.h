/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pod and container names from the kubelet's log directories, the convention log shippers
 * rely on: /var/log/pods/<namespace>_<pod>_<uid>/ and
 * /var/log/containers/<pod>_<namespace>_<container>-<id>.log. Only the directories' entry
 * names are read (no entry is opened, so no link is followed); what they say is used as labels
 * and nothing else. Read lazily: a directory is listed again only for an identity it does not
 * know, at most once a second, and at most OW_CONTAINER_NAMES_MAX entries are kept. */
#pragma once

#include "oomwatch-container.h"

G_BEGIN_DECLS

#define OW_DEFAULT_POD_LOG_DIRECTORY "/var/log/pods"
#define OW_DEFAULT_CONTAINER_LOG_DIRECTORY "/var/log/containers"
#define OW_CONTAINER_NAMES_MAX 65536

typedef struct _OwContainerNames OwContainerNames;

/* NULL directory: the default; "": that source of names is off. */
OwContainerNames *ow_container_names_new (const char *pod_dir, const char *container_dir);
void ow_container_names_free (OwContainerNames *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwContainerNames, ow_container_names_free)

/* Whether INFO still lacks a name the directories could give. */
gboolean ow_container_names_missing (const OomwatchContainerInfo *info);
/* Adds what is known to INFO; with READ, a miss lists the directories again (rate-limited).
 * SELF may be NULL. */
void ow_container_names_fill (OwContainerNames *self, OomwatchContainerInfo *info, gboolean read);
/* The identity of a watched cgroup that was removed, kept a while (OW_CONTAINER_GONE_USEC, at
 * most OW_CONTAINER_GONE_MAX) for the kills told on its ancestors after its removal. */
#define OW_CONTAINER_GONE_USEC ((gint64)5 * 60 * G_USEC_PER_SEC)
#define OW_CONTAINER_GONE_MAX 1024
void ow_container_names_remember (OwContainerNames *self, const char *cgroup,
                                  OomwatchContainerInfo *info);
OomwatchContainerInfo *ow_container_names_recall (OwContainerNames *self, const char *cgroup);

/* Test seam: how many times a directory was listed. */
guint ow_container_names_reads (OwContainerNames *self);

G_END_DECLS
