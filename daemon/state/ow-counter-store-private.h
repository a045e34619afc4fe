/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The insides of the counter store, shared by ow-counter-store.c (the entries) and
 * ow-counter-store-log.c (the file they are saved in). */
#pragma once

#include "ow-counter-store.h"

G_BEGIN_DECLS

/* The file in the store's directory that holds its entries. */
#define OW_COUNTER_LOG_NAME "log"

struct _OwCounterStore
{
  char *dir, *log_path;
  int log_fd;      /* the log, open for appending */
  guint records;   /* lines in the log */
  gboolean broken; /* a write failed part-way: compact before appending again */
  GHashTable *entries; /* cgroup → OwCounterEntry */
};

void ow_counter_entry_free (gpointer entry);
/* ENTRY's counter I as saved: what is still owed counts as not seen. */
guint64 ow_counter_entry_saved_seen (const OwCounterEntry *entry, guint i);

/* Reads the log, and the files of earlier versions, into the entries (all pending); TRUE
 * when the log was read whole and there were no others: it may be appended to as it is. */
gboolean ow_counter_store_load (OwCounterStore *self);
/* Opens the log read for appending, if it may be (its records, its mode); FALSE if not. */
gboolean ow_counter_store_reopen (OwCounterStore *self);
/* Appends ENTRY's record / a forgotten CGROUP's to LINE. */
void ow_counter_store_format (GString *line, const OwCounterEntry *entry);
void ow_counter_store_format_forget (GString *line, const char *cgroup);
/* Appends LINE (whole records) to the log, or writes the log anew when it grew too long. */
gboolean ow_counter_store_append (OwCounterStore *self, const GString *line, GError **error);
/* Writes the log anew, one record per entry; every entry is then saved. */
gboolean ow_counter_store_compact (OwCounterStore *self, GError **error);

G_END_DECLS
