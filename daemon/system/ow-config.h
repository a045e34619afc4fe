/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /etc/oomwatch/oomwatch.conf: limits, the kernel log, and persistent watches. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  int client_watch_limit; /* -1: not set */
  int total_watch_limit;  /* -1: not set; 0: what the fd limit allows */
  int kernel_log;         /* -1: not set; 0/1 */
  GStrv watches;          /* persistent, canonical order as written */
  GStrv recursive_watches;
  int history_size;   /* -1: not set */
  char *metrics_file; /* NULL: none */
  char *pod_log_directory;       /* NULL: the default; "": none */
  char *container_log_directory; /* NULL: the default; "": none */
  int metrics_retention;         /* seconds; -1: not set */
  gboolean read;      /* FALSE: no file, the defaults */
} OwConfig;

/* What the daemon runs with: the file's settings, the command line's on top, defaults. */
typedef struct
{
  guint client_watch_limit;
  guint total_watch_limit;
  gboolean kernel_log;
} OwSettings;

#define OW_DEFAULT_CLIENT_WATCH_LIMIT 256

OwConfig *ow_config_new (void);
OwConfig *ow_config_load (const char *path, GError **error);
void ow_config_free (OwConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwConfig, ow_config_free)

/* FD_WATCH_LIMIT: the watches RLIMIT_NOFILE leaves room for, a cap on any total. */
void ow_config_merge (const OwConfig *file, const OwConfig *overrides, guint fd_watch_limit,
                      OwSettings *settings);

G_END_DECLS
