/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-bus-header.h"

#include <string.h>

#define FIELD_SENDER 7

static guint32
read_u32 (const guint8 *p, gboolean little)
{
  guint32 value;

  memcpy (&value, p, 4);
  return little ? GUINT32_FROM_LE (value) : GUINT32_FROM_BE (value);
}

/* DATA holds at least OW_BUS_HEADER_FIXED bytes. */
void
ow_bus_header_read_fixed (const guint8 *data, OwBusHeader *header)
{
  gboolean little = data[0] == 'l';

  memset (header, 0, sizeof *header);
  header->valid = (little || data[0] == 'B') && data[3] == 1;
  if (!header->valid)
    return;
  header->type = data[1];
  header->flags = data[2];
  header->body_len = read_u32 (data + 4, little);
  header->serial = read_u32 (data + 8, little);
  header->fields_len = read_u32 (data + 12, little);
  header->size = OW_BUS_HEADER_FIXED + (((guint64)header->fields_len + 7) & ~(guint64)7)
                 + header->body_len;
}

/* Finds the SENDER field in DATA (the fixed header and LEN - 16 bytes of fields). Unknown
 * value types end the search: their size cannot be known without a full parser. */
void
ow_bus_header_read_fields (const guint8 *data, gsize len, OwBusHeader *header)
{
  gboolean little = data[0] == 'l';
  gsize at = OW_BUS_HEADER_FIXED;

  g_clear_pointer (&header->sender, g_free);
  while (TRUE)
    {
      guint8 code;
      char type;
      guint32 value_len;

      at = (at + 7) & ~(gsize)7;
      if (at + 4 > len || data[at + 1] != 1)
        return;
      code = data[at];
      type = (char)data[at + 2];
      at += 4; /* code, signature length, type, NUL */
      if (type == 'g')
        {
          if (at >= len)
            return;
          at += 2 + (gsize)data[at];
          continue;
        }
      at = (at + 3) & ~(gsize)3;
      if (at + 4 > len)
        return;
      value_len = read_u32 (data + at, little);
      at += 4;
      if (type == 'u')
        continue;
      if ((type != 's' && type != 'o') || value_len >= len - at)
        return;
      if (code == FIELD_SENDER)
        {
          header->sender = g_strndup ((const char *)data + at, value_len);
          return;
        }
      at += (gsize)value_len + 1;
    }
}

void
ow_bus_header_clear (OwBusHeader *header)
{
  g_clear_pointer (&header->sender, g_free);
}
