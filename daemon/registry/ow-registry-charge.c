/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Who pays for a watch. A client pays for what it asks for, and for what its recursive watches
 * reach, except a cgroup another non-root user owns: that one is paid by its owner, within the
 * owner's limit, once however many clients reach it. So a user who makes cgroups in a subtree
 * delegated to it, under root's recursive watch (the configuration's), spends only its own
 * allowance, never the total that other users' Watch calls need. */
#include "ow-registry-private.h"
#include "ow-str-intern.h"
#include "ow-str-hash.h"
#include "ow-fd.h"
#include "oomwatch-cgroup.h"

#include <sys/stat.h>

typedef struct
{
  guint32 owner;
  guint refs; /* clients' memberships it pays for */
} OwPaid;

static void
uid_count_add (OwRegistry *self, guint32 uid, int delta)
{
  guint count = ow_registry_count_for_uid (self, uid) + (guint)delta;

  if (count == 0)
    g_hash_table_remove (self->uid_counts, GUINT_TO_POINTER (uid));
  else
    g_hash_table_insert (self->uid_counts, GUINT_TO_POINTER (uid), GUINT_TO_POINTER (count));
}

guint
ow_registry_count_for_uid (OwRegistry *self, guint32 uid)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (self->uid_counts, GUINT_TO_POINTER (uid)));
}

guint32
ow_registry_owner_of (OwRegistry *self, const char *cgroup)
{
  g_auto (OwFd) fd = ow_hierarchy_open_cgroup (self->context->hierarchy, cgroup, NULL);
  struct stat st;

  return fd >= 0 && fstat (fd, &st) == 0 ? ow_hierarchy_owner (self->context->hierarchy, st.st_uid)
                                          : 0;
}

/* Every change of a client's cgroups goes through these two, so the per-uid counts are exact. */
void
ow_registry_charge (OwRegistry *self, OwClient *client, const char *cgroup, GHashTable *payers)
{
  OwPaid *paid;

  if (g_hash_table_contains (client->cgroups, cgroup))
    return;
  if (payers == NULL || !g_hash_table_contains (payers, cgroup))
    {
      g_hash_table_insert (client->cgroups, ow_str_intern (cgroup), NULL);
      uid_count_add (self, client->uid, 1);
      return;
    }
  g_hash_table_insert (client->cgroups, ow_str_intern (cgroup), GINT_TO_POINTER (TRUE));
  if ((paid = g_hash_table_lookup (self->paid, cgroup)) == NULL)
    {
      paid = g_new0 (OwPaid, 1);
      paid->owner = GPOINTER_TO_UINT (g_hash_table_lookup (payers, cgroup));
      g_hash_table_insert (self->paid, g_strdup (cgroup), paid);
      uid_count_add (self, paid->owner, 1);
    }
  paid->refs++;
}

void
ow_registry_client_remove_cgroup (OwRegistry *self, OwClient *client, const char *cgroup)
{
  gpointer by_owner;
  OwPaid *paid;

  if (!g_hash_table_lookup_extended (client->cgroups, cgroup, NULL, &by_owner))
    return;
  g_hash_table_remove (client->cgroups, cgroup);
  if (by_owner == NULL)
    uid_count_add (self, client->uid, -1);
  else if ((paid = g_hash_table_lookup (self->paid, cgroup)) != NULL && --paid->refs == 0)
    {
      uid_count_add (self, paid->owner, -1);
      g_hash_table_remove (self->paid, cgroup);
    }
}

/* Skipped cgroups are listed, up to a user's watch limit per owner: a user's mkdirs cannot
 * grow the list without bound. Root's are all listed. */
void
ow_registry_skip (OwRegistry *self, const char *cgroup, guint32 owner, const char *why)
{
  guint count
      = GPOINTER_TO_UINT (g_hash_table_lookup (self->skipped_counts, GUINT_TO_POINTER (owner)));

  ow_log_limit_log (self->log_limit, owner, G_LOG_LEVEL_MESSAGE,
                    "%s: skipped in a recursive watch: %s", cgroup, why);
  if (g_hash_table_contains (self->skipped, cgroup)
      || (owner != 0 && count >= self->limits.client_watch_limit))
    return;
  g_hash_table_insert (self->skipped, g_strdup (cgroup), GUINT_TO_POINTER (owner));
  g_hash_table_insert (self->skipped_counts, GUINT_TO_POINTER (owner),
                       GUINT_TO_POINTER (count + 1));
}

void
ow_registry_unskip (OwRegistry *self, const char *cgroup)
{
  gpointer owner;
  guint count;

  if (!g_hash_table_lookup_extended (self->skipped, cgroup, NULL, &owner))
    return;
  g_hash_table_remove (self->skipped, cgroup);
  count = GPOINTER_TO_UINT (g_hash_table_lookup (self->skipped_counts, owner)) - 1;
  if (count == 0)
    g_hash_table_remove (self->skipped_counts, owner);
  else
    g_hash_table_insert (self->skipped_counts, owner, GUINT_TO_POINTER (count));
}

/* What watches made for users' subtrees may fill of the total: the rest is kept so that one
 * more caller's full allowance always fits. */
static guint
paid_cap (OwRegistry *self)
{
  guint total = self->limits.total_watch_limit;

  return total - MIN (self->limits.client_watch_limit, total / 2);
}

GHashTable *
ow_registry_plan_payers (OwRegistry *self, OwClient *client, GPtrArray *wanted, guint first_below)
{
  GHashTable *payers = g_hash_table_new_full (ow_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) dropped = g_hash_table_new (ow_str_hash, g_str_equal);
  g_autoptr (GHashTable) pending = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr (GPtrArray) kept = g_ptr_array_new_with_free_func (g_free);
  guint new_watches = 0;

  for (guint i = 0; i < wanted->len; i++)
    {
      char *cgroup = g_ptr_array_index (wanted, i);
      g_autofree char *parent = oomwatch_cgroup_parent (cgroup);
      g_autofree char *why = NULL;
      guint32 owner = 0;
      guint planned, held;
      gboolean paid;

      if (i >= first_below && parent != NULL && g_hash_table_contains (dropped, parent))
        {
          g_hash_table_add (dropped, cgroup); /* below a skipped cgroup: not followed */
          continue;
        }
      if (i < first_below || g_hash_table_contains (client->cgroups, cgroup)
          || (owner = ow_registry_owner_of (self, cgroup)) == 0 || owner == client->uid)
        {
          g_ptr_array_add (kept, g_strdup (cgroup));
          continue;
        }
      paid = g_hash_table_contains (self->paid, cgroup);
      planned = GPOINTER_TO_UINT (g_hash_table_lookup (pending, GUINT_TO_POINTER (owner)));
      held = ow_registry_count_for_uid (self, owner) + planned;
      if (!paid && held + 1 > self->limits.client_watch_limit)
        why = g_strdup_printf ("its owner, uid %u, already holds %u watches, its limit is %u",
                               owner, held, self->limits.client_watch_limit);
      else if (!paid && !g_hash_table_contains (self->watches, cgroup)
               && g_hash_table_size (self->watches) + new_watches + 1 > paid_cap (self))
        why = g_strdup_printf ("the daemon keeps its last %u watches for Watch calls",
                               self->limits.total_watch_limit - paid_cap (self));
      if (why != NULL)
        {
          g_hash_table_add (dropped, cgroup);
          ow_registry_skip (self, cgroup, owner, why);
          continue;
        }
      g_ptr_array_add (kept, g_strdup (cgroup));
      g_hash_table_insert (payers, g_strdup (cgroup), GUINT_TO_POINTER (owner));
      if (!paid)
        {
          g_hash_table_insert (pending, GUINT_TO_POINTER (owner), GUINT_TO_POINTER (planned + 1));
          new_watches += !g_hash_table_contains (self->watches, cgroup);
        }
    }
  /* WANTED takes the kept ones (the dropped set borrowed its strings until now). */
  g_hash_table_remove_all (dropped);
  g_ptr_array_set_size (wanted, 0);
  g_ptr_array_extend_and_steal (wanted, g_steal_pointer (&kept));
  return payers;
}
