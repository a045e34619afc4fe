/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-dispatcher.h"
#include "ow-attribution.h"
#include "ow-kmsg.h"
#include "ow-sender.h"
#include "oomwatch-names.h"

struct _OwDispatcher
{
  OwRegistry *registry;     /* borrowed */
  OwContinuity *continuity; /* borrowed */
  guint version;
  char *kernel_log_path;
  OwKmsg *kmsg;          /* NULL: victims are not named */
  OwKillWait *kill_wait; /* borrowed: v1 sources told of the kills the log names */
  OwCgroupMemoryFiles *memory_files;
  OwAttribution *attribution;
  OwSender *sender;
  GPtrArray *for_ancestors; /* OwVictim references, v1 */
  guint ancestors_idle_id;
};

/* number → send → record, for one event on CGROUP. */
static void
dispatch (OwDispatcher *self, const char *cgroup, const OwEvent *event, OwVictim *victim)
{
  const OwEventKindInfo *info = ow_event_kind_info (event->kind);
  g_autoptr (GPtrArray) names = ow_sender_recipients (self->sender, cgroup, event->kind);
  g_autoptr (OomwatchUnitInfo) scratch = NULL;
  OwCgroupMemory memory = { 0 };
  OwOomSignal signal = {
    .cgroup = cgroup,
    .event = event,
    .victim = victim,
    .units = ow_registry_units_for (self->registry, cgroup, event, victim, &scratch),
    .memory = &memory,
    .time = g_get_real_time (), /* one time for every copy: live, redacted and History() */
  };
  OwHistoryEntry *entry = NULL;
  g_autoptr (GVariant) sent = NULL; /* the complete details, when a copy carried them */
  guint mark = OW_INFLIGHT_NONE;

  /* Opt-in kinds go only to watchers who asked: with none, there is no signal to number. */
  if (info->opt_in && names->len == 0)
    return;
  signal.seq = event->seq != 0 ? event->seq : ow_continuity_next_seq (self->continuity);
  /* The cgroup's memory at the kill. Not on "oom": reading four files would delay the one
   * signal sent the moment the kernel tells, and the oom-kill that follows carries it. Nor
   * on a kill while down: read now, it would not be the memory at the kill. */
  if (event->kind == OW_EVENT_OOM_KILL && !event->while_down)
    ow_cgroup_memory_read (self->memory_files, cgroup, &memory);
  if (info->kept)
    mark = ow_continuity_begin (self->continuity, cgroup, event, signal.seq);
  sent = ow_sender_oom_event (self->sender, names, &signal);
  if (info->kept)
    entry = ow_continuity_entry (self->continuity, cgroup, event, victim,
                                 sent != NULL ? sent
                                              : ow_sender_details (self->sender, &signal, TRUE),
                                 signal.seq, signal.time);
  ow_continuity_record (self->continuity, cgroup, event, info->kept ? victim : NULL, entry, mark,
                        info->kept && !event->logged);
}

/* Sends REPORTS. Those on another cgroup than COUNTED (the one the registry counted already;
 * NULL: none) are v1 kills passed up to watched ancestors: counted on them here, so that their
 * ListWatches counts agree with what they were sent. */
static void
dispatch_reports (OwDispatcher *self, GPtrArray *reports, const char *counted)
{
  for (guint i = 0; i < reports->len; i++)
    {
      OwReport *report = g_ptr_array_index (reports, i);
      OwWatch *watch;

      if (g_strcmp0 (report->cgroup, counted) != 0
          && (watch = ow_registry_lookup (self->registry, report->cgroup)) != NULL)
        ow_watch_count (watch, &report->event);
      dispatch (self, report->cgroup, &report->event, report->victim);
    }
}

/* Victims for v1 ancestors wait for an idle moment, so that the "oom" the eventfds of the same
 * incident signalled (before the kill was logged) goes out first, and after the registry read
 * the victim's own cgroup again (at a higher idle priority): its kill is claimed there first.
 * Each pending victim is a reference of ours: nothing here depends on when, or whether, the
 * idle runs. */
static gboolean
on_ancestors_idle (gpointer user_data)
{
  OwDispatcher *self = user_data;
  g_autoptr (GPtrArray) victims = g_steal_pointer (&self->for_ancestors);

  self->ancestors_idle_id = 0;
  self->for_ancestors = g_ptr_array_new_with_free_func ((GDestroyNotify)ow_victim_unref);
  for (guint i = 0; i < victims->len; i++)
    {
      g_autoptr (GPtrArray) reports
          = ow_attribution_victim_ancestors (self->attribution, g_ptr_array_index (victims, i));

      dispatch_reports (self, reports, NULL);
    }
  return G_SOURCE_REMOVE;
}

/* The kernel log named a victim: kept for the kill counter's rise that goes with it. A v1
 * kill has no wake-up of its own: the victim's cgroup, if watched, reads its counters again
 * (the kernel counts the kill before it logs it). Its source stops re-reading once it has
 * seen a kill for each OOM signal; a second kill of one OOM handling (a task that failed the
 * OOM lock, killing after the first victim was reaped) is seen then rather than later. */
static void
take_victim (OwDispatcher *self, OwVictim *victim)
{
  ow_attribution_add_victim (self->attribution, victim);
  if (self->version != 1 || victim->task_cgroup == NULL)
    return;
  ow_registry_sync_soon (self->registry, victim->task_cgroup);
  g_ptr_array_add (self->for_ancestors, ow_victim_ref (victim));
  if (self->ancestors_idle_id == 0)
    self->ancestors_idle_id
        = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE + 1, on_ancestors_idle, self, NULL);
}

static void
on_victim (OwVictim *victim, gpointer user_data)
{
  take_victim (user_data, victim);
}

static void
on_kill_logged (gpointer user_data)
{
  OwDispatcher *self = user_data;

  if (self->version == 1) /* v2 kills wake memory.events themselves */
    ow_kill_wait_logged (self->kill_wait);
}

/* The registry: the kernel sources' events, counted on their cgroup. */
static void
on_event (OwWatch *watch, const OwEvent *event, gpointer user_data)
{
  OwDispatcher *self = user_data;
  g_autoptr (GPtrArray) reports = NULL;

  if (event->kind != OW_EVENT_OOM_KILL)
    {
      dispatch (self, watch->cgroup, event, NULL);
      return;
    }
  if (self->kmsg != NULL)
    {
      /* The kill's lines come before its counter rises. */
      g_autoptr (GPtrArray) named = ow_kmsg_drain (self->kmsg);

      for (guint i = 0; i < named->len; i++)
        take_victim (self, g_ptr_array_index (named, i));
    }
  reports = ow_attribution_kills (self->attribution, watch->cgroup, event);
  dispatch_reports (self, reports, watch->cgroup);
}

static void
on_removed (OwWatch *watch, gpointer user_data)
{
  OwDispatcher *self = user_data;
  guint64 seq = ow_continuity_next_seq (self->continuity);

  ow_sender_removed (
      self->sender, watch->cgroup,
      ow_continuity_removed (self->continuity, watch->cgroup, OOMWATCH_REASON_CGROUP_REMOVED, seq));
}

/* Saved counters follow the kernel registrations. */
static void
on_created (OwWatch *watch, gpointer user_data)
{
  ow_continuity_watch_created (((OwDispatcher *)user_data)->continuity, watch);
}

static void
on_dropped (const char *cgroup, gpointer user_data)
{
  ow_continuity_watch_dropped (((OwDispatcher *)user_data)->continuity, cgroup);
}

/* Memory pressure is numbered and sent; frequent, it is not recorded. */
static void
on_pressure (const char *cgroup, const char *level, GPtrArray *watchers, GVariant *details,
             gpointer user_data)
{
  OwDispatcher *self = user_data;

  ow_sender_pressure (self->sender, cgroup, level, watchers, details,
                      ow_continuity_next_seq (self->continuity));
}

const OwRegistryListener ow_dispatcher_registry_listener = {
  .event = on_event,
  .removed = on_removed,
  .created = on_created,
  .dropped = on_dropped,
  .pressure = on_pressure,
};

/* systemd-oomd's kills and what a restart missed: not counted, no victim to name. */
static void
on_unattributed (const char *cgroup, const OwEvent *event, gpointer user_data)
{
  dispatch (user_data, cgroup, event, NULL);
}

const OwOomdListener ow_dispatcher_oomd_listener = {
  .killed = on_unattributed,
};

const OwContinuityListener ow_dispatcher_continuity_listener = {
  .missed = on_unattributed,
};

static const OwKmsgListener kmsg_listener = {
  .victim = on_victim,
  .kill_logged = on_kill_logged,
};

gboolean
ow_dispatcher_set_kernel_log (OwDispatcher *self, gboolean wanted)
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
  ow_kill_wait_set_followed (self->kill_wait, self->kmsg != NULL);
  return self->kmsg != NULL;
}

void
ow_dispatcher_set_connection (OwDispatcher *self, GDBusConnection *connection)
{
  ow_sender_set_connection (self->sender, connection);
}

void
ow_dispatcher_add_monitor (OwDispatcher *self, const char *name)
{
  ow_sender_add_monitor (self->sender, name);
}

void
ow_dispatcher_forget (OwDispatcher *self, const char *name)
{
  ow_sender_forget (self->sender, name);
}

static gboolean
is_watched (const char *cgroup, gpointer user_data)
{
  OwDispatcher *self = user_data;

  return ow_registry_lookup (self->registry, cgroup) != NULL;
}

static const OwAttributionLookup attribution_lookup = {
  .is_watched = is_watched,
};

OwDispatcher *
ow_dispatcher_new (OwHierarchy *hierarchy, const char *kernel_log_path, OwKillWait *kill_wait)
{
  OwDispatcher *self = g_new0 (OwDispatcher, 1);

  self->kill_wait = kill_wait;
  self->memory_files = ow_cgroup_memory_files_new (hierarchy);
  self->version = ow_hierarchy_get_version (hierarchy);
  self->kernel_log_path = g_strdup (kernel_log_path);
  self->attribution = ow_attribution_new (self->version, &attribution_lookup, self);
  self->for_ancestors = g_ptr_array_new_with_free_func ((GDestroyNotify)ow_victim_unref);
  return self;
}

void
ow_dispatcher_attach (OwDispatcher *self, OwRegistry *registry, OwContinuity *continuity)
{
  self->registry = registry;
  self->continuity = continuity;
  self->sender = ow_sender_new (registry, self->version);
}

void
ow_dispatcher_free (OwDispatcher *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->ancestors_idle_id, g_source_remove);
  g_clear_pointer (&self->kmsg, ow_kmsg_free);
  g_clear_pointer (&self->for_ancestors, g_ptr_array_unref);
  g_clear_pointer (&self->attribution, ow_attribution_free);
  g_clear_pointer (&self->sender, ow_sender_free);
  g_clear_pointer (&self->memory_files, ow_cgroup_memory_files_free);
  g_free (self->kernel_log_path);
  g_free (self);
}
