#include "ow-event-log.h"

/* Fields: MESSAGE_ID, OOMWATCH_CGROUP, OOMWATCH_KIND, OOMWATCH_COUNT and, when the kernel log
 * named the victim, OOMWATCH_PID, OOMWATCH_COMM, OOMWATCH_UID, OOMWATCH_TASK_CGROUP,
 * OOMWATCH_OOM_CGROUP. */
void
ow_event_log (const char *cgroup, const char *kind, guint64 count, const OwVictim *victim)
{
  g_autofree char *count_text = g_strdup_printf ("%" G_GUINT64_FORMAT, count);
  g_autofree char *pid = NULL, *uid = NULL, *message = NULL;
  GLogField fields[12];
  gsize n = 0;

  if (victim != NULL)
    message
        = g_strdup_printf ("%s %s count=%s pid=%u comm=%s task-cgroup=%s", cgroup, kind, count_text,
                           victim->pid, victim->comm ?: "?", victim->task_cgroup ?: "?");
  else
    message = g_strdup_printf ("%s %s count=%s", cgroup, kind, count_text);

  fields[n++] = (GLogField){ "MESSAGE", message, -1 };
  fields[n++] = (GLogField){ "PRIORITY", "5", -1 }; /* notice */
  fields[n++] = (GLogField){ "GLIB_DOMAIN", G_LOG_DOMAIN, -1 };
  fields[n++] = (GLogField){ "MESSAGE_ID", OW_EVENT_MESSAGE_ID, -1 };
  fields[n++] = (GLogField){ "OOMWATCH_CGROUP", cgroup, -1 };
  fields[n++] = (GLogField){ "OOMWATCH_KIND", kind, -1 };
  fields[n++] = (GLogField){ "OOMWATCH_COUNT", count_text, -1 };
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
