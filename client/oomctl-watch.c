/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The verbs that listen, oomctl watch and oomctl monitor: print signals as they arrive. When
 * oomwatchd goes away they wait for it, make their watches again, and print what they missed from History(): every
 * signal once, by its seq. */
#include "oomctl-commands.h"
#include "oomctl-common.h"
#include "oomctl-exec.h"
#include "oomctl-format.h"
#include "oomctl-history.h"
#include "oomctl-output.h"
#include "oomctl-paths.h"
#include "oomwatch-cgroup.h"
#include "oomwatch-error.h"
#include "oomwatch-names.h"

#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct
{
  GMainLoop *loop;
  gboolean json;
  GHashTable *cgroups; /* canonical paths printed; NULL: every cgroup (monitor) */
  gboolean recursive;  /* and everything below them */
  int count;           /* events to print before exiting; 0: no limit */
  int seen;
  int status;
  guint timer_id;
  OomwatchManager *manager;
  char **targets;       /* watch: the cgroups as given, to watch again after a restart */
  const char *pressure; /* watch --pressure LEVEL, or NULL */
  char **events;        /* watch --events KIND…, or NULL */
  gboolean catch_up;    /* print History() before live signals (--since, or a restart) */
  OomctlSince since;
  GHashTable *printed;  /* seqs printed lately: a copy (from History(), or told again) is dropped */
  char *epoch;          /* of the daemon's seq numbers, as History() last said */
  OomctlExec *exec;     /* --exec: OomEvents go to the hook instead of stdout */
} Listener;

/* How far below the newest seq printed the others are remembered: a signal told again after
 * a crash of the daemon is one of its last few. */
#define REMEMBERED_SEQS 4096

static void
remember (Listener *listener, guint64 seq)
{
  GHashTableIter iter;
  guint64 *old;

  g_hash_table_add (listener->printed, g_memdup2 (&seq, sizeof seq));
  listener->since.after = MAX (listener->since.after, seq);
  if (g_hash_table_size (listener->printed) < 2 * REMEMBERED_SEQS)
    return;
  g_hash_table_iter_init (&iter, listener->printed);
  while (g_hash_table_iter_next (&iter, (gpointer *)&old, NULL))
    if (*old + REMEMBERED_SEQS < listener->since.after)
      g_hash_table_iter_remove (&iter);
}

/* Every signal once: one printed from History() or live is not printed again when it comes
 * again (live after History(), or told again by a daemon that was killed before it recorded
 * it: the same seq). */
static gboolean
first_time (Listener *listener, GVariant *details)
{
  guint64 seq;

  if (details == NULL || !g_variant_lookup (details, OOMWATCH_KEY_SEQ, "t", &seq))
    return TRUE;
  if (g_hash_table_contains (listener->printed, &seq))
    return FALSE;
  remember (listener, seq);
  return TRUE;
}

static void
print_line (Listener *listener, char *line, const char *kind)
{
  oomctl_output_line (line, kind);
  fflush (stdout);
  g_free (line);
  listener->seen++;
  if (listener->count > 0 && listener->seen >= listener->count)
    g_main_loop_quit (listener->loop);
}

static gboolean
wanted (Listener *listener, const char *cgroup)
{
  GHashTableIter iter;
  const char *root;

  if (listener->cgroups == NULL || g_hash_table_contains (listener->cgroups, cgroup))
    return TRUE;
  if (!listener->recursive)
    return FALSE;
  g_hash_table_iter_init (&iter, listener->cgroups);
  while (g_hash_table_iter_next (&iter, (gpointer *) &root, NULL))
    if (oomwatch_cgroup_is_below (cgroup, root))
      return TRUE;
  return FALSE;
}

static void
on_oom_event (OomwatchManager *manager, const char *cgroup, const char *kind, guint64 count,
              GVariant *details, gpointer user_data)
{
  Listener *listener = user_data;
  if (!wanted (listener, cgroup) || !first_time (listener, details))
    return;
  if (listener->exec != NULL)
    oomctl_exec_push_event (listener->exec, listener->epoch, cgroup, kind, count, details);
  else
    print_line (listener, oomctl_format_oom_event (listener->json, cgroup, kind, count, details),
                kind);
}

/* MemoryPressure is not kept in History(): printed live only. */
static void
on_memory_pressure (OomwatchManager *manager, const char *cgroup, const char *level,
                    GVariant *details, gpointer user_data)
{
  Listener *listener = user_data;

  if (!wanted (listener, cgroup) || !first_time (listener, details))
    return;
  print_line (listener,
              oomctl_format_memory_pressure (listener->json, cgroup, level, details), NULL);
}

static void
on_watch_removed (OomwatchManager *manager, const char *cgroup, const char *reason,
                  GVariant *details, gpointer user_data)
{
  Listener *listener = user_data;

  if (!wanted (listener, cgroup) || !first_time (listener, details))
    return;
  print_line (listener, oomctl_format_watch_removed (listener->json, cgroup, reason, details),
              NULL);
  if (listener->cgroups != NULL)
    g_hash_table_remove (listener->cgroups, cgroup);
  /* Nothing more can come for a watch whose cgroups are all gone. */
  if (listener->cgroups != NULL && g_hash_table_size (listener->cgroups) == 0)
    g_main_loop_quit (listener->loop);
}

/* Watch() every target; the signals are already subscribed to, so nothing falls between.
 * AGAIN: after a restart of the daemon, where a cgroup removed meanwhile is no error. */
static gboolean
watch_targets (Listener *listener, gboolean again, GError **error)
{
  /* Signals are sent only to the connections that watch, or to root's monitors. */
  if (listener->cgroups == NULL)
    return oomwatch_manager_call_monitor_sync (listener->manager, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                               error);
  for (gsize i = 0; listener->targets != NULL && listener->targets[i] != NULL; i++)
    {
      g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
      g_autoptr (GError) local = NULL;
      char *canonical = NULL;

      if (listener->recursive)
        g_variant_dict_insert (&dict, OOMWATCH_KEY_RECURSIVE, "b", TRUE);
      if (listener->pressure != NULL)
        g_variant_dict_insert (&dict, OOMWATCH_OPTION_PRESSURE, "s", listener->pressure);
      if (listener->events != NULL)
        g_variant_dict_insert (&dict, OOMWATCH_OPTION_EVENTS, "^as", listener->events);
      if (oomwatch_manager_call_watch_sync (listener->manager, listener->targets[i],
                                            g_variant_dict_end (&dict), G_DBUS_CALL_FLAGS_NONE,
                                            -1, &canonical, NULL, &local))
        g_hash_table_add (listener->cgroups, canonical);
      else if (again && g_error_matches (local, OOMWATCH_ERROR, OOMWATCH_ERROR_NO_SUCH_CGROUP))
        oomctl_info ("oomctl: %s was removed while oomwatchd was away", listener->targets[i]);
      else
        {
          g_dbus_error_strip_remote_error (local);
          g_propagate_prefixed_error (error, g_steal_pointer (&local), "%s: ",
                                      listener->targets[i]);
          return FALSE;
        }
    }
  return TRUE;
}

/* What History() has after the last seq printed. Live signals that came meanwhile wait in the
 * main loop's queue and are dropped there when History() already printed them. With PRINT
 * FALSE it only learns where numbering stands. */
static gboolean
catch_up (Listener *listener, gboolean print, GError **error)
{
  g_autoptr (GVariant) info = NULL;
  g_autoptr (GVariant) events = NULL;
  const char *epoch = "";
  guint64 last = 0;

  events = oomctl_history_call (listener->manager, &listener->since, &info, error);
  if (events == NULL)
    return FALSE;
  g_variant_lookup (info, "epoch", "&s", &epoch);
  g_variant_lookup (info, "last-seq", "t", &last);
  if (listener->epoch != NULL && strcmp (epoch, listener->epoch) != 0)
    {
      /* Numbering started again (a stop, not a restart): every signal of it is new to us. */
      listener->since.after = 0;
      g_hash_table_remove_all (listener->printed);
      g_clear_pointer (&events, g_variant_unref);
      events = oomctl_history_call (listener->manager, &listener->since, NULL, error);
      if (events == NULL)
        return FALSE;
    }
  g_free (listener->epoch);
  listener->epoch = g_strdup (epoch);
  if (!print)
    {
      listener->since.after = MAX (listener->since.after, last);
      return TRUE;
    }
  for (gsize i = 0; i < g_variant_n_children (events); i++)
    {
      g_autoptr (GVariant) entry = g_variant_get_child_value (events, i);
      const char *cgroup = "";
      guint64 seq = 0;

      g_variant_lookup (entry, "cgroup", "&s", &cgroup);
      g_variant_lookup (entry, "seq", "t", &seq);
      if (!wanted (listener, cgroup) || g_hash_table_contains (listener->printed, &seq))
        continue;
      remember (listener, seq);
      if (listener->exec != NULL)
        oomctl_exec_push_history_entry (listener->exec, listener->epoch, entry);
      else
        {
          const char *kind = NULL;

          g_variant_lookup (entry, "kind", "&s", &kind);
          print_line (listener, oomctl_format_history_entry (listener->json, entry), kind);
        }
    }
  /* Once caught up, only seqs matter: a time bound would hide nothing more. */
  listener->since.time = 0;
  return TRUE;
}

/* Has the daemon that answered as OWNER gone away again (the name has another owner, or
 * none)? Then what failed is for the next one to answer. */
static gboolean
owner_gone (Listener *listener, const char *owner)
{
  GDBusConnection *bus = g_dbus_proxy_get_connection (G_DBUS_PROXY (listener->manager));
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "GetNameOwner", g_variant_new ("(s)", OOMWATCH_BUS_NAME), G_VARIANT_TYPE ("(s)"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  const char *now = NULL;

  if (reply == NULL)
    return TRUE;
  g_variant_get (reply, "(&s)", &now);
  return strcmp (now, owner) != 0;
}

static void
on_name_owner (GObject *proxy, GParamSpec *pspec, gpointer user_data)
{
  Listener *listener = user_data;
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (proxy));
  g_autoptr (GError) error = NULL;

  if (owner == NULL)
    {
      oomctl_info ("oomctl: oomwatchd went away; waiting for it to come back");
      return;
    }
  /* A new daemon: our watches went with the old one. */
  if (listener->cgroups != NULL)
    g_hash_table_remove_all (listener->cgroups);
  if (!watch_targets (listener, TRUE, &error) || !catch_up (listener, TRUE, &error))
    {
      if (owner_gone (listener, owner))
        {
          oomctl_info ("oomctl: oomwatchd went away again; waiting for it to come back");
          return;
        }
      listener->status = oomctl_fail ("after oomwatchd came back", error);
      g_main_loop_quit (listener->loop);
      return;
    }
  oomctl_info ("oomctl: oomwatchd is back; %s what it sent since",
               listener->exec != NULL ? "handed to the hook" : "printed");
  if (listener->cgroups != NULL && g_hash_table_size (listener->cgroups) == 0)
    g_main_loop_quit (listener->loop);
}

static gboolean
on_interrupt (gpointer user_data)
{
  Listener *listener = user_data;

  g_main_loop_quit (listener->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_timeout (gpointer user_data)
{
  Listener *listener = user_data;

  listener->timer_id = 0;
  if (listener->count > 0)
    {
      g_printerr ("oomctl: timed out after %d of %d events\n", listener->seen, listener->count);
      listener->status = OOMCTL_EXIT_TIMEOUT;
    }
  g_main_loop_quit (listener->loop);
  return G_SOURCE_REMOVE;
}

/* On a terminal, say that it listens: nothing else may be printed for a long time. */
static void
announce (Listener *listener, int timeout)
{
  g_autofree char *what = NULL;
  g_autofree char *until = NULL;

  if (oomctl_output.quiet || !isatty (STDERR_FILENO))
    return;
  what = listener->targets != NULL ? g_strjoinv (", ", listener->targets)
                                   : g_strdup ("every cgroup");
  if (listener->count > 0 && timeout > 0)
    until = g_strdup_printf ("; at most %d events or %d s", listener->count, timeout);
  else if (listener->count > 0)
    until = g_strdup_printf ("; %d events", listener->count);
  else if (timeout > 0)
    until = g_strdup_printf ("; %d s", timeout);
  g_printerr ("Watching %s%s%s (Ctrl-C to stop)\n", what, listener->recursive ? " and below" : "",
              until != NULL ? until : "");
}

static int
listen (OomwatchManager *manager, Listener *listener, int timeout)
{
  g_signal_connect (manager, "notify::g-name-owner", G_CALLBACK (on_name_owner), listener);
  if (timeout > 0)
    listener->timer_id = g_timeout_add_seconds ((guint) timeout, on_timeout, listener);
  announce (listener, timeout);

  if (listener->cgroups == NULL || g_hash_table_size (listener->cgroups) > 0)
    g_main_loop_run (listener->loop);

  g_clear_handle_id (&listener->timer_id, g_source_remove);
  g_signal_handlers_disconnect_by_data (manager, listener);
  return listener->status;
}

static void
on_hook_done (guint handled, gpointer user_data)
{
  Listener *listener = user_data;

  listener->seen = (int) handled;
  if (listener->count > 0 && listener->seen >= listener->count)
    g_main_loop_quit (listener->loop);
}

static int
run_listener (int argc, char **argv, gboolean watch)
{
  gboolean recursive = FALSE;
  int count = 0, timeout = 0;
  g_autofree char *since_text = NULL;
  g_autofree char *pressure = NULL;
  g_auto (GStrv) events = NULL;
  g_auto (GStrv) targets = NULL;
  const GOptionEntry watch_entries[] = {
    { "recursive", 'r', 0, G_OPTION_ARG_NONE, &recursive,
      "Also watch every cgroup below, now and later", NULL },
    { "since", 's', 0, G_OPTION_ARG_STRING, &since_text,
      "First print what was sent after this seq number, or since this time (ISO 8601, or 10m, "
      "2h … ago)",
      "SEQ|TIME" },
    { "pressure", 'p', 0, G_OPTION_ARG_STRING, &pressure,
      "Also print memory pressure at LEVEL or above (low, medium, critical)", "LEVEL" },
    { "events", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &events,
      "Also print memory.events KIND rises (high, max, low; cgroup v2; repeatable)", "KIND" },
    { NULL }
  };
  const GOptionEntry entries[] = {
    { "count", 'n', 0, G_OPTION_ARG_INT, &count, "Exit after N events (0, the default: no limit)",
      "N" },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &timeout,
      "Exit after SEC seconds (0, the default: no limit)", "SEC" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new (watch ? "CGROUP…" : NULL);
  g_autoptr (OomwatchManager) manager = NULL;
  g_autoptr (GHashTable) cgroups = NULL;
  g_autoptr (GHashTable) printed = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Listener listener = { 0 };
  guint sigint, sigterm;
  OomctlExecOptions exec_options = { 0 };
  g_autoptr (OomctlExec) exec = NULL;
  gboolean resume = FALSE;
  int status;

  oomctl_exec_split_argv (&argc, argv, &exec_options);
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_main_entries (context, oomctl_exec_option_entries (&exec_options), NULL);
  g_option_context_set_description (context, OOMCTL_EXEC_HELP);
  if (watch)
    g_option_context_add_main_entries (context, watch_entries, NULL);
  g_option_context_set_summary (context, watch ? "Watch cgroups and print their OOM events."
                                               : "Print every oomwatchd signal.");
  status = oomctl_parse_options (context, &argc, &argv);
  if (status != OOMCTL_EXIT_OK)
    return status;
  if (count < 0)
    return oomctl_usage_error ("--count: %d is negative; give 0 (no limit) or more", count);
  if (timeout < 0)
    return oomctl_usage_error ("--timeout: %d is negative; give 0 (no limit) or more seconds",
                               timeout);
  if (watch && argc < 2)
    return oomctl_usage_error ("watch needs at least one CGROUP");
  if (!watch && argc > 1)
    return oomctl_usage_error ("monitor takes options only, not '%s'", argv[1]);
  if (since_text != NULL && !oomctl_parse_since (since_text, &listener.since, &error))
    return oomctl_usage_error ("%s", error->message);
  listener.loop = loop;
  status = oomctl_exec_setup (&exec_options, since_text != NULL, &listener.epoch,
                              &listener.since.after, &resume, printed, on_hook_done, &listener,
                              &exec);
  if (status != OOMCTL_EXIT_OK)
    return status;
  listener.exec = exec;

  /* Ctrl-C is handled from here on: once a watch is made, it ends cleanly. */
  listener.loop = loop;
  sigint = g_unix_signal_add (SIGINT, on_interrupt, &listener);
  sigterm = g_unix_signal_add (SIGTERM, on_interrupt, &listener);
  manager = oomctl_manager_new (&error);
  if (manager == NULL)
    return oomctl_fail ("cannot reach oomwatchd", error);

  listener.json = oomctl_output_json ();
  listener.count = count;
  listener.manager = manager;
  listener.printed = printed;
  /* Connect before calling Watch so that no event between the two is lost. */
  g_signal_connect (manager, "oom-event", G_CALLBACK (on_oom_event), &listener);
  g_signal_connect (manager, "watch-removed", G_CALLBACK (on_watch_removed), &listener);
  g_signal_connect (manager, "memory-pressure", G_CALLBACK (on_memory_pressure), &listener);

  if (watch)
    {
      cgroups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      listener.cgroups = cgroups;
      listener.recursive = recursive;
      targets = oomctl_resolve_cgroups (manager, (const char *const *) argv + 1, &error);
      if (targets == NULL)
        return error->domain == G_IO_ERROR ? oomctl_usage_error ("%s", error->message)
                                           : oomctl_fail (NULL, error);
      listener.targets = targets;
      listener.pressure = pressure;
      listener.events = events;
      if (!watch_targets (&listener, FALSE, &error))
        return oomctl_fail (NULL, error);
    }
  else if (!watch_targets (&listener, FALSE, &error))
    return oomctl_fail ("monitor", error);
  status = catch_up (&listener, since_text != NULL || resume, &error)
               ? listen (manager, &listener, timeout)
               : oomctl_fail ("History", error);
  if (exec != NULL)
    oomctl_exec_stop (exec);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_free (listener.epoch);
  oomctl_exec_options_clear (&exec_options);
  return status;
}

int
oomctl_watch (int argc, char **argv)
{
  return run_listener (argc, argv, TRUE);
}

int
oomctl_monitor (int argc, char **argv)
{
  return run_listener (argc, argv, FALSE);
}
