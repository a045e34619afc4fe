/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the memory.oom_control / memory.events parser never crashes, and reads each value
 * as g_ascii_string_to_unsigned reads the line's rest when it starts with a digit (the parser's
 * rules before it had its own). */
#include "ow-keyed-file.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const unsigned char *data, size_t size);

static gboolean
reference (const char *text, const char *key, guint64 *value)
{
  gsize key_len = strlen (key);

  for (const char *line = text; line != NULL && *line != '\0';)
    {
      const char *end = strchr (line, '\n');
      gsize line_len = end != NULL ? (gsize)(end - line) : strlen (line);

      if (line_len > key_len + 1 && strncmp (line, key, key_len) == 0 && line[key_len] == ' ')
        {
          g_autofree char *number = g_strndup (line + key_len + 1, line_len - key_len - 1);

          /* GLib's skips a leading vertical tab, which is no decimal digit */
          return g_ascii_isdigit (number[0])
                 && g_ascii_string_to_unsigned (number, 10, 0, G_MAXUINT64, value, NULL);
        }
      line = end != NULL ? end + 1 : NULL;
    }
  return FALSE;
}

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  const char *keys[] = { "oom", "oom_kill", "oom_group_kill", "under_oom", "oom_kill_disable", "" };

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      guint64 value = 1, expected = 1;
      gboolean found = ow_keyed_file_lookup (text, keys[i], &value);

      if (found != reference (text, keys[i], &expected) || value != expected)
        abort ();
    }
  return 0;
}
