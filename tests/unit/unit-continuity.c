/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of continuity across restarts (seq, history, saved counters, metrics): no root,
 * no bus, no cgroups. */
#include "ow-config.h"
#include "ow-counter-store.h"
#include "ow-history-file.h"
#include "ow-inflight.h"
#include <sys/stat.h>
#include "ow-metrics.h"
#include "ow-seq.h"
#include "ow-test-continuity.h"
#include "oomwatch-error.h"

#include <glib/gstdio.h>
#include <string.h>

static char *
make_tmpdir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("oomwatch-unit-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

/* seq */

static void
test_seq_restarts (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "seq", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *epoch = NULL;
  guint64 last = 0;

  /* Three runs in one boot, each killed at a different point of its block: never a repeat. */
  for (guint run = 0; run < 3; run++)
    {
      g_autoptr (OwSeq) seq = ow_seq_open (path, "boot-a", 4, &error);
      guint64 first;

      g_assert_no_error (error);
      if (run == 0)
        epoch = g_strdup (ow_seq_epoch (seq));
      g_assert_cmpstr (ow_seq_epoch (seq), ==, epoch);
      first = ow_seq_next (seq);
      g_assert_cmpuint (first, >, last);
      last = first;
      for (guint i = 0; i < run * 5; i++) /* crosses blocks of 4 */
        {
          guint64 next = ow_seq_next (seq);

          g_assert_cmpuint (next, ==, last + 1);
          last = next;
        }
      g_assert_cmpuint (ow_seq_last (seq), ==, last);
    }
  /* Another boot starts again. */
  {
    g_autoptr (OwSeq) seq = ow_seq_open (path, "boot-b", 4, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (ow_seq_last (seq), ==, 0);
    g_assert_cmpuint (ow_seq_next (seq), ==, 1);
    g_assert_cmpstr (ow_seq_epoch (seq), !=, epoch);
  }
  /* Garbage is another boot too, not a failure. */
  g_assert_true (g_file_set_contents (path, "boot-b notanumber\n", -1, NULL));
  {
    g_autoptr (OwSeq) seq = ow_seq_open (path, "boot-b", 4, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (ow_seq_next (seq), ==, 1);
  }
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_seq_unwritable (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (OwSeq) seq = ow_seq_open ("/nonexistent-dir/seq", "boot", 4, &error);
  g_autofree char *boot_id = ow_seq_read_boot_id ("/nonexistent-file");

  g_assert_null (seq);
  g_assert_nonnull (error);
  g_assert_cmpstr (boot_id, ==, "");
}

/* history */

static OwHistoryEntry *
entry_new (guint64 seq, const char *cgroup, guint32 watcher, gint victim)
{
  g_auto (GVariantDict) details = G_VARIANT_DICT_INIT (NULL);
  OwHistoryEntry *entry;

  g_variant_dict_insert (&details, "seq", "t", seq);
  if (victim >= 0)
    {
      g_variant_dict_insert (&details, "pid", "u", 4242);
      g_variant_dict_insert (&details, "comm", "s", "hog");
      g_variant_dict_insert (&details, "uid", "u", (guint32)victim);
    }
  g_variant_dict_insert (&details, "task-cgroup", "s", cgroup);
  entry = ow_history_entry_new ("OomEvent", cgroup, "oom-kill", 1, g_variant_dict_end (&details),
                                (gint64)seq * 1000);
  entry->seq = seq;
  ow_history_entry_add_uid (entry, watcher);
  ow_history_entry_add_uid (entry, watcher); /* once only */
  g_assert_cmpuint (entry->n_uids, ==, 1);
  entry->has_victim_uid = victim >= 0;
  entry->victim_uid = victim >= 0 ? (guint32)victim : 0;
  return entry;
}

static gboolean
watches_b_now (const char *cgroup, guint32 uid, gpointer user_data)
{
  return uid == 2000 && strcmp (cgroup, "/b") == 0;
}

static guint64
nth_seq (GVariant *events, gsize i)
{
  g_autoptr (GVariant) event = g_variant_get_child_value (events, i);
  guint64 seq = 0;

  g_assert_true (g_variant_lookup (event, "seq", "t", &seq));
  return seq;
}

static void
test_history_ring_and_privacy (void)
{
  g_autoptr (OwHistory) history = ow_history_new (5);
  g_autoptr (GVariant) all = NULL, after = NULL, newest = NULL, user = NULL, other = NULL;
  g_autoptr (GVariant) since = NULL;
  g_autoptr (GVariant) first = NULL, details = NULL;
  guint32 pid;

  for (guint64 seq = 1; seq <= 8; seq++)
    ow_history_append (history, entry_new (seq, seq % 2 ? "/a" : "/b", seq % 2 ? 1000 : 0,
                                           seq == 7   ? 1000
                                           : seq == 8 ? 3000
                                                      : -1));
  /* Bounded: the 5 newest. */
  g_assert_cmpuint (ow_history_length (history), ==, 5);
  g_assert_cmpuint (ow_history_oldest_seq (history), ==, 4);
  all = g_variant_ref_sink (ow_history_query (history, 0, 0, 0, 0, NULL, NULL));
  g_assert_cmpuint (g_variant_n_children (all), ==, 5);
  g_assert_cmpuint (nth_seq (all, 0), ==, 4);
  g_assert_cmpuint (nth_seq (all, 4), ==, 8);
  after = g_variant_ref_sink (ow_history_query (history, 6, 0, 0, 0, NULL, NULL));
  g_assert_cmpuint (g_variant_n_children (after), ==, 2);
  g_assert_cmpuint (nth_seq (after, 0), ==, 7);
  newest = g_variant_ref_sink (ow_history_query (history, 0, 0, 1, 0, NULL, NULL));
  g_assert_cmpuint (g_variant_n_children (newest), ==, 1);
  g_assert_cmpuint (nth_seq (newest, 0), ==, 8);
  since = g_variant_ref_sink (ow_history_query (history, 0, 7000, 0, 0, NULL, NULL));
  g_assert_cmpuint (g_variant_n_children (since), ==, 2);

  /* uid 1000 watched /a: sees 5 and 7; 7's victim is its own, so it keeps the pid. */
  user = g_variant_ref_sink (ow_history_query (history, 0, 0, 0, 1000, watches_b_now, NULL));
  g_assert_cmpuint (g_variant_n_children (user), ==, 2);
  g_assert_cmpuint (nth_seq (user, 1), ==, 7);
  first = g_variant_get_child_value (user, 1);
  g_assert_true (g_variant_lookup (first, "details", "@a{sv}", &details));
  g_assert_true (g_variant_lookup (details, "pid", "u", &pid));
  g_clear_pointer (&details, g_variant_unref);
  g_clear_pointer (&first, g_variant_unref);
  /* uid 2000 watches /b now: sees 4, 6, 8; 8's victim is uid 3000: no identity. */
  other = g_variant_ref_sink (ow_history_query (history, 0, 0, 0, 2000, watches_b_now, NULL));
  g_assert_cmpuint (g_variant_n_children (other), ==, 3);
  first = g_variant_get_child_value (other, 2);
  g_assert_true (g_variant_lookup (first, "details", "@a{sv}", &details));
  g_assert_false (g_variant_lookup (details, "pid", "u", &pid));
  g_assert_false (g_variant_lookup (details, "comm", "&s", NULL));
  g_assert_false (g_variant_lookup (details, "uid", "u", &pid));
  g_assert_true (g_variant_lookup (details, "task-cgroup", "&s", NULL));
  g_assert_true (g_variant_lookup (details, "seq", "t", NULL));

  /* Shrinking drops the oldest. */
  ow_history_set_capacity (history, 2);
  g_assert_cmpuint (ow_history_oldest_seq (history), ==, 7);
  ow_history_set_capacity (history, 0);
  g_assert_cmpuint (ow_history_length (history), ==, 0);
  g_assert_cmpuint (ow_history_oldest_seq (history), ==, 0);
}

/* The history survives a restart of the daemon; a torn last line is skipped; the file stays
 * bounded. */
/* An entry's watchers: the first two kept in the entry, more beside it; each once; all of
 * them written to the history file and read back. */
static void
test_history_entry_uids (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "history", NULL);
  g_autoptr (GError) error = NULL;
  const guint32 uids[] = { 1000, 1001, 1002, 1003, 1004 };

  {
    g_autoptr (OwHistory) history = ow_history_new (4);
    g_autoptr (OwHistoryFile) file = ow_history_file_open (path, history, &error);
    OwHistoryEntry *entry = entry_new (1, "/a", uids[0], -1);

    g_assert_no_error (error);
    for (guint i = 0; i < G_N_ELEMENTS (uids); i++)
      {
        ow_history_entry_add_uid (entry, uids[i]);
        ow_history_entry_add_uid (entry, uids[0]);
        g_assert_cmpuint (entry->n_uids, ==, i + 1);
      }
    for (guint i = 0; i < G_N_ELEMENTS (uids); i++)
      g_assert_true (ow_history_visible (entry, uids[i], NULL, NULL));
    g_assert_false (ow_history_visible (entry, 999, NULL, NULL));
    ow_history_append (history, entry);
    ow_history_file_append (file, history, entry);
  }
  {
    g_autoptr (OwHistory) history = ow_history_new (4);
    g_autoptr (OwHistoryFile) file = ow_history_file_open (path, history, &error);
    g_autoptr (GList) entries = ow_history_entries (history);
    const OwHistoryEntry *entry;

    g_assert_no_error (error);
    g_assert_nonnull (file);
    g_assert_cmpuint (g_list_length (entries), ==, 1);
    entry = entries->data;
    g_assert_cmpuint (entry->n_uids, ==, G_N_ELEMENTS (uids));
    for (guint i = 0; i < G_N_ELEMENTS (uids); i++)
      g_assert_cmpuint (entry->uids[i], ==, uids[i]);
  }
}

static void
test_history_file (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "history", NULL);
  g_autoptr (GError) error = NULL;
  struct stat st;

  {
    g_autoptr (OwHistory) history = ow_history_new (4);
    g_autoptr (OwHistoryFile) file = ow_history_file_open (path, history, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (ow_history_length (history), ==, 0);
    for (guint64 seq = 1; seq <= 30; seq++)
      {
        OwHistoryEntry *entry = entry_new (seq, "/a\"b\n", 1000, seq == 30 ? 1000 : -1);

        ow_history_append (history, entry);
        ow_history_file_append (file, history, entry);
      }
  }
  g_assert_cmpint (stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (st.st_size, <, 40 * 400); /* compacted, not 30 entries' worth and growing */
  {
    /* a crash in the middle of writing entry 31: the first half of its line */
    g_autofree char *text = NULL, *torn = NULL;
    char *last;

    g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
    text[strlen (text) - 1] = '\0';
    last = strrchr (text, '\n') + 1;
    g_assert_true (g_str_has_prefix (last, "b "));
    torn = g_strconcat (text, "\n", last, NULL);
    torn[strlen (text) + 1 + strlen (last) / 2] = '\0';
    g_assert_true (g_file_set_contents (path, torn, -1, NULL));
  }
  {
    g_autoptr (OwHistory) history = ow_history_new (4);
    g_autoptr (OwHistoryFile) file = ow_history_file_open (path, history, &error);
    g_autoptr (GVariant) all = NULL;
    g_autoptr (GVariant) last = NULL;
    g_autoptr (GVariant) details = NULL;
    const char *cgroup;
    guint32 pid;

    g_assert_no_error (error);
    g_assert_nonnull (file);
    g_assert_cmpuint (ow_history_length (history), ==, 4);
    g_assert_cmpuint (ow_history_oldest_seq (history), ==, 27);
    /* Who may see them came along: uid 1000 watched; uid 2000 did not. */
    all = g_variant_ref_sink (ow_history_query (history, 0, 0, 0, 1000, NULL, NULL));
    g_assert_cmpuint (g_variant_n_children (all), ==, 4);
    g_clear_pointer (&all, g_variant_unref);
    all = g_variant_ref_sink (ow_history_query (history, 0, 0, 0, 2000, NULL, NULL));
    g_assert_cmpuint (g_variant_n_children (all), ==, 0);
    g_clear_pointer (&all, g_variant_unref);
    all = g_variant_ref_sink (ow_history_query (history, 0, 0, 0, 1000, NULL, NULL));
    last = g_variant_get_child_value (all, 3);
    g_assert_true (g_variant_lookup (last, "cgroup", "&s", &cgroup));
    g_assert_cmpstr (cgroup, ==, "/a\"b\n");
    g_assert_true (g_variant_lookup (last, "details", "@a{sv}", &details));
    g_assert_true (g_variant_lookup (details, "pid", "u", &pid)); /* its own victim */
  }
  ow_test_remove_tree (dir);
}

/* Entries written out keep no details in memory: History() reads them back from their line,
 * also after the file was compacted under them. */
static void
test_history_details_in_file (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "history", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (OwHistory) history = ow_history_new (8);
  g_autoptr (OwHistoryFile) file = ow_history_file_open (path, history, &error);

  g_assert_no_error (error);
  for (guint64 seq = 1; seq <= 40; seq++)
    {
      g_autofree char *cgroup = g_strdup_printf ("/c%" G_GUINT64_FORMAT, seq);
      OwHistoryEntry *entry = entry_new (seq, cgroup, 1000, 1000);
      g_autoptr (GVariant) all = NULL;

      ow_history_append (history, entry);
      ow_history_file_append (file, history, entry);
      g_assert_null (entry->details);
      all = g_variant_ref_sink (ow_history_query (history, 0, 0, 0, 0, NULL, NULL));
      g_assert_cmpuint (g_variant_n_children (all), ==, MIN (seq, 8));
      for (gsize i = 0; i < g_variant_n_children (all); i++)
        {
          g_autoptr (GVariant) event = g_variant_get_child_value (all, i);
          g_autoptr (GVariant) details = NULL;
          g_autofree char *expected = NULL;
          const char *task_cgroup = NULL;
          guint64 event_seq = 0, details_seq = 0;

          g_assert_true (g_variant_lookup (event, "seq", "t", &event_seq));
          g_assert_true (g_variant_lookup (event, "details", "@a{sv}", &details));
          g_assert_true (g_variant_lookup (details, "seq", "t", &details_seq));
          g_assert_true (g_variant_lookup (details, "task-cgroup", "&s", &task_cgroup));
          expected = g_strdup_printf ("/c%" G_GUINT64_FORMAT, event_seq);
          g_assert_cmpuint (details_seq, ==, event_seq);
          g_assert_cmpstr (task_cgroup, ==, expected);
        }
    }
  ow_test_remove_tree (dir);
}

/* The text form earlier versions wrote is read, a torn last line of it skipped. */
static void
test_history_file_text_form (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "history", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) text = g_string_new (NULL);

  for (guint64 seq = 1; seq <= 3; seq++)
    {
      OwHistoryEntry *entry = entry_new (seq, "/a", 1000, -1);
      g_autoptr (GVariant) uids = g_variant_ref_sink (g_variant_new_fixed_array (
          G_VARIANT_TYPE_UINT32, entry->uids, entry->n_uids, sizeof (guint32)));
      g_autoptr (GVariant) value = g_variant_ref_sink (g_variant_new (
          "(txssst@a{sv}@aubu)", entry->seq, entry->time, entry->signal, entry->cgroup,
          entry->kind, entry->count, entry->details, uids, entry->has_victim_uid,
          entry->victim_uid));
      g_autofree char *line = g_variant_print (value, FALSE);

      g_string_append_printf (text, "%s\n", line);
      ow_history_entry_free (entry);
    }
  g_string_append (text, "(uint64 4, int64 31000, 'OomEv");
  g_assert_true (g_file_set_contents (path, text->str, -1, NULL));
  {
    g_autoptr (OwHistory) history = ow_history_new (8);
    g_autoptr (OwHistoryFile) file = ow_history_file_open (path, history, &error);

    g_assert_no_error (error);
    g_assert_nonnull (file);
    g_assert_cmpuint (ow_history_length (history), ==, 3);
    g_assert_cmpuint (ow_history_oldest_seq (history), ==, 1);
  }
  ow_test_remove_tree (dir);
}

/* counter store */

static OwCounters
v1_counters (guint64 kills)
{
  OwCounters counters = { 0 };

  counters.has[OW_COUNTER_OOM_KILL] = TRUE;
  counters.value[OW_COUNTER_OOM_KILL] = kills;
  return counters;
}

/* Numbers at their limits (0, 9, 10, the largest) are written to the log and read back as
 * they were; a counter not kept stays not kept. */
static void
test_counter_store_numbers (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autoptr (GError) error = NULL;
  const guint64 numbers[] = { 0, 9, 10, 1234567890123, G_MAXUINT64 };

  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);

    g_assert_no_error (error);
    for (guint i = 0; i < G_N_ELEMENTS (numbers); i++)
      {
        g_autofree char *cgroup = g_strdup_printf ("/n%u", i);
        OwCounters baseline = v1_counters (numbers[i]);
        OwCounters missed;
        OwCounterEntry *entry
            = ow_counter_store_reconcile (store, cgroup, numbers[i], &baseline, &missed);

        g_assert_true (ow_counter_store_save (store, entry, &error));
        ow_counter_store_reported (store, cgroup, OW_COUNTER_OOM, numbers[i], FALSE, 0, FALSE);
      }
  }
  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);

    g_assert_no_error (error);
    for (guint i = 0; i < G_N_ELEMENTS (numbers); i++)
      {
        g_autofree char *cgroup = g_strdup_printf ("/n%u", i);
        OwCounterEntry *entry = ow_counter_store_lookup (store, cgroup);

        g_assert_nonnull (entry);
        g_assert_cmpuint (entry->ino, ==, numbers[i]);
        g_assert_true (entry->seen.has[OW_COUNTER_OOM_KILL]);
        g_assert_cmpuint (entry->seen.value[OW_COUNTER_OOM_KILL], ==, numbers[i]);
        g_assert_false (entry->seen.has[OW_COUNTER_OOM]);
        g_assert_cmpuint (entry->reported[OW_COUNTER_OOM], ==, numbers[i]);
        g_assert_cmpuint (entry->reported[OW_COUNTER_OOM_KILL], ==, 0);
      }
  }
}

static void
test_counter_store_restart (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autoptr (GError) error = NULL;
  OwCounters baseline, missed;
  OwCounterEntry *entry;

  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);

    g_assert_no_error (error);
    baseline = v1_counters (3);
    entry = ow_counter_store_reconcile (store, "/a", 77, &baseline, &missed);
    g_assert_false (missed.has[OW_COUNTER_OOM_KILL]); /* new: nothing missed */
    g_assert_true (ow_counter_store_save (store, entry, &error));
    ow_counter_store_reported (store, "/a", OW_COUNTER_OOM_KILL, 2, TRUE, 5, FALSE);
    ow_counter_store_reported (store, "/a", OW_COUNTER_OOM, 4, FALSE, 0, FALSE);
    baseline = v1_counters (0);
    ow_counter_store_save (
        store, ow_counter_store_reconcile (store, "/gone", 1, &baseline, &missed), &error);
    ow_counter_store_forget (store, "/gone");
    /* ... killed here */
  }
  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);
    g_autoptr (GList) entries = ow_counter_store_entries (store);

    g_assert_no_error (error);
    g_assert_cmpuint (g_list_length (entries), ==, 1);
    entry = ow_counter_store_lookup (store, "/a");
    g_assert_nonnull (entry);
    g_assert_true (entry->pending);
    g_assert_cmpuint (entry->reported[OW_COUNTER_OOM_KILL], ==, 2);
    g_assert_cmpuint (entry->reported[OW_COUNTER_OOM], ==, 4);
    /* 5 kills while down: the kernel says 10 */
    baseline = v1_counters (10);
    entry = ow_counter_store_reconcile (store, "/a", 77, &baseline, &missed);
    g_assert_true (missed.has[OW_COUNTER_OOM_KILL]);
    g_assert_cmpuint (missed.value[OW_COUNTER_OOM_KILL], ==, 5);
    g_assert_true (ow_counter_store_save (store, entry, &error));
    /* Only once: watched again in the same run, nothing more is missed. */
    ow_counter_store_reconcile (store, "/a", 77, &baseline, &missed);
    g_assert_false (missed.has[OW_COUNTER_OOM_KILL]);
    /* ... killed before the 5 were told */
  }
  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);

    baseline = v1_counters (10);
    entry = ow_counter_store_reconcile (store, "/a", 77, &baseline, &missed);
    g_assert_cmpuint (missed.value[OW_COUNTER_OOM_KILL], ==, 5);
    ow_counter_store_reported (store, "/a", OW_COUNTER_OOM_KILL, 5, TRUE, 10, TRUE);
    g_assert_cmpuint (entry->reported[OW_COUNTER_OOM_KILL], ==, 7);
    /* An older total afterwards moves nothing back. */
    ow_counter_store_reported (store, "/a", OW_COUNTER_OOM_KILL, 0, TRUE, 8, FALSE);
    g_assert_cmpuint (entry->seen.value[OW_COUNTER_OOM_KILL], ==, 10);
  }
  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);

    /* Told: nothing twice. A cgroup made anew (other inode) counts from zero. */
    baseline = v1_counters (10);
    ow_counter_store_reconcile (store, "/a", 77, &baseline, &missed);
    g_assert_cmpuint (missed.value[OW_COUNTER_OOM_KILL], ==, 0);
    ow_counter_store_forget (store, "/a");
  }
  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);
    OwCounterEntry *other;

    g_assert_null (ow_counter_store_lookup (store, "/a"));
    baseline = v1_counters (1);
    other = ow_counter_store_reconcile (store, "/b", 5, &baseline, &missed);
    ow_counter_store_save (store, other, &error);
  }
  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);

    baseline = v1_counters (4);
    ow_counter_store_reconcile (store, "/b", 6, &baseline, &missed);
    g_assert_cmpuint (missed.value[OW_COUNTER_OOM_KILL], ==, 4);
  }
  ow_test_remove_tree (dir);
}

/* Events reported while an entry is still pending (v2 reads twice at creation) are not missed. */
static void
test_counter_store_pending_events (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autoptr (GError) error = NULL;
  OwCounters baseline = v1_counters (10), missed;

  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);

    ow_counter_store_save (store, ow_counter_store_reconcile (store, "/p", 1, &baseline, &missed),
                           &error);
  }
  {
    g_autoptr (OwCounterStore) store = ow_counter_store_open (dir, &error);

    ow_counter_store_reported (store, "/p", OW_COUNTER_OOM_KILL, 1, TRUE, 16, FALSE);
    baseline = v1_counters (16);
    ow_counter_store_reconcile (store, "/p", 1, &baseline, &missed);
    g_assert_cmpuint (missed.value[OW_COUNTER_OOM_KILL], ==, 5);
  }
  ow_test_remove_tree (dir);
}

/* A signal told again after a restart (an older seq) takes its place in seq order, once. */
static void
test_history_told_again (void)
{
  g_autoptr (OwHistory) history = ow_history_new (3);
  g_autoptr (GVariant) all = NULL;
  const guint64 order[] = { 5, 7, 6 };

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    g_assert_true (ow_history_append (history, entry_new (order[i], "/a", 0, 0)));
  g_assert_false (ow_history_append (history, entry_new (6, "/a", 0, 0)));
  g_assert_false (ow_history_append (history, entry_new (4, "/a", 0, 0))); /* full, older */
  all = ow_history_query (history, 0, 0, 0, 0, NULL, NULL);
  g_assert_cmpuint (g_variant_n_children (all), ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (nth_seq (all, i), ==, 5 + i);
  g_assert_cmpuint (ow_history_oldest_seq (history), ==, 5);
}

/* in-flight marks */

static void
test_inflight_marks (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "inflight", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (OwInflight) first = ow_inflight_open (path, FALSE, &error);
  g_autoptr (OwInflight) next = NULL;
  g_autoptr (GArray) left = NULL;
  guint done, kept, again;

  g_assert_no_error (error);
  /* A run marks four, records one fully and one half, and is killed (its mapping stays). */
  done = ow_inflight_sent (first, "/a", OW_COUNTER_OOM_KILL, 7, 1, 3);
  kept = ow_inflight_sent (first, "/a", OW_COUNTER_OOM_KILL, 9, 1, 4);
  ow_inflight_sent (first, "/a", OW_COUNTER_OOM, 8, 2, 5);
  ow_inflight_sent (first, "/b", OW_COUNTER_OOM_KILL, 10, 1, 1);
  g_assert_cmpuint (done, !=, kept);
  ow_inflight_done (first, done);
  ow_inflight_kept (first, kept);

  next = ow_inflight_open (path, FALSE, &error);
  g_assert_no_error (error);
  left = ow_inflight_left (next, "/a");
  g_assert_cmpuint (left->len, ==, 2);
  g_assert_cmpuint (g_array_index (left, OwInflightMark, 0).seq, ==, 8);
  g_assert_cmpuint (g_array_index (left, OwInflightMark, 0).state, ==, OW_INFLIGHT_SENT);
  g_assert_cmpuint (g_array_index (left, OwInflightMark, 0).counter, ==, OW_COUNTER_OOM);
  g_assert_cmpuint (g_array_index (left, OwInflightMark, 0).count, ==, 2);
  g_assert_cmpuint (g_array_index (left, OwInflightMark, 0).total, ==, 5);
  g_assert_cmpuint (g_array_index (left, OwInflightMark, 1).seq, ==, 9);
  g_assert_cmpuint (g_array_index (left, OwInflightMark, 1).state, ==, OW_INFLIGHT_KEPT);
  g_clear_pointer (&left, g_array_unref);

  /* Told again: seq 8 keeps its slot; new marks never take a slot still left over. */
  g_assert_cmpuint (ow_inflight_claim (next, 77), ==, OW_INFLIGHT_NONE);
  again = ow_inflight_claim (next, 8);
  g_assert_cmpuint (again, !=, OW_INFLIGHT_NONE);
  for (guint i = 0; i < OW_INFLIGHT_SLOTS; i++)
    {
      guint slot = ow_inflight_sent (next, "/c", OW_COUNTER_OOM_KILL, 100 + i, 1, i);

      g_assert_cmpuint (slot, !=, kept);
      g_assert_cmpuint (slot, !=, again);
      if (i >= OW_INFLIGHT_SLOTS - 3) /* 9 and 10 are left, 8 is this run's */
        g_assert_cmpuint (slot, ==, OW_INFLIGHT_NONE);
    }
  /* Full: the oldest mark left over (9) gives way. */
  g_assert_true (ow_inflight_evict (next));
  g_assert_cmpuint (ow_inflight_sent (next, "/e", OW_COUNTER_OOM_KILL, 600, 1, 1), ==, kept);
  ow_inflight_forget (next, "/a", 9);
  left = ow_inflight_left (next, "/a");
  g_assert_cmpuint (left->len, ==, 0); /* 8 is this run's now, 9 forgotten */
  g_clear_pointer (&left, g_array_unref);
  ow_inflight_forget (next, "/b", 0);
  g_assert_cmpuint (ow_inflight_sent (next, "/d", OW_COUNTER_OOM_KILL, 500, 1, 1), !=,
                    OW_INFLIGHT_NONE);
  g_clear_pointer (&next, ow_inflight_free);
  g_clear_pointer (&first, ow_inflight_free);

  /* Numbering started again: nothing is left. Garbage is dropped the same way. */
  next = ow_inflight_open (path, TRUE, &error);
  g_assert_no_error (error);
  left = ow_inflight_left (next, "/c");
  g_assert_cmpuint (left->len, ==, 0);
  g_clear_pointer (&left, g_array_unref);
  g_assert_false (ow_inflight_evict (next));
  g_clear_pointer (&next, ow_inflight_free);
  /* A file of the right size whose every byte says "in flight", without the magic. */
  {
    gsize size = 16 + OW_INFLIGHT_SLOTS * sizeof (OwInflightMark);
    g_autofree char *garbage = g_malloc (size);

    memset (garbage, 1, size);
    g_assert_true (g_file_set_contents (path, garbage, (gssize)size, NULL));
  }
  next = ow_inflight_open (path, FALSE, &error);
  g_assert_no_error (error);
  g_assert_false (ow_inflight_evict (next)); /* nothing left over */
  for (guint i = 0; i < OW_INFLIGHT_SLOTS; i++)
    g_assert_cmpuint (ow_inflight_sent (next, "/f", OW_COUNTER_OOM_KILL, 700 + i, 1, i), !=,
                      OW_INFLIGHT_NONE);
  g_clear_pointer (&next, ow_inflight_free);
  ow_test_remove_tree (dir);
}

/* metrics */

static void
test_metrics_render (void)
{
  const guint64 a[OW_N_COUNTERS] = { 3, 2, 0 };
  const guint64 b[OW_N_COUNTERS] = { 0, 1000, 1 };
  const OwMetricsRow rows[]
      = { { "/system.slice/web.service/worker", a }, { "/odd\"name\\x\nnl", b } };
  g_autofree char *text = ow_metrics_render (rows, 2, 7, OW_METRICS_PROMETHEUS);
  g_autofree char *open = ow_metrics_render (rows, 2, 7, OW_METRICS_OPENMETRICS);
  g_autofree char *unit = ow_metrics_unit_of ("/user.slice/user-1000.slice/app-x.scope/sub");

  g_assert_nonnull (strstr (text, "# TYPE oomwatch_oom_kills_total counter\n"));
  g_assert_nonnull (strstr (text, "oomwatch_oom_kills_total{cgroup=\"/system.slice/web.service/"
                                  "worker\",unit=\"web.service\"} 2\n"));
  g_assert_nonnull (strstr (text, "oomwatch_oom_kills_total{cgroup=\"/odd\\\"name\\\\x\\nnl\","
                                  "unit=\"\"} 1000\n"));
  g_assert_nonnull (strstr (text, "oomwatch_ooms_total{cgroup=\"/system.slice/web.service/"
                                  "worker\",unit=\"web.service\"} 3\n"));
  g_assert_nonnull (strstr (text, "oomwatch_oom_group_kills_total{"));
  g_assert_nonnull (strstr (text, "# TYPE oomwatch_watches gauge\noomwatch_watches 7\n"));
  g_assert_null (strstr (text, "# EOF"));
  g_assert_nonnull (strstr (open, "# TYPE oomwatch_oom_kills counter\n"));
  g_assert_true (g_str_has_suffix (open, "# EOF\n"));
  g_assert_cmpstr (unit, ==, "app-x.scope");
  g_free (unit);
  unit = ow_metrics_unit_of ("/");
  g_assert_cmpstr (unit, ==, "");
}

static void
test_metrics_write (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "oomwatch.prom", NULL);
  g_autofree char *read = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) listing = NULL;

  g_assert_true (ow_metrics_write (path, "a 1\n", &error));
  g_assert_true (ow_metrics_write (path, "a 2\n", &error));
  g_assert_true (g_file_get_contents (path, &read, NULL, NULL));
  g_assert_cmpstr (read, ==, "a 2\n");
  /* Nothing but the file is left: the temporary one was renamed over it. */
  listing = g_dir_open (dir, 0, NULL);
  g_assert_cmpstr (g_dir_read_name (listing), ==, "oomwatch.prom");
  g_assert_null (g_dir_read_name (listing));
  g_assert_false (ow_metrics_write ("/nonexistent-dir/x.prom", "a 1\n", &error));
  ow_test_remove_tree (dir);
}

/* config */

static void
test_config_keys (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "oomwatch.conf", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (OwConfig) config = NULL;

  g_assert_true (
      g_file_set_contents (path, "[Daemon]\nHistorySize=10\nMetricsFile=/x/o.prom\n", -1, NULL));
  config = ow_config_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (config->history_size, ==, 10);
  g_assert_cmpstr (config->metrics_file, ==, "/x/o.prom");
  g_clear_pointer (&config, ow_config_free);
  g_assert_true (g_file_set_contents (path, "[Daemon]\nMetricsFile=relative.prom\n", -1, NULL));
  g_assert_null (ow_config_load (path, &error));
  g_assert_error (error, OOMWATCH_ERROR, OOMWATCH_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, "[Daemon]\nHistorySize=-1\n", -1, NULL));
  g_assert_null (ow_config_load (path, &error));
  g_clear_error (&error);
  ow_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/continuity/seq-restarts", test_seq_restarts);
  g_test_add_func ("/continuity/seq-unwritable", test_seq_unwritable);
  g_test_add_func ("/continuity/history", test_history_ring_and_privacy);
  g_test_add_func ("/continuity/history-entry-uids", test_history_entry_uids);
  g_test_add_func ("/continuity/history-file", test_history_file);
  g_test_add_func ("/continuity/history-file-text-form", test_history_file_text_form);
  g_test_add_func ("/continuity/history-details-in-file", test_history_details_in_file);
  g_test_add_func ("/continuity/counter-store-numbers", test_counter_store_numbers);
  g_test_add_func ("/continuity/counter-store-restart", test_counter_store_restart);
  g_test_add_func ("/continuity/counter-store-pending-events", test_counter_store_pending_events);
  g_test_add_func ("/continuity/history-told-again", test_history_told_again);
  g_test_add_func ("/continuity/inflight-marks", test_inflight_marks);
  g_test_add_func ("/continuity/metrics-render", test_metrics_render);
  g_test_add_func ("/continuity/metrics-write", test_metrics_write);
  g_test_add_func ("/continuity/config-keys", test_config_keys);
  return g_test_run ();
}
