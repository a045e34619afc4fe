/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "oomctl-output.h"
#include "oomwatch-names.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ANSI_RED "\033[0;1;31m"
#define ANSI_YELLOW "\033[0;1;33m"
#define ANSI_UNDERLINE "\033[0;4m"
#define ANSI_NORMAL "\033[0m"

OomctlOutput oomctl_output = { .colour = -1 };
static GPid pager_pid;

gboolean
oomctl_output_parse_json (const char *value, OomctlJson *json, GError **error)
{
  static const char *const modes[] = { "off", "short", "pretty", NULL };

  if (value == NULL)
    {
      *json = OOMCTL_JSON_SHORT; /* a bare --json */
      return TRUE;
    }
  for (gsize i = 0; modes[i] != NULL; i++)
    if (strcmp (value, modes[i]) == 0)
      {
        *json = (OomctlJson) i;
        return TRUE;
      }
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "--json: '%s' is not one of short, pretty, off", value);
  return FALSE;
}

static gboolean
on_json (const char *name, const char *value, gpointer data, GError **error)
{
  return oomctl_output_parse_json (value, &oomctl_output.json, error);
}

const GOptionEntry *
oomctl_output_entries (void)
{
  static const GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_CALLBACK, (gpointer) on_json,
      "Print JSON: short (one object a line; a bare --json or -j), pretty, or off", "MODE" },
    { "no-pager", 0, 0, G_OPTION_ARG_NONE, &oomctl_output.no_pager,
      "Do not pipe output into a pager", NULL },
    { "no-legend", 0, 0, G_OPTION_ARG_NONE, &oomctl_output.no_legend,
      "Do not print the column headers and the footer", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &oomctl_output.quiet,
      "Do not print informational messages", NULL },
    { NULL }
  };

  return entries;
}

static gboolean
parse_bool (const char *text, gboolean *value)
{
  static const char *const yes[] = { "1", "yes", "y", "true", "t", "on", "16", "256", "24bit",
                                     NULL };
  static const char *const no[] = { "0", "no", "n", "false", "f", "off", NULL };

  if (g_strv_contains (yes, text))
    *value = TRUE;
  else if (g_strv_contains (no, text))
    *value = FALSE;
  else
    return FALSE;
  return TRUE;
}

gboolean
oomctl_output_want_colour (const char *systemd_colors, const char *no_color, gboolean tty,
                           const char *term)
{
  gboolean forced;

  if (systemd_colors != NULL && parse_bool (systemd_colors, &forced))
    return forced;
  if (no_color != NULL && no_color[0] != '\0')
    return FALSE;
  return tty && g_strcmp0 (term, "dumb") != 0;
}

gboolean
oomctl_output_colour (void)
{
  if (oomctl_output.colour < 0)
    oomctl_output.colour
        = oomctl_output_want_colour (g_getenv ("SYSTEMD_COLORS"), g_getenv ("NO_COLOR"),
                                     isatty (STDOUT_FILENO) || pager_pid != 0, g_getenv ("TERM"));
  return oomctl_output.colour;
}

static void
newline (GString *out, int depth)
{
  g_string_append_c (out, '\n');
  for (int i = 0; i < depth; i++)
    g_string_append (out, "  ");
}

/* Re-indents the compact JSON oomctl writes (no blanks outside strings). */
char *
oomctl_json_pretty (const char *json)
{
  GString *out = g_string_new (NULL);
  gboolean in_string = FALSE;
  int depth = 0;

  for (const char *p = json; *p != '\0'; p++)
    {
      if (in_string)
        {
          g_string_append_c (out, *p);
          if (*p == '\\' && p[1] != '\0')
            g_string_append_c (out, *++p);
          else if (*p == '"')
            in_string = FALSE;
          continue;
        }
      switch (*p)
        {
        case '"':
          in_string = TRUE;
          g_string_append_c (out, *p);
          break;
        case '{':
        case '[':
          g_string_append_c (out, *p);
          if (p[1] == '}' || p[1] == ']')
            g_string_append_c (out, *++p);
          else
            newline (out, ++depth);
          break;
        case '}':
        case ']':
          newline (out, --depth);
          g_string_append_c (out, *p);
          break;
        case ',':
          g_string_append_c (out, ',');
          newline (out, depth);
          break;
        case ':':
          g_string_append (out, ": ");
          break;
        default:
          g_string_append_c (out, *p);
        }
    }
  return g_string_free (out, FALSE);
}

static const char *
kind_colour (const char *kind)
{
  static const char *const kills[] = { OOMWATCH_KIND_OOM_KILL, OOMWATCH_KIND_OOM_GROUP_KILL,
                                       OOMWATCH_KIND_OOMD_KILL, NULL };

  if (kind == NULL)
    return NULL;
  if (g_strv_contains (kills, kind))
    return ANSI_RED;
  if (strcmp (kind, OOMWATCH_KIND_OOM) == 0)
    return ANSI_YELLOW;
  return NULL;
}

void
oomctl_output_line (const char *line, const char *kind)
{
  const char *colour = oomctl_output_json () ? NULL : kind_colour (kind);

  if (oomctl_output.json == OOMCTL_JSON_PRETTY)
    {
      g_autofree char *pretty = oomctl_json_pretty (line);

      g_print ("%s\n", pretty);
    }
  else if (colour != NULL && oomctl_output_colour ())
    g_print ("%s%s" ANSI_NORMAL "\n", colour, line);
  else
    g_print ("%s\n", line);
}

void
oomctl_output_legend (const char *line)
{
  if (oomctl_output.no_legend)
    return;
  if (oomctl_output_colour ())
    g_print (ANSI_UNDERLINE "%s" ANSI_NORMAL "\n", line);
  else
    g_print ("%s\n", line);
}

void
oomctl_info (const char *format, ...)
{
  g_autofree char *text = NULL;
  va_list args;

  if (oomctl_output.quiet)
    return;
  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("%s\n", text);
}

static void
pager_close (void)
{
  int status;

  fflush (stdout);
  fclose (stdout); /* the pager sees the end of its input */
  while (waitpid (pager_pid, &status, 0) < 0 && errno == EINTR)
    ;
}

void
oomctl_pager_open (void)
{
  const char *pager = g_getenv ("SYSTEMD_PAGER");
  g_auto (GStrv) argv = NULL;
  g_autoptr (GError) error = NULL;
  int input = -1;

  if (pager == NULL)
    pager = g_getenv ("PAGER");
  if (oomctl_output.no_pager || pager_pid != 0 || !isatty (STDOUT_FILENO)
      || (pager != NULL && (pager[0] == '\0' || strcmp (pager, "cat") == 0)))
    return;
  if (!g_shell_parse_argv (pager != NULL ? pager : "less", NULL, &argv, NULL))
    return;
  /* less: quit when the text fits (F), keep colours (R), chop long lines (S) as systemd does. */
  g_setenv ("LESS", "FRSXMK", FALSE);
  if (!g_spawn_async_with_pipes (NULL, argv, NULL,
                                 G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                 &pager_pid, &input, NULL, NULL, &error))
    {
      g_debug ("no pager: %s", error->message);
      return;
    }
  fflush (stdout);
  dup2 (input, STDOUT_FILENO);
  close (input);
  atexit (pager_close);
}
