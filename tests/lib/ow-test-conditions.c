/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-test-conditions.h"
#include "oomwatch-names.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

void
ow_test_env_sync (OwTestEnv *env)
{
  g_autoptr (GVariant) watches = NULL;
  g_autoptr (GError) error = NULL;

  oomwatch_manager_call_list_watches_sync (env->manager, G_DBUS_CALL_FLAGS_NONE, -1, &watches, NULL,
                                           &error);
  g_assert_no_error (error);
  ow_test_iterate_pending ();
}

typedef struct
{
  OwTestEnv *env;
  const char *cgroup;
  const char *kind;
  guint64 value;
  gboolean watched;
} Wait;

static gboolean
is_watched_as_wanted (gpointer user_data)
{
  Wait *wait = user_data;

  return ow_test_env_watched (wait->env, wait->cgroup) == wait->watched;
}

gboolean
ow_test_env_wait_watched (OwTestEnv *env, const char *canonical, gboolean watched)
{
  Wait wait = { .env = env, .cgroup = canonical, .watched = watched };

  return ow_test_wait_until (is_watched_as_wanted, &wait, OW_TEST_WAIT_MS);
}

static gboolean
sum_reached (gpointer user_data)
{
  Wait *wait = user_data;

  return ow_test_env_sum (wait->env, wait->cgroup, wait->kind) >= wait->value;
}

gboolean
ow_test_env_wait_sum (OwTestEnv *env, const char *cgroup, const char *kind, guint64 sum)
{
  Wait wait = { .env = env, .cgroup = cgroup, .kind = kind, .value = sum };

  return ow_test_wait_until (sum_reached, &wait, OW_TEST_WAIT_MS);
}

static gboolean
eventfds_are (gpointer user_data)
{
  Wait *wait = user_data;

  return ow_test_env_count_eventfds (wait->env) == wait->value;
}

gboolean
ow_test_env_wait_eventfds (OwTestEnv *env, guint count)
{
  Wait wait = { .env = env, .value = count };

  return ow_test_wait_until (eventfds_are, &wait, OW_TEST_WAIT_MS);
}

static guint64
counter (GVariant *entry, const char *key)
{
  guint64 value = 0;

  g_assert_true (g_variant_lookup (entry, key, "t", &value));
  return value;
}

/* One look: whether the daemon is quiet about CGROUP now. */
static gboolean
quiet_now (OwTestEnv *env, const char *cgroup)
{
  g_autoptr (GVariant) entry = ow_test_env_find_watch (env, cgroup);
  gboolean rechecking = FALSE, under_oom = FALSE;

  ow_test_iterate_pending (); /* the signals sent before the reply */
  if (entry == NULL)
    return TRUE; /* removed: nothing more comes */
  g_variant_lookup (entry, OOMWATCH_KEY_RECHECKING, "b", &rechecking);
  g_variant_lookup (entry, OOMWATCH_KEY_UNDER_OOM, "b", &under_oom);
  /* Kills of v1 descendants reach an ancestor without counting there: hence >= for kills. */
  return !rechecking && !under_oom
         && counter (entry, OOMWATCH_KIND_OOM) == ow_test_env_sum (env, cgroup, OOMWATCH_KIND_OOM)
         && ow_test_env_sum (env, cgroup, OOMWATCH_KIND_OOM_KILL)
                >= counter (entry, OOMWATCH_KIND_OOM_KILL);
}

void
ow_test_env_settle (OwTestEnv *env, const char *canonical)
{
  gint64 until
      = g_get_monotonic_time () + ow_test_timeout_ms (OW_TEST_WAIT_MS) * G_TIME_SPAN_MILLISECOND;
  guint quiet = 0;

  /* Twice in a row, a poll apart: work the daemon deferred to an idle moment (victims for v1
   * ancestors) has run by the second look. */
  while (quiet < 2 && g_get_monotonic_time () < until)
    {
      quiet = quiet_now (env, canonical) ? quiet + 1 : 0;
      if (quiet < 2)
        ow_test_env_iterate (OW_TEST_POLL_MS);
    }
  if (quiet < 2)
    g_error ("the daemon did not settle on %s within %u ms", canonical,
             ow_test_timeout_ms (OW_TEST_WAIT_MS));
}

OwTestSignal *
ow_test_env_find_signal (OwTestEnv *env, const char *cgroup, const char *kind)
{
  for (guint i = 0; i < env->signals->len; i++)
    {
      OwTestSignal *signal = g_ptr_array_index (env->signals, i);

      if (g_strcmp0 (signal->cgroup, cgroup) == 0 && g_strcmp0 (signal->kind, kind) == 0)
        return signal;
    }
  return NULL;
}

void
ow_test_assert_hog_killed (GSubprocess *hog)
{
  ow_test_env_wait_process (hog);
  g_assert_true (g_subprocess_get_if_signaled (hog));
  g_assert_cmpint (g_subprocess_get_term_sig (hog), ==, SIGKILL);
}

int
ow_test_env_main (int argc, char **argv, const OwTestCase *cases)
{
  int skip = ow_test_env_init (&argc, &argv);

  if (skip != 0)
    return skip;
  for (const OwTestCase *c = cases; c->path != NULL; c++)
    g_test_add_func (c->path, c->func);
  return g_test_run ();
}

gboolean
ow_test_kernel_logged_victim (guint32 pid)
{
  g_autofree char *needle = g_strdup_printf (",pid=%u,uid=", pid);
  int fd = open ("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  gboolean found = FALSE;
  char record[8192];

  g_assert_cmpint (fd, >=, 0);
  /* A new reader starts at the oldest record kept; one read, one record. */
  for (;;)
    {
      ssize_t len = read (fd, record, sizeof record - 1);
      const char *text;

      if (len < 0 && errno == EPIPE)
        continue; /* overwritten while we read: go on from the oldest kept */
      if (len <= 0)
        break;
      record[len] = '\0';
      text = strchr (record, ';');
      if (text != NULL && g_str_has_prefix (text + 1, "oom-kill:") && strstr (text, needle) != NULL)
        found = TRUE;
    }
  close (fd);
  return found;
}
