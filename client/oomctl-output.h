/* SPDX-License-Identifier: GPL-2.0-or-later */
/* How oomctl writes, as systemctl and journalctl do: --json=short|pretty|off, --no-pager,
 * --no-legend, -q, colour only on a terminal (NO_COLOR, SYSTEMD_COLORS). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  OOMCTL_JSON_OFF,
  OOMCTL_JSON_SHORT,
  OOMCTL_JSON_PRETTY,
} OomctlJson;

typedef struct
{
  OomctlJson json;
  gboolean no_pager;
  gboolean no_legend;
  gboolean quiet;
  int colour; /* -1: not decided yet */
} OomctlOutput;

extern OomctlOutput oomctl_output;

/* The options every command takes. */
const GOptionEntry *oomctl_output_entries (void);
gboolean oomctl_output_parse_json (const char *value, OomctlJson *json, GError **error);

static inline gboolean
oomctl_output_json (void)
{
  return oomctl_output.json != OOMCTL_JSON_OFF;
}

/* SYSTEMD_COLORS first, then NO_COLOR, then whether stdout is a terminal (not TERM=dumb). */
gboolean oomctl_output_want_colour (const char *systemd_colors, const char *no_color,
                                    gboolean tty, const char *term);
gboolean oomctl_output_colour (void);

/* One line of output (a JSON object or a human line) on stdout; KIND, when given, picks the
 * colour of a human line on a terminal: kills red, other OOMs yellow. */
void oomctl_output_line (const char *line, const char *kind);
void oomctl_output_legend (const char *line);
char *oomctl_json_pretty (const char *json);

/* Informational messages on stderr, silenced by -q. */
void oomctl_info (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* Output longer than a screen goes through $SYSTEMD_PAGER, $PAGER or less, as systemctl does. */
void oomctl_pager_open (void);

G_END_DECLS
