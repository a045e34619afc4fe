/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-counter-store-private.h"
#include "ow-fd.h"
#include "ow-state-file.h"
#include "oomwatch-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_HEADER "oomwatch-counters 1\n"
#define LEGACY_GROUP "Counters"
#define LEGACY_SUFFIX ".counters"
/* The log is written anew once it holds this many records more than twice its entries. */
#define COMPACT_SLACK 1024

static const char *const counter_keys[OW_N_COUNTERS] = { "Oom", "OomKill", "OomGroupKill" };

/* The log: one line per record, the last one of a cgroup wins.
 *   S <inode> <seen>×3 <reported>×3 <cgroup>   the entry as a save writes it ('-': not seen)
 *   F <cgroup>                                 forgotten
 * The cgroup comes last, with '\\' and newlines escaped (its name may hold any byte but '/').
 * A line without its newline (a crash in the middle of a write) is ignored. */

/* Runs without a backslash or a newline are copied whole: every Watch() and start-up's
 * rewrite format a name. */
static void
format_cgroup (GString *line, const char *cgroup)
{
  const char *c = cgroup;

  while (TRUE)
    {
      size_t run = strcspn (c, "\\\n");

      g_string_append_len (line, c, (gssize)run);
      c += run;
      if (*c == '\0')
        break;
      g_string_append (line, *c == '\\' ? "\\\\" : "\\n");
      c++;
    }
  g_string_append_c (line, '\n');
}

void
ow_counter_store_format_forget (GString *line, const char *cgroup)
{
  g_string_append (line, "F ");
  format_cgroup (line, cgroup);
}

/* " " and NUMBER in decimal: printf's machinery costs a thousand instructions a number, and
 * start-up writes seven for every saved cgroup. */
static void
format_number (GString *line, guint64 number)
{
  char digits[24];
  char *start = digits + sizeof digits;

  do
    *--start = (char)('0' + number % 10);
  while ((number /= 10) > 0);
  *--start = ' ';
  g_string_append_len (line, start, digits + sizeof digits - start);
}

void
ow_counter_store_format (GString *line, const OwCounterEntry *entry)
{
  g_string_append_c (line, 'S');
  format_number (line, entry->ino);
  for (guint i = 0; i < OW_N_COUNTERS; i++)
    if (entry->seen.has[i])
      format_number (line, ow_counter_entry_saved_seen (entry, i));
    else
      g_string_append (line, " -");
  for (guint i = 0; i < OW_N_COUNTERS; i++)
    format_number (line, entry->reported[i]);
  g_string_append_c (line, ' ');
  format_cgroup (line, entry->cgroup);
}

/* TEXT's cgroup, unescaped; NULL when it is not a cgroup's name. */
static char *
parse_cgroup (const char *text)
{
  g_autoptr (GString) cgroup = NULL;

  if (text[0] != '/')
    return NULL;
  if (strchr (text, '\\') == NULL)
    return g_strdup (text); /* nearly every name: nothing escaped */
  cgroup = g_string_sized_new (strlen (text));
  for (const char *c = text; *c != '\0'; c++)
    if (*c != '\\')
      g_string_append_c (cgroup, *c);
    else if (c[1] == '\\' || c[1] == 'n')
      g_string_append_c (cgroup, *++c == 'n' ? '\n' : '\\');
    else
      return NULL;
  return g_string_free (g_steal_pointer (&cgroup), FALSE);
}

/* The next space-separated field of *TEXT as a number; with HAS, '-' is no number. */
static gboolean
parse_field (char **text, guint64 *number, gboolean *has)
{
  char *field = *text, *end = strchr (field, ' ');

  if (end == NULL)
    return FALSE;
  *end = '\0';
  *text = end + 1;
  if (has != NULL)
    {
      *has = strcmp (field, "-") != 0;
      if (!*has)
        return TRUE;
    }
  /* Digits by hand: start-up reads seven numbers for every saved cgroup. */
  *number = 0;
  for (const char *c = field; *c != '\0'; c++)
    {
      guint digit = (guint)(*c - '0');

      if (*c < '0' || *c > '9' || *number > (G_MAXUINT64 - digit) / 10)
        return FALSE;
      *number = *number * 10 + digit;
    }
  return field[0] != '\0';
}

static OwCounterEntry *
parse_set (char *text)
{
  g_autofree char *cgroup = NULL;
  OwCounterEntry entry = { 0 };

  if (!parse_field (&text, &entry.ino, NULL))
    return NULL;
  for (guint i = 0; i < OW_N_COUNTERS; i++)
    if (!parse_field (&text, &entry.seen.value[i], &entry.seen.has[i]))
      return NULL;
  for (guint i = 0; i < OW_N_COUNTERS; i++)
    if (!parse_field (&text, &entry.reported[i], NULL))
      return NULL;
  if ((cgroup = parse_cgroup (text)) == NULL)
    return NULL;
  entry.cgroup = g_ref_string_new_intern (cgroup);
  entry.pending = entry.saved = TRUE;
  return g_memdup2 (&entry, sizeof entry);
}

/* Applies one line (without its newline); FALSE when it is not a record. */
static gboolean
apply_line (OwCounterStore *self, char *line)
{
  OwCounterEntry *entry;
  g_autofree char *cgroup = NULL;

  if (g_str_has_prefix (line, "S ") && (entry = parse_set (line + 2)) != NULL)
    {
      g_hash_table_replace (self->entries, entry->cgroup, entry);
      return TRUE;
    }
  if (g_str_has_prefix (line, "F ") && (cgroup = parse_cgroup (line + 2)) != NULL)
    {
      g_hash_table_remove (self->entries, cgroup);
      return TRUE;
    }
  return FALSE;
}

/* Whether the log was read whole: every line a record, none torn. */
static gboolean
load_log (OwCounterStore *self)
{
  g_autofree char *text = NULL;
  gsize length;
  char *line, *end;
  guint ignored = 0;

  if (!g_file_get_contents (self->log_path, &text, &length, NULL))
    return FALSE;
  if (!g_str_has_prefix (text, LOG_HEADER) || strlen (text) != length)
    {
      g_warning ("Ignoring %s: not a counter log of this version", self->log_path);
      return FALSE;
    }
  self->records = 0;
  for (line = text + strlen (LOG_HEADER); (end = strchr (line, '\n')) != NULL; line = end + 1)
    {
      *end = '\0';
      if (!apply_line (self, line))
        ignored++;
      self->records++;
    }
  if (ignored > 0 || *line != '\0')
    g_warning ("%s: ignored %u records that were not whole", self->log_path,
               ignored + (*line != '\0'));
  return ignored == 0 && *line == '\0';
}

/* A file of the one-file-per-cgroup form of earlier versions (GKeyFile syntax). */
static OwCounterEntry *
load_legacy (const char *path)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autofree char *cgroup = NULL;
  OwCounterEntry *entry;

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, NULL)
      || (cgroup = g_key_file_get_string (file, LEGACY_GROUP, "Cgroup", NULL)) == NULL
      || cgroup[0] != '/')
    return NULL;
  entry = g_new0 (OwCounterEntry, 1);
  entry->cgroup = g_ref_string_new_intern (cgroup);
  entry->ino = g_key_file_get_uint64 (file, LEGACY_GROUP, "Inode", NULL);
  for (guint i = 0; i < OW_N_COUNTERS; i++)
    {
      g_autofree char *seen_key = g_strconcat ("Seen", counter_keys[i], NULL);
      g_autofree char *reported_key = g_strconcat ("Reported", counter_keys[i], NULL);

      entry->seen.has[i] = g_key_file_has_key (file, LEGACY_GROUP, seen_key, NULL);
      entry->seen.value[i] = g_key_file_get_uint64 (file, LEGACY_GROUP, seen_key, NULL);
      entry->reported[i] = g_key_file_get_uint64 (file, LEGACY_GROUP, reported_key, NULL);
    }
  entry->pending = TRUE;
  return entry;
}

/* Reads the files of an earlier version (the log, written next, takes them over) and removes
 * them, with any temporary file an interrupted compaction left; FALSE if there were any. */
static gboolean
take_over_other_files (OwCounterStore *self)
{
  g_autoptr (GDir) listing = g_dir_open (self->dir, 0, NULL);
  const char *name;
  gboolean none = TRUE;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (self->dir, name, NULL);
      OwCounterEntry *entry;

      if (strcmp (name, OW_COUNTER_LOG_NAME) == 0)
        continue;
      none = FALSE;
      if (g_str_has_suffix (name, LEGACY_SUFFIX))
        {
          if ((entry = load_legacy (path)) == NULL)
            g_warning ("Ignoring the unreadable counter file %s", path);
          else if (g_hash_table_contains (self->entries, entry->cgroup))
            ow_counter_entry_free (entry);
          else
            g_hash_table_replace (self->entries, entry->cgroup, entry);
        }
      if (g_unlink (path) < 0 && errno != ENOENT)
        g_warning ("Cannot remove %s: %s", path, g_strerror (errno));
    }
  return none;
}

/* Writes the log anew with one record per entry; the entries are then all saved. */
gboolean
ow_counter_store_compact (OwCounterStore *self, GError **error)
{
  g_autoptr (GString) text = g_string_sized_new (64 * g_hash_table_size (self->entries) + 64);
  g_auto (OwFd) fd = -1;
  GHashTableIter iter;
  OwCounterEntry *entry;

  g_string_append (text, LOG_HEADER);
  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&entry))
    ow_counter_store_format (text, entry);
  fd = ow_state_file_replace_and_open (self->log_path, text->str, (gssize)text->len, 0600, error);
  if (fd < 0)
    return FALSE;
  ow_fd_close (self->log_fd);
  self->log_fd = ow_fd_steal (&fd);
  self->records = g_hash_table_size (self->entries);
  self->broken = FALSE;
  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&entry))
    entry->saved = TRUE;
  return TRUE;
}

/* Appends LINE to the log, or compacts it when it grew too long or a write broke it. */
gboolean
ow_counter_store_append (OwCounterStore *self, const GString *line, GError **error)
{
  ssize_t done;

  if (self->broken || self->log_fd < 0
      || self->records >= 2 * g_hash_table_size (self->entries) + COMPACT_SLACK)
    return ow_counter_store_compact (self, error);
  done = write (self->log_fd, line->str, line->len);
  if (done == (ssize_t)line->len)
    {
      self->records++;
      return TRUE;
    }
  self->broken = done > 0; /* a torn line: the next record would be joined to it */
  g_set_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED, "Cannot write %s: %s",
               self->log_path, done < 0 ? g_strerror (errno) : "short write");
  return FALSE;
}

gboolean
ow_counter_store_load (OwCounterStore *self)
{
  gboolean whole = load_log (self);

  return take_over_other_files (self) && whole;
}

/* The log as it is, open for appending: root's alone (0600), and not due for compaction. */
gboolean
ow_counter_store_reopen (OwCounterStore *self)
{
  g_auto (OwFd) fd = -1;
  struct stat st;

  if (self->records >= 2 * g_hash_table_size (self->entries) + COMPACT_SLACK)
    return FALSE;
  fd = open (self->log_path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 || fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || st.st_uid != geteuid ()
      || (st.st_mode & 07777) != 0600)
    return FALSE;
  ow_fd_close (self->log_fd);
  self->log_fd = ow_fd_steal (&fd);
  self->broken = FALSE;
  return TRUE;
}
