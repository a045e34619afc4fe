/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-keyed-file.h"

#include <string.h>

/* Finds the line "KEY VALUE" in TEXT. Unknown keys are skipped: the kernel adds new ones.
 * A line whose value is not a plain decimal number does not match. */
gboolean
ow_keyed_file_lookup (const char *text, const char *key, guint64 *value)
{
  gsize key_len = strlen (key);
  const char *line = text;

  while (line != NULL && *line != '\0')
    {
      const char *end = strchr (line, '\n');
      gsize line_len = end != NULL ? (gsize)(end - line) : strlen (line);

      if (line_len > key_len + 1 && strncmp (line, key, key_len) == 0 && line[key_len] == ' ')
        {
          g_autofree char *number = g_strndup (line + key_len + 1, line_len - key_len - 1);

          return g_ascii_string_to_unsigned (number, 10, 0, G_MAXUINT64, value, NULL);
        }
      line = end != NULL ? end + 1 : NULL;
    }
  return FALSE;
}
