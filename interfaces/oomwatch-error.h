/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The oomwatch GError domain; each code maps to a D-Bus error name. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  OOMWATCH_ERROR_FAILED,            /* org.oomwatch.OomWatch1.Error.Failed */
  OOMWATCH_ERROR_INVALID_CGROUP,    /* ….InvalidCgroup */
  OOMWATCH_ERROR_NO_SUCH_CGROUP,    /* ….NoSuchCgroup */
  OOMWATCH_ERROR_NOT_WATCHED,       /* ….NotWatched */
  OOMWATCH_ERROR_LIMIT_EXCEEDED,    /* ….LimitExceeded */
  OOMWATCH_ERROR_NOT_SUPPORTED,     /* ….NotSupported */
  OOMWATCH_ERROR_PERMISSION_DENIED, /* ….PermissionDenied: the kernel refused the daemon */
} OomwatchError;

#define OOMWATCH_ERROR (oomwatch_error_quark ())
GQuark oomwatch_error_quark (void);

/* Running out of fds or kernel resources is a limit the caller hit, not a failure. */
OomwatchError oomwatch_error_from_errno (int saved_errno);

/* Sets ERROR in the oomwatch domain from SAVED_ERRNO: the formatted text, ": ", strerror. */
void oomwatch_set_error_errno (GError **error, int saved_errno, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

G_END_DECLS
