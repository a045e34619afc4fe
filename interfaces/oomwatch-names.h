/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Every name that crosses a process boundary, defined once. */
#pragma once

#define OOMWATCH_BUS_NAME "org.oomwatch.OomWatch1"
#define OOMWATCH_OBJECT_PATH "/org/oomwatch/OomWatch1"
#define OOMWATCH_MANAGER_INTERFACE "org.oomwatch.OomWatch1.Manager"
#define OOMWATCH_ERROR_PREFIX "org.oomwatch.OomWatch1.Error."

/* OomEvent kinds */
#define OOMWATCH_KIND_OOM "oom"
#define OOMWATCH_KIND_OOM_KILL "oom-kill"
#define OOMWATCH_KIND_OOM_RECOVERED "oom-recovered"
#define OOMWATCH_KIND_OOM_GROUP_KILL "oom-group-kill"
#define OOMWATCH_KIND_OOMD_KILL "oomd-kill" /* systemd-oomd killed a cgroup */

/* WatchRemoved reasons */
#define OOMWATCH_REASON_CGROUP_REMOVED "cgroup-removed"

/* Keys of OomEvent details and ListWatches entries */
#define OOMWATCH_KEY_TIMESTAMP "timestamp" /* t: microseconds since the epoch, set once per event */
#define OOMWATCH_KEY_HIERARCHY "hierarchy"
#define OOMWATCH_KEY_TOTAL "total"
#define OOMWATCH_KEY_UNDER_OOM "under-oom"
#define OOMWATCH_KEY_RECHECKING "rechecking"
#define OOMWATCH_KEY_WATCHERS "watchers"
#define OOMWATCH_KEY_SINCE "since"
#define OOMWATCH_KEY_RECURSIVE "recursive"
#define OOMWATCH_KEY_PERSISTENT "persistent"
#define OOMWATCH_KEY_SKIPPED "skipped"
#define OOMWATCH_KEY_PID "pid"
#define OOMWATCH_KEY_COMM "comm"
#define OOMWATCH_KEY_UID "uid"
#define OOMWATCH_KEY_TASK_CGROUP "task-cgroup"
#define OOMWATCH_KEY_OOM_CGROUP "oom-cgroup"
/* Derived from cgroup paths (interfaces/oomwatch-unit.h); not victim identity */
#define OOMWATCH_KEY_UNIT "unit"
#define OOMWATCH_KEY_SLICE "slice"
#define OOMWATCH_KEY_USER_UNIT "user-unit"
#define OOMWATCH_KEY_APP_ID "app-id"
/* Derived from cgroup paths owned by root (interfaces/oomwatch-container.h) and, for the
 * names, from the kubelet's log directories; not victim identity */
#define OOMWATCH_KEY_CONTAINER_ID "container-id"
#define OOMWATCH_KEY_CONTAINER_RUNTIME "container-runtime"
#define OOMWATCH_KEY_CONTAINER_NAME "container-name"
#define OOMWATCH_KEY_POD_UID "pod-uid"
#define OOMWATCH_KEY_POD_QOS "pod-qos"
#define OOMWATCH_KEY_POD_NAMESPACE "pod-namespace"
#define OOMWATCH_KEY_POD_NAME "pod-name"
/* Values of container-runtime and pod-qos */
#define OOMWATCH_RUNTIME_DOCKER "docker"
#define OOMWATCH_RUNTIME_CONTAINERD "containerd"
#define OOMWATCH_RUNTIME_CRIO "cri-o"
#define OOMWATCH_RUNTIME_PODMAN "podman"
#define OOMWATCH_POD_QOS_GUARANTEED "guaranteed"
#define OOMWATCH_POD_QOS_BURSTABLE "burstable"
#define OOMWATCH_POD_QOS_BESTEFFORT "besteffort"
/* oomd-kill: systemd-oomd's reason, e.g. "memory-pressure" */
#define OOMWATCH_KEY_REASON "reason"

/* systemd-oomd on the system bus (systemd >= 252) */
#define OOMWATCH_OOMD_BUS_NAME "org.freedesktop.oom1"
#define OOMWATCH_OOMD_OBJECT_PATH "/org/freedesktop/oom1"
#define OOMWATCH_OOMD_INTERFACE "org.freedesktop.oom1.Manager"
#define OOMWATCH_OOMD_KILLED_SIGNAL "Killed"
#define OOMWATCH_OOMD_DUMP_METHOD "DumpByFileDescriptor" /* oomctl dump */

/* Continuity: the daemon-wide sequence number of every signal, and the mark of an
 * event that happened while the daemon was not running */
#define OOMWATCH_KEY_SEQ "seq"
#define OOMWATCH_KEY_WHILE_DOWN "while-down"

/* Memory pressure: Watch options, MemoryPressure levels and details, OomEvent kinds
 * sent only on request (cgroup v2), ListWatches keys. */
#define OOMWATCH_OPTION_PRESSURE "pressure"
#define OOMWATCH_OPTION_EVENTS "events"
#define OOMWATCH_PRESSURE_LOW "low"
#define OOMWATCH_PRESSURE_MEDIUM "medium"
#define OOMWATCH_PRESSURE_CRITICAL "critical"
#define OOMWATCH_KIND_HIGH "high"
#define OOMWATCH_KIND_MAX "max"
#define OOMWATCH_KIND_LOW "low"
#define OOMWATCH_KEY_LEVEL_VALUE "level-value"
#define OOMWATCH_KEY_SOME_AVG10 "some-avg10"
#define OOMWATCH_KEY_FULL_AVG10 "full-avg10"
#define OOMWATCH_KEY_PRESSURE "pressure"
#define OOMWATCH_KEY_PRESSURE_FDS "pressure-fds"
#define OOMWATCH_KEY_EVENTS "events"

/* oomwatch-notify: its session bus name (one per session), desktop entry, notification
 * actions, settings file keys, and where a build tree's translations are */
#define OOMWATCH_NOTIFY_BUS_NAME "org.oomwatch.Notify"
#define OOMWATCH_NOTIFY_DESKTOP_ID "oomwatch-notify"
#define OOMWATCH_NOTIFY_ACTION_DETAILS "details"
#define OOMWATCH_NOTIFY_ACTION_IGNORE "ignore"
#define OOMWATCH_NOTIFY_GROUP "Notify"
#define OOMWATCH_NOTIFY_IGNORED_APPS "IgnoredApps"
#define OOMWATCH_ENV_LOCALEDIR "OOMWATCH_LOCALEDIR"
/* Memory context: the victim's memory from the kernel log (bytes; oom-score-adj an int32),
 * identity keys like pid and comm; and its cgroup's memory read at the kill (bytes). */
#define OOMWATCH_KEY_TOTAL_VM "total-vm"
#define OOMWATCH_KEY_ANON_RSS "anon-rss"
#define OOMWATCH_KEY_FILE_RSS "file-rss"
#define OOMWATCH_KEY_SHMEM_RSS "shmem-rss"
#define OOMWATCH_KEY_PGTABLES "pgtables"
#define OOMWATCH_KEY_OOM_SCORE_ADJ "oom-score-adj"
#define OOMWATCH_KEY_LIMIT "limit"
#define OOMWATCH_KEY_USAGE "usage"
#define OOMWATCH_KEY_PEAK "peak"
#define OOMWATCH_KEY_SWAP_USAGE "swap-usage"

/* The keys that identify a victim or describe its process: only root and the victim's uid get
 * them. */
#define OOMWATCH_IDENTITY_KEYS                                                                   \
  OOMWATCH_KEY_PID, OOMWATCH_KEY_COMM, OOMWATCH_KEY_UID, "cmdline", OOMWATCH_KEY_TOTAL_VM,       \
      OOMWATCH_KEY_ANON_RSS, OOMWATCH_KEY_FILE_RSS, OOMWATCH_KEY_SHMEM_RSS, OOMWATCH_KEY_PGTABLES, \
      OOMWATCH_KEY_OOM_SCORE_ADJ

/* oomctl watch --exec: what the hook gets. Every details key also goes in the environment
 * as OOMWATCH_ + the key in upper case with '-' as '_'. */
#define OOMCTL_HOOK_ENV_PREFIX "OOMWATCH_"
#define OOMCTL_HOOK_ENV_CGROUP "OOMWATCH_CGROUP"
#define OOMCTL_HOOK_ENV_KIND "OOMWATCH_KIND"
#define OOMCTL_HOOK_ENV_COUNT "OOMWATCH_COUNT"
