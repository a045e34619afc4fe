/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomwatch-notify's tests: a private session bus with a real notification server
 * implementation (python-dbusmock's notification_daemon template), and the Notify calls it got. */
#pragma once

#include "ow-test-env.h"

#define EVENT_TIMEOUT_MS 15000

typedef struct
{
  GSubprocess *bus;
  GSubprocess *mock;
  GDBusConnection *connection;
  char *address;
} OwNotifySession;

/* A Notify call the mock server received */
typedef struct
{
  guint32 replaces_id;
  char *icon;
  char *summary;
  char *body;
  guint8 urgency;
  char *desktop_entry;
  char *category; /* NULL: none */
  GStrv actions;  /* key, label, key, label… */
} OwNotification;

int ow_notify_check (void);
char *ow_notify_find_python (void);
void ow_notify_session_start (OwNotifySession *session);
void ow_notify_session_stop (OwNotifySession *session);
GArray *ow_notify_received (OwNotifySession *session);
guint ow_notify_summary_count (const OwNotification *n);
GArray *ow_notify_wait (OwNotifySession *session, guint at_least, guint counting);
GArray *ow_notify_settled (OwNotifySession *session, guint at_least);
void ow_notify_write_desktop_file (const char *data_dir, const char *id, const char *name);
void ow_notify_remove_desktop_file (const char *data_dir, const char *id);
