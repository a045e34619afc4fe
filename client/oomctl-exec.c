/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "oomctl-exec.h"
#include "oomctl-exec-spool.h"
#include "oomctl-common.h"
#include "oomctl-format.h"
#include "oomwatch-names.h"

#include <gio/gio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

typedef struct
{
  char *epoch;
  gboolean has_seq;
  guint64 seq;
  char **env;
  char *json;
  char *line; /* for the spool */
} Pending;

struct _OomctlExec
{
  char **argv;
  guint timeout;
  guint queue_max;
  char *state_file;
  char *saved_epoch; /* what the state file holds: the highest seq handled, in this epoch */
  guint64 saved_seq;
  void (*done) (guint handled, gpointer user_data);
  gpointer user_data;

  GQueue queue; /* Pending, oldest first */
  Pending *current;
  GSubprocess *running;
  guint timeout_id;
  gboolean timed_out;
  guint handled;
  guint64 dropped;
  guint idle_id;
  gboolean stopping; /* no more hooks start */
};

static void
pending_free (Pending *pending)
{
  g_free (pending->epoch);
  g_strfreev (pending->env);
  g_free (pending->json);
  g_free (pending->line);
  g_free (pending);
}

static void
save_state (OomctlExec *self, Pending *pending)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;

  if (self->state_file == NULL || !pending->has_seq)
    return;
  /* A signal told again after a restart of the daemon keeps its older seq: the file keeps
   * the highest, so that a resume does not hand the hook what came between again. */
  if (g_strcmp0 (pending->epoch, self->saved_epoch) == 0 && pending->seq <= self->saved_seq)
    return;
  g_free (self->saved_epoch);
  self->saved_epoch = g_strdup (pending->epoch);
  self->saved_seq = pending->seq;
  text = g_strdup_printf ("%s %" G_GUINT64_FORMAT "\n", pending->epoch ?: "-", pending->seq);
  if (!g_file_set_contents_full (self->state_file, text, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, &error))
    g_printerr ("oomctl: cannot save %s: %s\n", self->state_file, error->message);
}

/* OOMWATCH_ + KEY in upper case, '-' and anything else outside [A-Z0-9] as '_' */
static char *
env_name (const char *key)
{
  GString *name = g_string_new (OOMCTL_HOOK_ENV_PREFIX);

  for (const char *p = key; *p != '\0'; p++)
    g_string_append_c (name, g_ascii_isalnum (*p) ? g_ascii_toupper (*p) : '_');
  return g_string_free (name, FALSE);
}

static char *
env_value (GVariant *value)
{
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    return g_variant_dup_string (value, NULL);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    return g_strdup (g_variant_get_boolean (value) ? "1" : "0");
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY))
    {
      g_autofree const char **items = g_variant_get_strv (value, NULL);

      return g_strjoinv (",", (char **)items);
    }
  return g_variant_print (value, FALSE);
}

/* Our environment without stale OOMWATCH_ variables, then the event's. */
static char **
hook_environment (const char *cgroup, const char *kind, guint64 count, GVariant *details)
{
  g_auto (GStrv) inherited = g_get_environ ();
  GPtrArray *env = g_ptr_array_new ();
  g_autofree char *count_text = g_strdup_printf ("%" G_GUINT64_FORMAT, count);
  GVariantIter iter;
  const char *key;
  GVariant *value;

  for (gsize i = 0; inherited[i] != NULL; i++)
    if (!g_str_has_prefix (inherited[i], OOMCTL_HOOK_ENV_PREFIX))
      g_ptr_array_add (env, g_strdup (inherited[i]));
  g_ptr_array_add (env, g_strconcat (OOMCTL_HOOK_ENV_CGROUP "=", cgroup, NULL));
  g_ptr_array_add (env, g_strconcat (OOMCTL_HOOK_ENV_KIND "=", kind, NULL));
  g_ptr_array_add (env, g_strconcat (OOMCTL_HOOK_ENV_COUNT "=", count_text, NULL));
  if (details != NULL)
    {
      g_variant_iter_init (&iter, details);
      while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
        {
          g_autofree char *name = env_name (key);
          g_autofree char *text = env_value (value);

          g_ptr_array_add (env, g_strconcat (name, "=", text, NULL));
          g_variant_unref (value);
        }
    }
  g_ptr_array_add (env, NULL);
  return (char **)g_ptr_array_free (env, FALSE);
}

static void run_next (OomctlExec *self);

static gboolean
on_idle_run (gpointer user_data)
{
  OomctlExec *self = user_data;

  self->idle_id = 0;
  run_next (self);
  return G_SOURCE_REMOVE;
}

static void
finish (OomctlExec *self)
{
  Pending *pending = g_steal_pointer (&self->current);

  g_clear_object (&self->running);
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  save_state (self, pending);
  pending_free (pending);
  self->handled++;
  if (self->idle_id == 0)
    self->idle_id = g_idle_add (on_idle_run, self);
  if (self->done != NULL)
    self->done (self->handled, self->user_data);
}

static void
on_exited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  OomctlExec *self = user_data;
  GSubprocess *process = G_SUBPROCESS (source);
  g_autoptr (GError) error = NULL;
  guint64 seq = self->current->seq;

  if (!g_subprocess_wait_finish (process, result, &error))
    g_printerr ("oomctl: hook for seq %" G_GUINT64_FORMAT ": %s\n", seq, error->message);
  else if (self->timed_out)
    g_printerr ("oomctl: hook for seq %" G_GUINT64_FORMAT " still ran after %u s: killed\n", seq,
                self->timeout);
  else if (g_subprocess_get_if_signaled (process))
    g_printerr ("oomctl: hook for seq %" G_GUINT64_FORMAT " was killed by signal %d\n", seq,
                g_subprocess_get_term_sig (process));
  else if (g_subprocess_get_exit_status (process) != 0)
    g_printerr ("oomctl: hook for seq %" G_GUINT64_FORMAT " failed with exit status %d\n", seq,
                g_subprocess_get_exit_status (process));
  finish (self);
}

/* The event on stdin; a hook that does not read it is no error. */
static void
on_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  OomctlExec *self = user_data;
  GOutputStream *stdin_pipe = G_OUTPUT_STREAM (source);
  g_autoptr (GError) error = NULL;

  if (!g_output_stream_write_all_finish (stdin_pipe, result, NULL, &error))
    g_debug ("hook stdin: %s", error->message);
  g_output_stream_close (stdin_pipe, NULL, NULL);
  g_subprocess_wait_async (self->running, NULL, on_exited, self);
}

static gboolean
on_timeout (gpointer user_data)
{
  OomctlExec *self = user_data;
  const char *pid = g_subprocess_get_identifier (self->running);

  self->timeout_id = 0;
  self->timed_out = TRUE;
  if (pid != NULL)
    kill (-(pid_t)g_ascii_strtoll (pid, NULL, 10), SIGKILL);
  return G_SOURCE_REMOVE;
}

/* In the child: its own process group, so that a timeout kills whatever it started. */
static void
child_setup (gpointer user_data)
{
  setpgid (0, 0);
}

static void
run_next (OomctlExec *self)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GError) error = NULL;
  GOutputStream *stdin_pipe;

  if (self->running != NULL || self->stopping || g_queue_is_empty (&self->queue))
    return;
  self->current = g_queue_pop_head (&self->queue);
  self->timed_out = FALSE;
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE);
  g_subprocess_launcher_set_environ (launcher, self->current->env);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  self->running = g_subprocess_launcher_spawnv (launcher, (const char *const *)self->argv, &error);
  if (self->running == NULL)
    {
      g_printerr ("oomctl: cannot run the hook for seq %" G_GUINT64_FORMAT ": %s\n",
                  self->current->seq, error->message);
      finish (self);
      return;
    }
  self->timeout_id = g_timeout_add_seconds (self->timeout, on_timeout, self);
  stdin_pipe = g_subprocess_get_stdin_pipe (self->running);
  g_output_stream_write_all_async (stdin_pipe, self->current->json, strlen (self->current->json),
                                   G_PRIORITY_DEFAULT, NULL, on_written, self);
}

void
oomctl_exec_push (OomctlExec *self, const char *epoch, const char *cgroup, const char *kind,
                  guint64 count, GVariant *details, const char *json)
{
  Pending *pending;

  if (g_queue_get_length (&self->queue) >= self->queue_max)
    {
      guint64 seq = 0;

      self->dropped++;
      if (details != NULL)
        g_variant_lookup (details, OOMWATCH_KEY_SEQ, "t", &seq);
      g_printerr ("oomctl: %u events wait for the hook already: dropped %s on %s (seq %" G_GUINT64_FORMAT
                  "), %" G_GUINT64_FORMAT " dropped so far\n",
                  self->queue_max, kind, cgroup, seq, self->dropped);
      return;
    }
  pending = g_new0 (Pending, 1);
  pending->epoch = g_strdup (epoch);
  pending->has_seq = details != NULL && g_variant_lookup (details, OOMWATCH_KEY_SEQ, "t", &pending->seq);
  pending->env = hook_environment (cgroup, kind, count, details);
  pending->json = g_strconcat (json, "\n", NULL);
  pending->line = oomctl_exec_spool_line (epoch, cgroup, kind, count, details);
  g_queue_push_tail (&self->queue, pending);
  run_next (self);
}

void
oomctl_exec_push_event (OomctlExec *self, const char *epoch, const char *cgroup, const char *kind,
                        guint64 count, GVariant *details)
{
  g_autofree char *json = oomctl_format_oom_event (TRUE, cgroup, kind, count, details);

  oomctl_exec_push (self, epoch, cgroup, kind, count, details, json);
}

void
oomctl_exec_push_history_entry (OomctlExec *self, const char *epoch, GVariant *entry)
{
  const char *signal = "", *cgroup = "", *kind = "";
  g_autoptr (GVariant) details = NULL;
  guint64 count = 0;

  g_variant_lookup (entry, "signal", "&s", &signal);
  if (g_strcmp0 (signal, "OomEvent") != 0)
    return;
  g_variant_lookup (entry, "cgroup", "&s", &cgroup);
  g_variant_lookup (entry, "kind", "&s", &kind);
  g_variant_lookup (entry, "count", "t", &count);
  g_variant_lookup (entry, "details", "@a{sv}", &details);
  oomctl_exec_push_event (self, epoch, cgroup, kind, count, details);
}

void
oomctl_exec_stop (OomctlExec *self)
{
  self->stopping = TRUE;
  while (self->running != NULL)
    g_main_context_iteration (NULL, TRUE);
  if (!g_queue_is_empty (&self->queue))
    g_printerr ("oomctl: %u events were not handed to the hook%s\n",
                g_queue_get_length (&self->queue),
                self->state_file != NULL ? ": kept for the next run" : "");
  if (self->state_file != NULL)
    {
      g_autoptr (GPtrArray) lines = g_ptr_array_new ();

      for (GList *l = self->queue.head; l != NULL; l = l->next)
        g_ptr_array_add (lines, ((Pending *)l->data)->line);
      oomctl_exec_spool_save (self->state_file, lines);
    }
}

typedef struct
{
  OomctlExec *exec;
  const char *epoch; /* of the last event handled; NULL: none */
  guint64 after;
  GHashTable *printed;
} Resume;

/* An event the last run had received but not handled: first in line now, and not again when
 * History() has it too. One it did handle (it was stopped by SIGKILL) is skipped. */
static void
resume_spooled (const char *epoch, const char *cgroup, const char *kind, guint64 count,
                GVariant *details, gpointer user_data)
{
  Resume *resume = user_data;
  guint64 seq = 0;

  g_variant_lookup (details, OOMWATCH_KEY_SEQ, "t", &seq);
  if (resume->epoch != NULL && g_strcmp0 (epoch, resume->epoch) == 0 && seq <= resume->after)
    return;
  if (seq > 0)
    g_hash_table_add (resume->printed, g_memdup2 (&seq, sizeof seq));
  oomctl_exec_push_event (resume->exec, epoch, cgroup, kind, count, details);
}

int
oomctl_exec_setup (OomctlExecOptions *options, gboolean since, char **epoch, guint64 *after,
                   gboolean *resume, GHashTable *printed,
                   void (*done) (guint handled, gpointer user_data), gpointer user_data,
                   OomctlExec **exec)
{
  g_autoptr (GError) error = NULL;

  if (options->argv == NULL)
    {
      if (options->state_file == NULL)
        return OOMCTL_EXIT_OK;
      g_printerr ("oomctl: --state-file goes with --exec\n");
      return OOMCTL_EXIT_USAGE;
    }
  if (options->argv[0] == NULL || options->timeout <= 0 || options->queue_max <= 0)
    {
      g_printerr ("oomctl: --exec needs a command (last on the line), --exec-timeout and "
                  "--exec-queue a positive number\n");
      return OOMCTL_EXIT_USAGE;
    }
  if (options->state_file != NULL && !since)
    {
      if (oomctl_exec_read_state (options->state_file, epoch, after, &error))
        *resume = TRUE;
      else if (error != NULL)
        {
          g_printerr ("oomctl: %s\n", error->message);
          return OOMCTL_EXIT_USAGE;
        }
    }
  *exec = oomctl_exec_new (options, done, user_data);
  if (*resume)
    {
      (*exec)->saved_epoch = g_strdup (*epoch);
      (*exec)->saved_seq = *after;
    }
  if (options->state_file != NULL)
    {
      Resume resume_at = { *exec, *resume ? *epoch : NULL, *after, printed };

      oomctl_exec_spool_load (options->state_file, resume_spooled, &resume_at);
    }
  return OOMCTL_EXIT_OK;
}

OomctlExec *
oomctl_exec_new (const OomctlExecOptions *options,
                 void (*done) (guint handled, gpointer user_data), gpointer user_data)
{
  OomctlExec *self = g_new0 (OomctlExec, 1);

  self->argv = g_strdupv (options->argv);
  self->timeout = (guint)MAX (options->timeout, 1);
  self->queue_max = (guint)MAX (options->queue_max, 1);
  self->state_file = g_strdup (options->state_file);
  self->done = done;
  self->user_data = user_data;
  g_queue_init (&self->queue);
  /* A hook that closes its stdin early must not take oomctl with it. */
  signal (SIGPIPE, SIG_IGN);
  return self;
}

void
oomctl_exec_free (OomctlExec *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->idle_id, g_source_remove);
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  g_clear_object (&self->running);
  g_clear_pointer (&self->current, pending_free);
  g_queue_clear_full (&self->queue, (GDestroyNotify)pending_free);
  g_strfreev (self->argv);
  g_free (self->state_file);
  g_free (self->saved_epoch);
  g_free (self);
}
