/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-reporter.h"
#include "ow-attribution.h"
#include "ow-kmsg.h"

struct _OwReporter
{
  OwRegistry *registry; /* borrowed */
  guint hierarchy;
  char *kernel_log_path;
  OwKmsg *kmsg; /* NULL: victims are not named */
  OwAttribution *attribution;
  OwSignalEmitter *emitter;
  GPtrArray *for_ancestors; /* OwVictim references, v1 */
  guint ancestors_idle_id;
};

/* Sends REPORTS. Those on another cgroup than COUNTED (the one the registry counted already;
 * NULL: none) are v1 kills passed up to watched ancestors: counted on them here, so that their
 * ListWatches counts agree with what they were sent. */
static void
send_reports (OwReporter *self, GPtrArray *reports, const char *counted)
{
  for (guint i = 0; i < reports->len; i++)
    {
      OwReport *report = g_ptr_array_index (reports, i);
      OwWatch *watch;

      if (g_strcmp0 (report->cgroup, counted) != 0
          && (watch = ow_registry_lookup (self->registry, report->cgroup)) != NULL)
        ow_watch_count (watch, &report->event);
      ow_signal_emitter_event (self->emitter, report->cgroup, &report->event, report->victim);
    }
}

void
ow_reporter_event (OwReporter *self, OwWatch *watch, const OwEvent *event)
{
  g_autoptr (GPtrArray) reports = NULL;

  if (event->kind != OW_EVENT_OOM_KILL)
    {
      ow_signal_emitter_event (self->emitter, watch->cgroup, event, NULL);
      return;
    }
  if (self->kmsg != NULL)
    ow_kmsg_drain (self->kmsg);
  reports = ow_attribution_kills (self->attribution, watch->cgroup, event);
  send_reports (self, reports, watch->cgroup);
}

void
ow_reporter_removed (OwReporter *self, OwWatch *watch)
{
  ow_signal_emitter_removed (self->emitter, watch);
}

/* Victims for v1 ancestors wait for the next idle moment, so that the "oom" the eventfds
 * of the same incident signalled (before the kill was logged) goes out first. Each pending
 * victim is a reference of ours: nothing here depends on when, or whether, the idle runs.
 * A v1 kill has no wake-up of its own: the victim's cgroup, if watched, reads its counters
 * now (the kernel counts the kill before it logs it). Its source stops re-reading once it has
 * seen a kill for each OOM signal; a second kill of one OOM handling (a task that failed the
 * OOM lock, killing after the first victim was reaped) is seen here rather than later. */
static gboolean
on_ancestors_idle (gpointer user_data)
{
  OwReporter *self = user_data;
  g_autoptr (GPtrArray) victims = g_steal_pointer (&self->for_ancestors);

  self->ancestors_idle_id = 0;
  self->for_ancestors = g_ptr_array_new_with_free_func ((GDestroyNotify)ow_victim_unref);
  for (guint i = 0; i < victims->len; i++)
    {
      OwVictim *victim = g_ptr_array_index (victims, i);

      ow_registry_sync (self->registry, victim->task_cgroup);
    }
  for (guint i = 0; i < victims->len; i++)
    {
      g_autoptr (GPtrArray) reports
          = ow_attribution_victim_ancestors (self->attribution, g_ptr_array_index (victims, i));

      send_reports (self, reports, NULL);
    }
  return G_SOURCE_REMOVE;
}

static void
on_victim (OwVictim *victim, gpointer user_data)
{
  OwReporter *self = user_data;

  ow_attribution_add_victim (self->attribution, victim);
  if (self->hierarchy != 1 || victim->task_cgroup == NULL)
    return;
  g_ptr_array_add (self->for_ancestors, ow_victim_ref (victim));
  if (self->ancestors_idle_id == 0)
    self->ancestors_idle_id = g_idle_add (on_ancestors_idle, self);
}

static const OwKmsgListener kmsg_listener = {
  .victim = on_victim,
};

gboolean
ow_reporter_set_kernel_log (OwReporter *self, gboolean wanted)
{
  g_autoptr (GError) error = NULL;

  if (!wanted)
    {
      g_clear_pointer (&self->kmsg, ow_kmsg_free);
      ow_attribution_clear (self->attribution);
    }
  else if (self->kmsg == NULL)
    {
      self->kmsg = ow_kmsg_new (self->kernel_log_path, &kmsg_listener, self, &error);
      if (self->kmsg == NULL)
        g_warning ("Victims will not be named: %s", error->message);
    }
  return self->kmsg != NULL;
}

OwSignalEmitter *
ow_reporter_get_emitter (OwReporter *self)
{
  return self->emitter;
}

static gboolean
is_watched (const char *cgroup, gpointer user_data)
{
  OwReporter *self = user_data;

  return ow_registry_lookup (self->registry, cgroup) != NULL;
}

static const OwAttributionLookup attribution_lookup = {
  .is_watched = is_watched,
};

OwReporter *
ow_reporter_new (OwRegistry *registry, OwHierarchy *hierarchy, const char *kernel_log_path)
{
  OwReporter *self = g_new0 (OwReporter, 1);

  self->registry = registry;
  self->hierarchy = ow_hierarchy_get_version (hierarchy);
  self->kernel_log_path = g_strdup (kernel_log_path);
  self->attribution = ow_attribution_new (self->hierarchy, &attribution_lookup, self);
  self->emitter = ow_signal_emitter_new (registry, hierarchy);
  self->for_ancestors = g_ptr_array_new_with_free_func ((GDestroyNotify)ow_victim_unref);
  return self;
}

void
ow_reporter_free (OwReporter *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->ancestors_idle_id, g_source_remove);
  g_clear_pointer (&self->kmsg, ow_kmsg_free);
  g_clear_pointer (&self->for_ancestors, g_ptr_array_unref);
  g_clear_pointer (&self->attribution, ow_attribution_free);
  g_clear_pointer (&self->emitter, ow_signal_emitter_free);
  g_free (self->kernel_log_path);
  g_free (self);
}
