/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the kernel and the cgroup monitor tell the registry: events, removals, new cgroups. */
#include "ow-registry-private.h"
#include "ow-fd.h"
#include "oomwatch-cgroup.h"
#include "oomwatch-error.h"

#include <sys/stat.h>

/* One event on WATCH: counted, in its parent's ledger too, and sent. */
static void
tell_event (OwRegistry *self, OwWatch *watch, const OwEvent *event)
{
  ow_watch_count (watch, event);
  ow_registry_ledger_count (self, watch->cgroup, event);
  self->listener->event (watch, event, self->user_data);
}

/* The cgroup is gone: settle its last events from its parent's ledger, tell the listener, then drop
 * it for every client. Safe to call from inside the cgroup's own source callback (see ow-source.h).
 */
void
ow_registry_cgroup_removed (OwRegistry *self, const char *gone)
{
  g_autofree char *cgroup = g_strdup (gone); /* GONE may be the source's own string */
  OwWatch *watch = g_hash_table_lookup (self->watches, cgroup);
  GHashTableIter iter;
  const char *name;
  OwClient *client;

  ow_registry_unskip (self, cgroup);
  if (watch == NULL)
    return;
  ow_registry_ledger_settle (self, watch, tell_event);
  self->listener->removed (watch, self->user_data);
  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, (gpointer *)&name, (gpointer *)&client))
    {
      ow_registry_client_remove_cgroup (self, client, cgroup);
      g_hash_table_remove (client->plain, cgroup);
      g_hash_table_remove (client->recursive, cgroup);
      ow_registry_forget_ask (client, cgroup, FALSE);
      ow_registry_forget_ask (client, cgroup, TRUE);
      if (g_hash_table_size (client->cgroups) == 0 && g_hash_table_size (client->recursive) == 0)
        g_hash_table_iter_remove (&iter);
    }
  ow_registry_remove_watch (self, cgroup);
}

static void
on_source_event (const char *cgroup, const OwEvent *event, gpointer user_data)
{
  OwRegistry *self = user_data;
  OwWatch *watch = g_hash_table_lookup (self->watches, cgroup);

  if (watch != NULL)
    tell_event (self, watch, event);
}

/* Told by a source (v1 removal wake-up, v2 ENODEV) or by the cgroup monitor (IN_DELETE),
 * whichever comes first; the second finds nothing to drop. */
static void
on_removed (const char *cgroup, gpointer user_data)
{
  ow_registry_cgroup_removed (user_data, cgroup);
}

const OwSourceListener ow_registry_source_listener = {
  .event = on_source_event,
  .removed = on_removed,
};

/* Whether the watch of CGROUP is of another directory than the one there now: rmdir + mkdir
 * whose removal we have not been told of yet. */
static gboolean
watch_is_stale (OwRegistry *self, OwWatch *watch)
{
  g_auto (OwFd) fd = ow_hierarchy_open_cgroup (self->context->hierarchy, watch->cgroup, NULL);
  struct stat st;

  return fd >= 0 && fstat (fd, &st) == 0 && st.st_ino != watch->source->ino;
}

/* CGROUP, new under a recursive watch of NAME, could not be added: why, said at a level that
 * fits, and at most as often as its owner may cause lines. */
static void
not_followed (OwRegistry *self, const char *cgroup, const char *name, const GError *error)
{
  g_autofree char *parent = oomwatch_cgroup_parent (cgroup);

  if (!g_error_matches (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NO_SUCH_CGROUP)
      && !g_error_matches (error, OOMWATCH_ERROR, OOMWATCH_ERROR_INVALID_CGROUP))
    ow_registry_ledger_close (self, parent, error->message);
  if (g_error_matches (error, OOMWATCH_ERROR, OOMWATCH_ERROR_PERMISSION_DENIED))
    ow_registry_skippable (self, cgroup, error);
  /* Gone meanwhile, or not a memory cgroup (v2): not ours to watch, as in a walk. The
   * cgroup monitor also tells of children it already told of (see on_fresh). */
  else if (g_error_matches (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NO_SUCH_CGROUP)
           || g_error_matches (error, OOMWATCH_ERROR, OOMWATCH_ERROR_INVALID_CGROUP))
    g_debug ("%s: not followed for %s: %s", cgroup, name, error->message);
  else
    ow_log_limit_log (self->log_limit, ow_registry_owner_of (self, cgroup), G_LOG_LEVEL_WARNING,
                      "Not following new cgroup %s for %s: %s", cgroup, name, error->message);
}

/* A new directory appeared in a followed cgroup: give it (and anything already below it) to
 * every client whose recursive watch covers it, counting from zero. Whatever its owner (not
 * root, not the client) cannot pay for is skipped. */
void
ow_registry_cgroup_created (OwRegistry *self, const char *cgroup)
{
  OwWatch *existing = g_hash_table_lookup (self->watches, cgroup);
  g_autofree char *parent = oomwatch_cgroup_parent (cgroup);
  g_autofree GStrv names = NULL;
  gboolean vanished = FALSE;

  if (existing != NULL && watch_is_stale (self, existing))
    ow_registry_cgroup_removed (self, cgroup);
  names = (GStrv)g_hash_table_get_keys_as_array (self->clients, NULL);
  for (gsize i = 0; names[i] != NULL; i++)
    {
      OwClient *client = g_hash_table_lookup (self->clients, names[i]);
      g_autoptr (GPtrArray) wanted = NULL;
      g_autoptr (GHashTable) payers = NULL;
      g_autoptr (GError) error = NULL;

      if (client == NULL || !ow_registry_covered_by_recursive (client, cgroup)
          || g_hash_table_contains (client->cgroups, cgroup))
        continue;
      wanted = ow_registry_walk_subtree (self, client, cgroup, &error);
      if (wanted != NULL)
        payers = ow_registry_plan_payers (self, client, wanted, 0);
      if (wanted != NULL && wanted->len == 0)
        {
          ow_registry_ledger_close (self, parent, "a child is skipped: its owner's limit");
          continue;
        }
      if (wanted == NULL || !ow_registry_check_limits (self, client, cgroup, wanted, payers, &error)
          || !ow_registry_add_all (self, names[i], wanted, payers, TRUE, OW_SOURCE_BASELINE_ZERO,
                                   &error))
        {
          vanished |= g_error_matches (error, OOMWATCH_ERROR, OOMWATCH_ERROR_NO_SUCH_CGROUP);
          not_followed (self, cgroup, names[i], error);
          continue;
        }
      g_debug ("%s: new cgroup, watched for %s", cgroup, names[i]);
    }
  if (g_hash_table_contains (self->watches, cgroup))
    ow_registry_ledger_open (self, parent);
  else if (vanished)
    ow_registry_ledger_skip_unread (self, parent);
}

static void
on_monitor_created (const char *cgroup, gpointer user_data)
{
  ow_registry_cgroup_created (user_data, cgroup);
}

static guint64
on_monitor_inode (const char *cgroup, gpointer user_data)
{
  OwRegistry *self = user_data;
  OwWatch *watch = g_hash_table_lookup (self->watches, cgroup);

  return watch != NULL && watch->source != NULL ? watch->source->ino : 0;
}

const OwCgroupMonitorListener ow_registry_monitor_listener = {
  .created = on_monitor_created,
  .removed = on_removed,
  .inode = on_monitor_inode,
};
