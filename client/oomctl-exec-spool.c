/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "oomctl-exec-spool.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#define EVENT_TYPE "(sst@a{sv})"

static char *
spool_path (const char *state_file)
{
  return g_strconcat (state_file, ".queue", NULL);
}

char *
oomctl_exec_spool_line (const char *epoch, const char *cgroup, const char *kind,
                        guint64 count, GVariant *details)
{
  g_autoptr (GVariant) event = g_variant_ref_sink (
      g_variant_new (EVENT_TYPE, cgroup, kind, count,
                     details != NULL ? details : g_variant_new ("a{sv}", NULL)));
  g_autofree char *text = g_variant_print (event, TRUE);

  return g_strdup_printf ("%s\t%s\n", epoch != NULL ? epoch : "-", text);
}

void
oomctl_exec_spool_save (const char *state_file, GPtrArray *lines)
{
  g_autofree char *path = spool_path (state_file);
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GError) error = NULL;

  if (lines == NULL || lines->len == 0)
    {
      if (g_unlink (path) < 0 && errno != ENOENT)
        g_printerr ("oomctl: cannot remove %s: %s\n", path, g_strerror (errno));
      return;
    }
  for (guint i = 0; i < lines->len; i++)
    g_string_append (text, g_ptr_array_index (lines, i));
  if (!g_file_set_contents_full (path, text->str, (gssize)text->len,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, &error))
    g_printerr ("oomctl: cannot keep the events not handled yet: %s\n", error->message);
}

void
oomctl_exec_spool_load (const char *state_file, OomctlSpoolFunc func, gpointer user_data)
{
  g_autofree char *path = spool_path (state_file);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return;
  lines = g_strsplit (text, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      char *tab = strchr (lines[i], '\t');
      g_autoptr (GVariant) event = NULL;
      g_autoptr (GVariant) details = NULL;
      const char *cgroup, *kind;
      guint64 count;

      if (tab == NULL)
        continue;
      *tab = '\0';
      event = g_variant_parse (G_VARIANT_TYPE ("(ssta{sv})"), tab + 1, NULL, NULL, NULL);
      if (event == NULL)
        {
          g_printerr ("oomctl: %s: line %" G_GSIZE_FORMAT " is not an event\n", path, i + 1);
          continue;
        }
      g_variant_get (event, "(&s&st@a{sv})", &cgroup, &kind, &count, &details);
      func (lines[i], cgroup, kind, count, details, user_data);
    }
}
