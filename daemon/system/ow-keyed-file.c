/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-keyed-file.h"

#include <string.h>

/* The whole of [P, END) as a decimal number: FALSE when empty, with anything but digits, or
 * above G_MAXUINT64 (g_ascii_string_to_unsigned's rules, without its copy and checks). */
static gboolean
parse_decimal (const char *p, const char *end, guint64 *value)
{
  guint64 n = 0;

  if (p == end)
    return FALSE;
  for (; p < end; p++)
    {
      guint digit = (guint)(guchar)*p - '0';

      if (digit > 9 || n > (G_MAXUINT64 - digit) / 10)
        return FALSE;
      n = n * 10 + digit;
    }
  *value = n;
  return TRUE;
}

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
        return parse_decimal (line + key_len + 1, line + line_len, value);
      line = end != NULL ? end + 1 : NULL;
    }
  return FALSE;
}
