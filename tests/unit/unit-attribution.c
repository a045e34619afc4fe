/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kill attribution on its own: victims split from counter rises, claims that never repeat,
 * v1 ancestors, forgetting old victims. */
#include "ow-attribution.h"

#include <string.h>

typedef struct
{
  OwAttribution *attribution;
  GHashTable *watched; /* cgroups the lookup says are watched */
  GPtrArray *victims;  /* our references, so tests can name them */
} Fixture;

static gboolean
is_watched (const char *cgroup, gpointer user_data)
{
  Fixture *f = user_data;

  return g_hash_table_contains (f->watched, cgroup);
}

static const OwAttributionLookup lookup = { .is_watched = is_watched };

static void
setup (Fixture *f, gconstpointer version)
{
  f->watched = g_hash_table_new (g_str_hash, g_str_equal);
  f->victims = g_ptr_array_new_with_free_func ((GDestroyNotify)ow_victim_unref);
  f->attribution = ow_attribution_new (GPOINTER_TO_UINT (version), &lookup, f);
}

static void
teardown (Fixture *f, gconstpointer version)
{
  ow_attribution_free (f->attribution);
  g_ptr_array_unref (f->victims);
  g_hash_table_unref (f->watched);
}

static OwVictim *
add_victim (Fixture *f, guint32 pid, const char *task_cgroup)
{
  OwVictim *victim = ow_victim_new ();

  victim->pid = pid;
  victim->comm = g_strdup_printf ("hog%u", pid);
  victim->task_cgroup = g_strdup (task_cgroup);
  ow_attribution_add_victim (f->attribution, victim);
  g_ptr_array_add (f->victims, victim);
  return victim;
}

/* Reports as "CGROUP COUNT TOTAL PID" lines (total "-" without one, pid 0 without a victim). */
static char *
describe (GPtrArray *reports)
{
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; i < reports->len; i++)
    {
      OwReport *r = g_ptr_array_index (reports, i);

      g_assert_cmpint (r->event.kind, ==, OW_EVENT_OOM_KILL);
      g_string_append_printf (out, "%s%s %" G_GUINT64_FORMAT " ", i > 0 ? "; " : "", r->cgroup,
                              r->event.count);
      if (r->event.has_total)
        g_string_append_printf (out, "%" G_GUINT64_FORMAT, r->event.total);
      else
        g_string_append_c (out, '-');
      g_string_append_printf (out, " %u", r->victim != NULL ? r->victim->pid : 0);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
assert_kills (Fixture *f, const char *cgroup, guint64 count, guint64 total, const char *expected)
{
  OwEvent event = { .kind = OW_EVENT_OOM_KILL, .count = count, .has_total = TRUE, .total = total };
  g_autoptr (GPtrArray) reports = ow_attribution_kills (f->attribution, cgroup, &event);
  g_autofree char *got = describe (reports);

  g_assert_cmpstr (got, ==, expected);
}

static void
assert_ancestors (Fixture *f, OwVictim *victim, const char *expected)
{
  g_autoptr (GPtrArray) reports = ow_attribution_victim_ancestors (f->attribution, victim);
  g_autofree char *got = describe (reports);

  g_assert_cmpstr (got, ==, expected);
}

/* A rise of 3 with two named victims: one report each (totals counting up), one for the rest. */
static void
test_split (Fixture *f, gconstpointer data)
{
  add_victim (f, 11, "/a");
  add_victim (f, 12, "/b"); /* elsewhere: not /a's */
  add_victim (f, 13, "/a");
  assert_kills (f, "/a", 3, 10, "/a 1 8 11; /a 1 9 13; /a 1 10 0");
  /* More victims than the rise: the oldest go with it, the newer wait for the next rise. */
  add_victim (f, 14, "/c");
  add_victim (f, 15, "/c");
  assert_kills (f, "/c", 1, 1, "/c 1 1 14");
  assert_kills (f, "/c", 1, 2, "/c 1 2 15");
}

/* A victim is reported once per cgroup, however many rises follow. */
static void
test_claims (Fixture *f, gconstpointer data)
{
  add_victim (f, 21, "/a");
  assert_kills (f, "/a", 1, 1, "/a 1 1 21");
  assert_kills (f, "/a", 1, 2, "/a 1 2 0");
  assert_kills (f, "/a", 2, 4, "/a 2 4 0");
}

/* v2 counters are hierarchical: a parent's rise takes victims from below it, each once. */
static void
test_below_v2 (Fixture *f, gconstpointer data)
{
  add_victim (f, 31, "/p/a");
  add_victim (f, 32, "/p/b/c");
  add_victim (f, 33, "/pp"); /* a sibling whose name starts alike */
  assert_kills (f, "/p/a", 1, 1, "/p/a 1 1 31");
  assert_kills (f, "/p", 2, 2, "/p 1 1 31; /p 1 2 32");
  assert_kills (f, "/p", 1, 3, "/p 1 3 0");
  assert_kills (f, "/", 3, 3, "/ 1 1 31; / 1 2 32; / 1 3 33");
  /* v2 has no ancestors to add. */
  assert_ancestors (f, g_ptr_array_index (f->victims, 0), "");
}

/* v1 counts a kill only in the victim's own cgroup: watched ancestors get the same kills,
 * without a total, and the named victim once each. */
static void
test_v1_ancestors (Fixture *f, gconstpointer data)
{
  OwVictim *victim;

  g_hash_table_add (f->watched, "/p");
  g_hash_table_add (f->watched, "/");
  victim = add_victim (f, 41, "/p/q/a");
  /* Not v2: a parent's own counter does not take its children's victims. */
  assert_kills (f, "/p", 1, 1, "/p 1 1 0; / 1 - 0");
  assert_kills (f, "/p/q/a", 2, 5,
                "/p/q/a 1 4 41; /p/q/a 1 5 0; /p 1 - 41; /p 1 - 0; / 1 - 41; / 1 - 0");
  /* The log's victim reached every watched ancestor already: nothing more from it. */
  assert_ancestors (f, victim, "");
}

/* The log line can come before the counter moves: ancestors hear of it first, and the rise
 * that follows does not repeat it to them. */
static void
test_v1_victim_first (Fixture *f, gconstpointer data)
{
  OwVictim *victim;

  g_hash_table_add (f->watched, "/p");
  victim = add_victim (f, 51, "/p/a");
  assert_ancestors (f, victim, "/p 1 - 51");
  assert_ancestors (f, victim, "");
  assert_kills (f, "/p/a", 1, 1, "/p/a 1 1 51");
}

/* Victims are forgotten after a while: a later rise is not given an old name. */
static void
test_expiry (Fixture *f, gconstpointer data)
{
  OwVictim *old = add_victim (f, 61, "/a");
  OwVictim *newer, *newest;

  old->seen -= 11 * G_USEC_PER_SEC;
  newer = add_victim (f, 62, "/a"); /* adding forgets the old ones */
  assert_kills (f, "/a", 2, 2, "/a 1 1 62; /a 1 2 0");
  g_hash_table_add (f->watched, "/");
  newest = add_victim (f, 63, "/b");
  newer->seen -= 11 * G_USEC_PER_SEC;
  newest->seen -= 11 * G_USEC_PER_SEC;
  assert_kills (f, "/b", 1, 1, "/b 1 1 0; / 1 - 0");
  /* Forgotten: no ancestor reports either (too late to tell it from a counted kill). */
  assert_ancestors (f, newest, "");
}

/* A record whose cgroups were ambiguous names no cgroup: it is never attributed. */
static void
test_ambiguous (Fixture *f, gconstpointer data)
{
  OwVictim *victim = add_victim (f, 71, NULL);

  g_hash_table_add (f->watched, "/");
  assert_kills (f, "/a", 1, 1, "/a 1 1 0; / 1 - 0");
  assert_ancestors (f, victim, "");
}

/* The kernel log is no longer read: every victim is forgotten. */
static void
test_clear (Fixture *f, gconstpointer data)
{
  add_victim (f, 81, "/a");
  ow_attribution_clear (f->attribution);
  assert_kills (f, "/a", 1, 1, "/a 1 1 0");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, version, func)                                                                   \
  g_test_add (path, Fixture, GUINT_TO_POINTER (version), setup, func, teardown)
  ADD ("/attribution/split", 2, test_split);
  ADD ("/attribution/claims", 2, test_claims);
  ADD ("/attribution/below-v2", 2, test_below_v2);
  ADD ("/attribution/v1-ancestors", 1, test_v1_ancestors);
  ADD ("/attribution/v1-victim-first", 1, test_v1_victim_first);
  ADD ("/attribution/expiry", 1, test_expiry);
  ADD ("/attribution/ambiguous", 1, test_ambiguous);
  ADD ("/attribution/clear", 2, test_clear);
  return g_test_run ();
}
