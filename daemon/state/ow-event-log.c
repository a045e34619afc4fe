/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-event-log.h"

static void
add_unit_fields (GLogField *fields, gsize *n, const OomwatchUnitInfo *units)
{
  if (units == NULL)
    return;
  if (units->unit != NULL)
    fields[(*n)++] = (GLogField){ "OOMWATCH_UNIT", units->unit, -1 };
  if (units->slice != NULL)
    fields[(*n)++] = (GLogField){ "OOMWATCH_SLICE", units->slice, -1 };
  if (units->user_unit != NULL)
    fields[(*n)++] = (GLogField){ "OOMWATCH_USER_UNIT", units->user_unit, -1 };
  if (units->app_id != NULL)
    fields[(*n)++] = (GLogField){ "OOMWATCH_APP_ID", units->app_id, -1 };
  if (units->container == NULL)
    return;
  if (units->container->container_id != NULL)
    fields[(*n)++] = (GLogField){ "OOMWATCH_CONTAINER_ID", units->container->container_id, -1 };
  if (units->container->container_name != NULL)
    fields[(*n)++]
        = (GLogField){ "OOMWATCH_CONTAINER_NAME", units->container->container_name, -1 };
  if (units->container->pod_namespace != NULL)
    fields[(*n)++] = (GLogField){ "OOMWATCH_POD_NAMESPACE", units->container->pod_namespace, -1 };
  if (units->container->pod_name != NULL)
    fields[(*n)++] = (GLogField){ "OOMWATCH_POD_NAME", units->container->pod_name, -1 };
}

/* Fields: MESSAGE_ID, OOMWATCH_CGROUP, OOMWATCH_KIND, OOMWATCH_COUNT; OOMWATCH_UNIT,
 * OOMWATCH_SLICE, OOMWATCH_USER_UNIT, OOMWATCH_APP_ID, OOMWATCH_CONTAINER_ID,
 * OOMWATCH_CONTAINER_NAME, OOMWATCH_POD_NAMESPACE, OOMWATCH_POD_NAME where known; when the
 * kernel log named the victim, OOMWATCH_PID, OOMWATCH_COMM, OOMWATCH_UID,
 * OOMWATCH_TASK_CGROUP, OOMWATCH_OOM_CGROUP; for systemd-oomd's kills OOMWATCH_REASON and
 * OOMWATCH_TASK_CGROUP (the cgroup it killed). */
void
ow_event_log (const char *cgroup, const OwEvent *event, const OwVictim *victim,
              const OomwatchUnitInfo *units)
{
  const char *kind = ow_event_kind_to_string (event->kind);
  g_autofree char *count_text = g_strdup_printf ("%" G_GUINT64_FORMAT, event->count);
  g_autofree char *pid = NULL, *uid = NULL, *message = NULL;
  const char *app = units != NULL && units->app_id != NULL ? units->app_id : NULL;
  GLogField fields[24];
  gsize n = 0;

  if (victim != NULL)
    message = g_strdup_printf ("%s %s count=%s pid=%u comm=%s task-cgroup=%s%s%s", cgroup, kind,
                               count_text, victim->pid, victim->comm ?: "?",
                               victim->task_cgroup ?: "?", app ? " app-id=" : "", app ?: "");
  else if (event->reason != NULL)
    message = g_strdup_printf ("%s %s reason=%s%s%s", cgroup, kind, event->reason,
                               app ? " app-id=" : "", app ?: "");
  else
    message = g_strdup_printf ("%s %s count=%s%s%s", cgroup, kind, count_text,
                               app ? " app-id=" : "", app ?: "");

  fields[n++] = (GLogField){ "MESSAGE", message, -1 };
  fields[n++] = (GLogField){ "PRIORITY", "5", -1 }; /* notice */
  fields[n++] = (GLogField){ "GLIB_DOMAIN", G_LOG_DOMAIN, -1 };
  fields[n++] = (GLogField){ "MESSAGE_ID", OW_EVENT_MESSAGE_ID, -1 };
  fields[n++] = (GLogField){ "OOMWATCH_CGROUP", cgroup, -1 };
  fields[n++] = (GLogField){ "OOMWATCH_KIND", kind, -1 };
  fields[n++] = (GLogField){ "OOMWATCH_COUNT", count_text, -1 };
  add_unit_fields (fields, &n, units);
  if (event->reason != NULL)
    fields[n++] = (GLogField){ "OOMWATCH_REASON", event->reason, -1 };
  if (victim == NULL && event->task_cgroup != NULL)
    fields[n++] = (GLogField){ "OOMWATCH_TASK_CGROUP", event->task_cgroup, -1 };
  if (victim != NULL)
    {
      pid = g_strdup_printf ("%u", victim->pid);
      fields[n++] = (GLogField){ "OOMWATCH_PID", pid, -1 };
      if (victim->comm != NULL)
        fields[n++] = (GLogField){ "OOMWATCH_COMM", victim->comm, -1 };
      if (victim->has_uid)
        {
          uid = g_strdup_printf ("%u", victim->uid);
          fields[n++] = (GLogField){ "OOMWATCH_UID", uid, -1 };
        }
      if (victim->task_cgroup != NULL)
        fields[n++] = (GLogField){ "OOMWATCH_TASK_CGROUP", victim->task_cgroup, -1 };
      if (victim->oom_cgroup != NULL)
        fields[n++] = (GLogField){ "OOMWATCH_OOM_CGROUP", victim->oom_cgroup, -1 };
    }
  g_log_structured_array (G_LOG_LEVEL_MESSAGE, fields, n);
}

void
ow_event_log_removed (const char *cgroup)
{
  g_autofree char *message = g_strdup_printf ("%s removed", cgroup);
  const GLogField fields[] = {
    { "MESSAGE", message, -1 },          { "PRIORITY", "6", -1 },
    { "GLIB_DOMAIN", G_LOG_DOMAIN, -1 }, { "MESSAGE_ID", OW_REMOVED_MESSAGE_ID, -1 },
    { "OOMWATCH_CGROUP", cgroup, -1 },   { "OOMWATCH_KIND", "removed", -1 },
  };

  g_log_structured_array (G_LOG_LEVEL_MESSAGE, fields, G_N_ELEMENTS (fields));
}
