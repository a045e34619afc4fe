/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per-uid rate limit of log lines one user can cause (a cgroup made past a limit, one the kernel
 * will not let us register): a flood of them must not crowd out the OOM records, since journald
 * rate-limits the whole unit. Each uid has a small burst that refills slowly; what is dropped is
 * counted and said with that uid's next line. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _OwLogLimit OwLogLimit;

#define OW_LOG_LIMIT_BURST 5
#define OW_LOG_LIMIT_REFILL_USEC                                                                   \
  (G_GINT64_CONSTANT (60) * G_USEC_PER_SEC) /* one more line a minute */

OwLogLimit *ow_log_limit_new (void);
void ow_log_limit_free (OwLogLimit *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwLogLimit, ow_log_limit_free)

/* Whether UID may log a line at NOW (monotonic µs); when it may, *DROPPED is how many of its
 * lines were dropped since its last one. */
gboolean ow_log_limit_take (OwLogLimit *self, guint32 uid, gint64 now, guint *dropped);

/* Logs the line at LEVEL if UID may log now, with what was dropped before it. Root's lines
 * (uid 0) are never dropped. */
void ow_log_limit_log (OwLogLimit *self, guint32 uid, GLogLevelFlags level, const char *format, ...)
    G_GNUC_PRINTF (4, 5);

G_END_DECLS
