/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomwatch-notify's notifier: OomEvent signals in, desktop notifications out. A burst of kills
 * updates one notification in place; what was shown is remembered by the daemon's seq. */
#pragma once

#include "notify-actions.h"
#include "notify-app.h"
#include "notify-settings.h"
#include "oomwatch-generated.h"
#include "oomwatch-notify-pressure.h"

G_BEGIN_DECLS

typedef struct
{
  GMainLoop *loop;
  OomwatchManager *manager;
  GDBusConnection *session;
  GStrv prefixes; /* canonical cgroups whose subtree is ours */
  GStrv kinds;
  gboolean watch;
  guint32 uid;
  gint64 coalesce_usec;
  NotifyPressure *pressure; /* --pressure: NULL when off */
  NotifySettings *settings;
  NotifyActions *actions;

  /* The notification being updated, and what it shows. */
  guint32 shown_id;
  gint64 shown_at;
  guint burst;
  GQueue lines;        /* newest first, markup-escaped */
  GString *details;    /* every kill of the burst, with its cgroup, for "Show details" */
  GHashTable *seen;    /* "pid:N" and "cgroup:PATH" already in this burst: one kill is told once */
  GPtrArray *unnamed;  /* cgroups of this burst's kills without a name */
  NotifyApp *subject;  /* what every kill of the burst so far stopped; NULL: several */
  char *first_summary; /* the summary while the burst holds one kill */
  gboolean in_flight;  /* a Notify call awaits its id */
  gboolean dirty;      /* something came in meanwhile */
  int status;

  /* What was shown already, by the daemon's seq */
  gint64 missed_window_usec; /* 0: do not catch up */
  char *state_path;
  char *epoch; /* of the daemon's seq numbers */
  guint64 last_seq;
} Notifier;

guint notifier_watch_prefixes (Notifier *self);
void notifier_catch_up (Notifier *self);
void notifier_load_state (Notifier *self);
void notifier_on_oom_event (OomwatchManager *manager, const char *cgroup, const char *kind,
                            guint64 count, GVariant *details, gpointer user_data);
void notifier_on_name_owner (GObject *object, GParamSpec *pspec, gpointer user_data);

G_END_DECLS
