/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Record: "PRIO,SEQ,TS,FLAGS[,…];TEXT\n" then optional " KEY=VALUE\n" continuation lines.
 * The kernel escapes unprintable bytes in TEXT as \xNN. Names in these records are chosen by
 * any user (a process can call itself anything, including "a,pid=1) x"), so fields are taken
 * from the right where the format allows, and a name is never trusted to be short or clean. */
#include "ow-kmsg-parser.h"

#include <string.h>

#define TASK_COMM_MAX 15 /* TASK_COMM_LEN - 1 */

void
ow_kmsg_record_clear (OwKmsgRecord *record)
{
  g_clear_pointer (&record->comm, g_free);
  g_clear_pointer (&record->task_memcg, g_free);
  g_clear_pointer (&record->oom_memcg, g_free);
  memset (record, 0, sizeof *record);
}

static int
hex_value (char c)
{
  return g_ascii_isxdigit (c) ? g_ascii_xdigit_value (c) : -1;
}

/* \xNN → byte. Returns the text as UTF-8: unescaped when that is valid UTF-8 without control
 * characters, else as the kernel wrote it (which is plain ASCII). */
char *
ow_kmsg_unescape (const char *text, gsize len)
{
  g_autoptr (GString) out = g_string_sized_new (len);
  gboolean clean = TRUE;

  for (gsize i = 0; i < len; i++)
    {
      if (text[i] == '\\' && i + 3 < len && text[i + 1] == 'x' && hex_value (text[i + 2]) >= 0
          && hex_value (text[i + 3]) >= 0)
        {
          unsigned char byte
              = (unsigned char)(hex_value (text[i + 2]) * 16 + hex_value (text[i + 3]));

          if (byte < 0x20 || byte == 0x7f)
            clean = FALSE;
          g_string_append_c (out, (char)byte);
          i += 3;
        }
      else
        g_string_append_c (out, text[i]);
    }
  if (clean && g_utf8_validate_len (out->str, out->len, NULL))
    return g_string_free (g_steal_pointer (&out), FALSE);
  return g_utf8_make_valid (text, len);
}

static gsize
unescaped_length (const char *text, gsize len)
{
  gsize n = 0;

  for (gsize i = 0; i < len; i++, n++)
    if (text[i] == '\\' && i + 3 < len && text[i + 1] == 'x')
      i += 3;
  return n;
}

static gboolean
parse_u32 (const char *text, gsize len, guint32 *value)
{
  g_autofree char *copy = g_strndup (text, len);
  guint64 parsed;

  if (!g_ascii_string_to_unsigned (copy, 10, 0, G_MAXUINT32, &parsed, NULL))
    return FALSE;
  *value = (guint32)parsed;
  return TRUE;
}

/* Last occurrence of NEEDLE in [TEXT, TEXT+LEN) */
static const char *
find_last (const char *text, gsize len, const char *needle)
{
  gsize n = strlen (needle);

  for (gsize i = len >= n ? len - n + 1 : 0; i-- > 0;)
    if (memcmp (text + i, needle, n) == 0)
      return text + i;
  return NULL;
}

static const char *
find_first (const char *text, gsize len, const char *needle)
{
  return g_strstr_len (text, (gssize)len, needle);
}

static gboolean
parse_oom_kill (const char *text, gsize len, OwKmsgRecord *record)
{
  const char *end = text + len;
  const char *uid = find_last (text, len, ",uid=");
  const char *pid = uid != NULL ? find_last (text, uid - text, ",pid=") : NULL;
  const char *task_memcg, *oom_memcg, *task = NULL;

  if (pid == NULL || !parse_u32 (uid + 5, end - uid - 5, &record->uid)
      || !parse_u32 (pid + 5, uid - pid - 5, &record->pid))
    return FALSE;
  record->has_uid = TRUE;

  task_memcg = find_first (text, pid - text, ",task_memcg=");
  if (task_memcg == NULL)
    return FALSE;
  /* The task name ends at ",pid="; where it starts is ambiguous when a cgroup or the name
   * contains ",task=". Take the leftmost start that leaves a name short enough to be one. */
  for (const char *p = find_first (task_memcg, pid - task_memcg, ",task="); p != NULL;
       p = find_first (p + 1, pid - p - 1, ",task="))
    if (unescaped_length (p + 6, pid - p - 6) <= TASK_COMM_MAX)
      {
        task = p;
        break;
      }
  if (task == NULL)
    return FALSE;
  record->comm = ow_kmsg_unescape (task + 6, pid - task - 6);
  oom_memcg = find_first (text, task_memcg - text, ",oom_memcg=");
  /* A cpuset or cgroup name holding a field name could move the victim into another cgroup:
   * when a field name appears twice, the record names the process but no cgroup. */
  if (task_memcg != find_last (text, task - text, ",task_memcg=")
      || (oom_memcg != NULL && oom_memcg != find_last (text, task_memcg - text, ",oom_memcg=")))
    {
      record->ambiguous = TRUE;
      record->kind = OW_KMSG_OOM_KILL;
      return TRUE;
    }
  record->task_memcg = ow_kmsg_unescape (task_memcg + 12, task - task_memcg - 12);
  if (oom_memcg != NULL)
    record->oom_memcg = ow_kmsg_unescape (oom_memcg + 11, task_memcg - oom_memcg - 11);
  else
    record->global = find_first (text, task_memcg - text, "global_oom") != NULL;
  record->kind = OW_KMSG_OOM_KILL;
  return TRUE;
}

/* " NAME:<digits>kB" anywhere in [TEXT, END): the kernel's own text after the name. */
static gboolean
parse_kib (const char *text, const char *end, const char *name, guint64 *bytes)
{
  const char *at = find_first (text, end - text, name);
  const char *digits, *stop;
  guint64 kib = 0;

  if (at == NULL)
    return FALSE;
  digits = stop = at + strlen (name);
  while (stop < end && g_ascii_isdigit (*stop) && kib <= G_MAXUINT64 / 1024 / 10)
    kib = kib * 10 + (guint64)(*stop++ - '0');
  if (stop == digits || end - stop < 2 || memcmp (stop, "kB", 2) != 0)
    return FALSE;
  *bytes = kib * 1024;
  return TRUE;
}

static void
parse_memory (const char *text, const char *end, OwVictimMemory *memory)
{
  static const char *const names[OW_VICTIM_N_SIZES] = {
    [OW_VICTIM_TOTAL_VM] = " total-vm:",   [OW_VICTIM_ANON_RSS] = " anon-rss:",
    [OW_VICTIM_FILE_RSS] = " file-rss:",   [OW_VICTIM_SHMEM_RSS] = " shmem-rss:",
    [OW_VICTIM_PGTABLES] = " pgtables:",
  };
  const char *adj = find_first (text, end - text, " oom_score_adj:");

  for (guint i = 0; i < OW_VICTIM_N_SIZES; i++)
    if (parse_kib (text, end, names[i], &memory->bytes[i]))
      memory->present |= 1u << i;
  if (adj != NULL)
    {
      const char *digits = adj + strlen (" oom_score_adj:");
      const char *stop = digits;
      g_autofree char *copy = NULL;
      gint64 value = 0;

      if (stop < end && *stop == '-')
        stop++;
      while (stop < end && g_ascii_isdigit (*stop) && stop - digits < 8)
        stop++;
      copy = g_strndup (digits, stop - digits);
      memory->has_oom_score_adj = g_ascii_string_to_signed (copy, 10, -1000, 1000, &value, NULL);
      memory->oom_score_adj = (gint32)value;
    }
}

static gboolean
parse_killed_process (const char *text, gsize len, OwKmsgRecord *record)
{
  const char *end = text + len;
  const char *start = find_first (text, len, "Killed process ");
  const char *pid, *open, *close, *uid;

  if (start == NULL)
    return FALSE;
  pid = start + strlen ("Killed process ");
  open = find_first (pid, end - pid, " (");
  if (open == NULL || !parse_u32 (pid, open - pid, &record->pid))
    return FALSE;
  /* COMM may hold ") "; the kernel's own text after it starts with "total-vm:". */
  close = find_last (open, end - open, ") total-vm:");
  if (close == NULL)
    close = find_last (open, end - open, ")");
  if (close == NULL || close < open + 2)
    return FALSE;
  record->comm = ow_kmsg_unescape (open + 2, close - open - 2);
  parse_memory (close, end, &record->memory);

  uid = find_last (close, end - close, " UID:");
  if (uid != NULL)
    {
      const char *digits = uid + 5;
      const char *stop = digits;

      while (stop < end && g_ascii_isdigit (*stop))
        stop++;
      record->has_uid = parse_u32 (digits, stop - digits, &record->uid);
    }
  record->global = g_str_has_prefix (text, "Out of memory");
  record->kind = OW_KMSG_KILLED_PROCESS;
  return TRUE;
}

/* Parses one record as read() returned it. FALSE for malformed input; a well-formed record
 * about anything else is TRUE with kind OW_KMSG_OTHER. */
/* The header field at *P, up to its ',' before END: digits only, a number not above MAX. *P
 * moves past the ','. In place: every record of every OOM report comes here. */
static gboolean
header_number (const char **p, const char *end, guint64 max, guint64 *number)
{
  const char *c = *p;

  *number = 0;
  for (; c < end && *c != ','; c++)
    {
      guint digit = (guint)(*c - '0');

      if (*c < '0' || *c > '9' || *number > (max - digit) / 10)
        return FALSE;
      *number = *number * 10 + digit;
    }
  if (c == *p || c == end)
    return FALSE;
  *p = c + 1;
  return TRUE;
}

gboolean
ow_kmsg_parse (const char *data, gsize len, OwKmsgRecord *record)
{
  const char *semicolon = memchr (data, ';', len);
  const char *text, *newline, *field = data;
  guint64 prio;
  gsize text_len;

  memset (record, 0, sizeof *record);
  /* PRIO and SEQ, then at least TS and FLAGS */
  if (semicolon == NULL || !header_number (&field, semicolon, G_MAXUINT32, &prio)
      || !header_number (&field, semicolon, G_MAXUINT64, &record->seq)
      || memchr (field, ',', (gsize)(semicolon - field)) == NULL)
    return FALSE;
  /* Anyone may write to /dev/kmsg, but never with the kernel's facility (0): only the kernel
   * reports kills. */
  if ((prio >> 3) != 0)
    return TRUE;

  text = semicolon + 1;
  newline = memchr (text, '\n', data + len - text);
  text_len = newline != NULL ? (gsize)(newline - text) : (gsize)(data + len - text);

  if (text_len > 9 && memcmp (text, "oom-kill:", 9) == 0)
    {
      if (!parse_oom_kill (text, text_len, record))
        ow_kmsg_record_clear (record);
    }
  else if (find_first (text, text_len, "Killed process ") != NULL)
    {
      if (!parse_killed_process (text, text_len, record))
        ow_kmsg_record_clear (record);
    }
  return TRUE;
}
