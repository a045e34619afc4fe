/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "oomwatch-error.h"
#include "oomwatch-names.h"

#include <errno.h>
#include <gio/gio.h>

static const GDBusErrorEntry oomwatch_error_entries[] = {
  { OOMWATCH_ERROR_FAILED, OOMWATCH_ERROR_PREFIX "Failed" },
  { OOMWATCH_ERROR_INVALID_CGROUP, OOMWATCH_ERROR_PREFIX "InvalidCgroup" },
  { OOMWATCH_ERROR_NO_SUCH_CGROUP, OOMWATCH_ERROR_PREFIX "NoSuchCgroup" },
  { OOMWATCH_ERROR_NOT_WATCHED, OOMWATCH_ERROR_PREFIX "NotWatched" },
  { OOMWATCH_ERROR_LIMIT_EXCEEDED, OOMWATCH_ERROR_PREFIX "LimitExceeded" },
  { OOMWATCH_ERROR_NOT_SUPPORTED, OOMWATCH_ERROR_PREFIX "NotSupported" },
  { OOMWATCH_ERROR_PERMISSION_DENIED, OOMWATCH_ERROR_PREFIX "PermissionDenied" },
};

GQuark
oomwatch_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("oomwatch-error-quark", &quark, oomwatch_error_entries,
                                      G_N_ELEMENTS (oomwatch_error_entries));
  return (GQuark)quark;
}

OomwatchError
oomwatch_error_from_errno (int saved_errno)
{
  switch (saved_errno)
    {
    case EMFILE:
    case ENFILE:
    case ENOSPC:
    case ENOMEM:
      return OOMWATCH_ERROR_LIMIT_EXCEEDED;
    default:
      return OOMWATCH_ERROR_FAILED;
    }
}

void
oomwatch_set_error_errno (GError **error, int saved_errno, const char *format, ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, OOMWATCH_ERROR, oomwatch_error_from_errno (saved_errno), "%s: %s", text,
               g_strerror (saved_errno));
}
