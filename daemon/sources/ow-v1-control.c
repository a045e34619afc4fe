/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-v1-control.h"
#include "ow-keyed-file.h"
#include "oomwatch-error.h"

#include <errno.h>
#include <unistd.h>

static gboolean
parse (const char *text, OwV1Control *state)
{
  guint64 kill_disabled, under_oom;

  if (!ow_keyed_file_lookup (text, "oom_kill_disable", &kill_disabled)
      || !ow_keyed_file_lookup (text, "under_oom", &under_oom))
    return FALSE;
  state->kill_disabled = kill_disabled != 0;
  state->under_oom = under_oom != 0;
  if (!ow_keyed_file_lookup (text, "oom_kill", &state->oom_kill))
    state->oom_kill = 0;
  return TRUE;
}

OwV1ReadResult
ow_v1_control_read (int fd, const char *cgroup, OwV1Control *state, GError **error)
{
  char buf[512];
  ssize_t len;

  len = fd < 0 ? -1 : pread (fd, buf, sizeof buf - 1, 0);
  if (len < 0)
    {
      if (errno == ENODEV)
        return OW_V1_READ_REMOVED;
      oomwatch_set_error_errno (error, errno, "Cannot read memory.oom_control of '%s'", cgroup);
      return OW_V1_READ_FAILED;
    }
  buf[len] = '\0';
  if (!parse (buf, state))
    {
      g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED,
                   "Unexpected contents in memory.oom_control of '%s'", cgroup);
      return OW_V1_READ_FAILED;
    }
  return OW_V1_READ_OK;
}
