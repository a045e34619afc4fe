/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-container-names.h"
#include "ow-str-hash.h"
#include "ow-fd.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>

#define REREAD_INTERVAL_USEC G_USEC_PER_SEC

typedef struct
{
  char *namespace, *pod, *container; /* container: NULL for a pod's entry */
} Names;

typedef struct
{
  char *path;
  GHashTable *entries; /* pod UID or container id → Names */
  gint64 read_at;      /* monotonic; 0: never */
} Dir;

typedef struct
{
  char *cgroup;
  OomwatchContainerInfo *info;
  gint64 expires; /* monotonic */
} Gone;

struct _OwContainerNames
{
  Dir pods, containers;
  guint reads;
  GHashTable *gone;  /* cgroup → Gone */
  GQueue gone_order; /* Gone, oldest first */
};

static void
gone_free (Gone *gone)
{
  g_free (gone->cgroup);
  oomwatch_container_info_free (gone->info);
  g_free (gone);
}

static void
names_free (Names *names)
{
  g_free (names->namespace);
  g_free (names->pod);
  g_free (names->container);
  g_free (names);
}

/* Kubernetes' names: DNS labels and subdomains, lower case. */
static gboolean
is_k8s_name (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > 253)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_islower (name[i]) && !g_ascii_isdigit (name[i]) && name[i] != '-'
        && name[i] != '.')
      return FALSE;
  return TRUE;
}

static Names *
names_new (char **parts, const char *namespace, const char *pod, const char *container)
{
  Names *names;

  if (g_strv_length (parts) != 3 || !is_k8s_name (namespace) || !is_k8s_name (pod)
      || (container != NULL && !is_k8s_name (container)))
    return NULL;
  names = g_new0 (Names, 1);
  names->namespace = g_strdup (namespace);
  names->pod = g_strdup (pod);
  names->container = g_strdup (container);
  return names;
}

/* <namespace>_<pod>_<uid> */
static Names *
parse_pod_entry (const char *entry, char **key)
{
  g_auto (GStrv) parts = g_strsplit (entry, "_", 4);
  Names *names = names_new (parts, parts[0], parts[1] ?: "", NULL);

  if (names == NULL || !oomwatch_pod_uid_is_valid (parts[2], -1))
    {
      g_clear_pointer (&names, names_free);
      return NULL;
    }
  *key = g_strdup (parts[2]);
  return names;
}

/* <pod>_<namespace>_<container>-<id>.log */
static Names *
parse_container_entry (const char *entry, char **key)
{
  gsize len = strlen (entry), id_at;
  g_autofree char *stem = NULL;
  g_auto (GStrv) parts = NULL;
  Names *names;

  if (!g_str_has_suffix (entry, ".log") || len < 4 + OOMWATCH_CONTAINER_ID_LENGTH + 2)
    return NULL;
  id_at = len - 4 - OOMWATCH_CONTAINER_ID_LENGTH;
  if (entry[id_at - 1] != '-'
      || !oomwatch_container_id_is_valid (entry + id_at, OOMWATCH_CONTAINER_ID_LENGTH))
    return NULL;
  stem = g_strndup (entry, id_at - 1);
  parts = g_strsplit (stem, "_", 4);
  if (g_strv_length (parts) != 3)
    return NULL;
  names = names_new (parts, parts[1], parts[0], parts[2]);
  if (names != NULL)
    *key = g_strndup (entry + id_at, OOMWATCH_CONTAINER_ID_LENGTH);
  return names;
}

/* Lists DIR again when KEY is unknown and the last listing is old enough. */
static Names *
lookup (OwContainerNames *self, Dir *dir, const char *key, gboolean read,
        Names *(*parse) (const char *entry, char **key))
{
  Names *found = dir->entries != NULL ? g_hash_table_lookup (dir->entries, key) : NULL;
  gint64 now = g_get_monotonic_time ();
  g_auto (OwFd) fd = -1;
  DIR *listing;
  struct dirent *entry;

  if (found != NULL || !read || dir->path == NULL
      || (dir->read_at != 0 && now - dir->read_at < REREAD_INTERVAL_USEC))
    return found;
  dir->read_at = now;
  self->reads++;
  fd = open (dir->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || (listing = fdopendir (fd)) == NULL)
    {
      g_debug ("Cannot list %s: %s", dir->path, g_strerror (errno));
      return NULL;
    }
  (void)ow_fd_steal (&fd); /* the listing owns it */
  g_clear_pointer (&dir->entries, g_hash_table_unref);
  dir->entries
      = g_hash_table_new_full (ow_str_hash, g_str_equal, g_free, (GDestroyNotify)names_free);
  while ((entry = readdir (listing)) != NULL
         && g_hash_table_size (dir->entries) < OW_CONTAINER_NAMES_MAX)
    {
      char *id = NULL;
      Names *names = parse (entry->d_name, &id);

      if (names != NULL)
        g_hash_table_replace (dir->entries, id, names);
    }
  closedir (listing);
  return g_hash_table_lookup (dir->entries, key);
}

gboolean
ow_container_names_missing (const OomwatchContainerInfo *info)
{
  return info != NULL
         && ((info->container_id != NULL && info->container_name == NULL)
             || (info->pod_uid != NULL && info->pod_name == NULL));
}

void
ow_container_names_fill (OwContainerNames *self, OomwatchContainerInfo *info, gboolean read)
{
  Names *names;

  if (self == NULL || !ow_container_names_missing (info))
    return;
  if (info->container_id != NULL && info->container_name == NULL
      && (names = lookup (self, &self->containers, info->container_id, read, parse_container_entry))
             != NULL)
    {
      info->container_name = g_strdup (names->container);
      if (info->pod_name == NULL)
        {
          info->pod_namespace = g_strdup (names->namespace);
          info->pod_name = g_strdup (names->pod);
        }
    }
  if (info->pod_uid != NULL && info->pod_name == NULL
      && (names = lookup (self, &self->pods, info->pod_uid, read, parse_pod_entry)) != NULL)
    {
      info->pod_namespace = g_strdup (names->namespace);
      info->pod_name = g_strdup (names->pod);
    }
}

OwContainerNames *
ow_container_names_new (const char *pod_dir, const char *container_dir)
{
  OwContainerNames *self = g_new0 (OwContainerNames, 1);

  pod_dir = pod_dir ?: OW_DEFAULT_POD_LOG_DIRECTORY;
  container_dir = container_dir ?: OW_DEFAULT_CONTAINER_LOG_DIRECTORY;
  self->gone = g_hash_table_new (ow_str_hash, g_str_equal);
  self->pods.path = pod_dir[0] != '\0' ? g_strdup (pod_dir) : NULL;
  self->containers.path = container_dir[0] != '\0' ? g_strdup (container_dir) : NULL;
  return self;
}

void
ow_container_names_free (OwContainerNames *self)
{
  if (self == NULL)
    return;
  g_free (self->pods.path);
  g_free (self->containers.path);
  g_clear_pointer (&self->pods.entries, g_hash_table_unref);
  g_clear_pointer (&self->containers.entries, g_hash_table_unref);
  g_hash_table_unref (self->gone);
  g_queue_clear_full (&self->gone_order, (GDestroyNotify)gone_free);
  g_free (self);
}

static void
forget_oldest (OwContainerNames *self)
{
  Gone *oldest = g_queue_pop_head (&self->gone_order);

  g_hash_table_remove (self->gone, oldest->cgroup);
  gone_free (oldest);
}

void
ow_container_names_remember (OwContainerNames *self, const char *cgroup,
                             OomwatchContainerInfo *info)
{
  gint64 now = g_get_monotonic_time ();
  Gone *gone, *head;

  if (self == NULL || info == NULL)
    {
      oomwatch_container_info_free (info);
      return;
    }
  if ((gone = g_hash_table_lookup (self->gone, cgroup)) != NULL)
    {
      g_queue_remove (&self->gone_order, gone);
      g_hash_table_remove (self->gone, cgroup);
      gone_free (gone);
    }
  while ((head = g_queue_peek_head (&self->gone_order)) != NULL
         && (head->expires <= now || self->gone_order.length >= OW_CONTAINER_GONE_MAX))
    forget_oldest (self);
  gone = g_new0 (Gone, 1);
  gone->cgroup = g_strdup (cgroup);
  gone->info = info;
  gone->expires = now + OW_CONTAINER_GONE_USEC;
  g_queue_push_tail (&self->gone_order, gone);
  g_hash_table_insert (self->gone, gone->cgroup, gone);
}

OomwatchContainerInfo *
ow_container_names_recall (OwContainerNames *self, const char *cgroup)
{
  Gone *gone = self != NULL ? g_hash_table_lookup (self->gone, cgroup) : NULL;

  if (gone == NULL || gone->expires <= g_get_monotonic_time ())
    return NULL;
  return oomwatch_container_info_copy (gone->info);
}

guint
ow_container_names_reads (OwContainerNames *self)
{
  return self->reads;
}
