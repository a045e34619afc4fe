/* The kernel-log reader: follows /dev/kmsg and remembers the recent OOM victims it names,
 * so oom-kill signals can say which process was killed. Counts never come from here. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint32 pid;
  gboolean has_uid;
  guint32 uid;
  char *comm;
  char *task_cgroup; /* the victim's cgroup */
  char *oom_cgroup;  /* the cgroup whose limit was hit; NULL for a global OOM */
  gint64 seen;       /* monotonic time */
  GHashTable *claimed; /* watched cgroups this victim was reported on */
} OwVictim;

typedef struct _OwKmsg OwKmsg;
typedef void (*OwKmsgVictimFunc) (OwVictim *victim, gpointer user_data);

OwKmsg *ow_kmsg_new (const char *path, OwKmsgVictimFunc func, gpointer user_data, GError **error);
void ow_kmsg_free (OwKmsg *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwKmsg, ow_kmsg_free)

void ow_kmsg_drain (OwKmsg *self);
GPtrArray *ow_kmsg_unreported (OwKmsg *self, const char *cgroup, gboolean below_too, guint64 max);
gboolean ow_victim_claim (OwVictim *victim, const char *cgroup);

gboolean ow_cgroup_is_below (const char *cgroup, const char *ancestor);

G_END_DECLS
