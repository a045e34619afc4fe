/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "oomwatch-container.h"
#include "oomwatch-details.h"
#include "oomwatch-names.h"

#include <string.h>

/* Longer cgroup paths are not ours to parse (the daemon refuses them anyway). */
#define CGROUP_PATH_MAX 4096
#define POD_UID_LENGTH 36

static gboolean
is_lower_hex (char c)
{
  return g_ascii_isdigit (c) || (c >= 'a' && c <= 'f');
}

gboolean
oomwatch_container_id_is_valid (const char *id, gssize length)
{
  gsize len = length < 0 ? strlen (id) : (gsize)length;

  if (len != OOMWATCH_CONTAINER_ID_LENGTH)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!is_lower_hex (id[i]))
      return FALSE;
  return TRUE;
}

gboolean
oomwatch_pod_uid_is_valid (const char *uid, gssize length)
{
  gsize len = length < 0 ? strlen (uid) : (gsize)length;

  if (len != POD_UID_LENGTH && len != 32)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      gboolean dash_here = len == POD_UID_LENGTH && (i == 8 || i == 13 || i == 18 || i == 23);

      if (dash_here ? uid[i] != '-' : !is_lower_hex (uid[i]))
        return FALSE;
    }
  return TRUE;
}

typedef struct
{
  const char *at;
  gsize len;
} Span;

static gboolean
span_is (Span s, const char *word)
{
  return s.len == strlen (word) && memcmp (s.at, word, s.len) == 0;
}

static gboolean
span_strip_suffix (Span *s, const char *suffix)
{
  gsize n = strlen (suffix);

  if (s->len <= n || memcmp (s->at + s->len - n, suffix, n) != 0)
    return FALSE;
  s->len -= n;
  return TRUE;
}

/* "kubepods[-QOS]" at the end of HEAD, at its start or after a '-' (kind's kubelet-kubepods). */
static const char *
systemd_qos (Span head)
{
  static const struct
  {
    const char *tail, *qos;
  } tails[] = {
    { "kubepods-burstable", OOMWATCH_POD_QOS_BURSTABLE },
    { "kubepods-besteffort", OOMWATCH_POD_QOS_BESTEFFORT },
    { "kubepods", OOMWATCH_POD_QOS_GUARANTEED },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (tails); i++)
    {
      gsize n = strlen (tails[i].tail);

      if (head.len >= n && memcmp (head.at + head.len - n, tails[i].tail, n) == 0
          && (head.len == n || head.at[head.len - n - 1] == '-'))
        return tails[i].qos;
    }
  return NULL;
}

/* kubepods[-QOS]-pod<UID with '_' for '-'>.slice (systemd driver) or pod<UID> below
 * kubepods[/QOS] (cgroupfs driver): the UID (with dashes) and the QoS class, else NULL. */
static char *
pod_of (Span name, Span parent, Span grandparent, const char **qos)
{
  Span base = name, uid, head;
  char *out;

  if (span_strip_suffix (&base, ".slice"))
    {
      const char *dash = memrchr (base.at, '-', base.len);

      if (dash == NULL)
        return NULL;
      uid = (Span){ dash + 1, base.len - (gsize)(dash + 1 - base.at) };
      if (uid.len < 3 || memcmp (uid.at, "pod", 3) != 0)
        return NULL;
      uid.at += 3;
      uid.len -= 3;
      head = (Span){ base.at, (gsize)(dash - base.at) };
      /* systemd nests a-b.slice in a: the parent must be the head's slice */
      if (parent.len != head.len + strlen (".slice") || memcmp (parent.at, head.at, head.len) != 0
          || memcmp (parent.at + head.len, ".slice", strlen (".slice")) != 0)
        return NULL;
      if ((*qos = systemd_qos (head)) == NULL)
        return NULL;
      out = g_strndup (uid.at, uid.len);
      g_strdelimit (out, "_", '-');
    }
  else
    {
      if (name.len < 3 || memcmp (name.at, "pod", 3) != 0)
        return NULL;
      if (span_is (parent, "kubepods"))
        *qos = OOMWATCH_POD_QOS_GUARANTEED;
      else if (span_is (grandparent, "kubepods") && span_is (parent, "burstable"))
        *qos = OOMWATCH_POD_QOS_BURSTABLE;
      else if (span_is (grandparent, "kubepods") && span_is (parent, "besteffort"))
        *qos = OOMWATCH_POD_QOS_BESTEFFORT;
      else
        return NULL;
      out = g_strndup (name.at + 3, name.len - 3);
    }
  if (!oomwatch_pod_uid_is_valid (out, -1))
    g_clear_pointer (&out, g_free);
  return out;
}

/* <RUNTIME>-<ID>[.scope] (systemd driver; CRI-O and podman also under cgroupfs), or a bare
 * <ID> below a pod or a "docker" cgroup (cgroupfs driver): the id and the runtime. */
static char *
container_of (Span name, Span parent, gboolean below_pod, const char **runtime)
{
  static const struct
  {
    const char *prefix, *runtime;
  } prefixes[] = {
    { "docker-", OOMWATCH_RUNTIME_DOCKER },
    { "cri-containerd-", OOMWATCH_RUNTIME_CONTAINERD },
    { "crio-", OOMWATCH_RUNTIME_CRIO },
    { "libpod-", OOMWATCH_RUNTIME_PODMAN },
  };
  Span id = name;

  span_strip_suffix (&id, ".scope");
  for (gsize i = 0; i < G_N_ELEMENTS (prefixes); i++)
    {
      gsize n = strlen (prefixes[i].prefix);

      if (id.len == n + OOMWATCH_CONTAINER_ID_LENGTH && memcmp (id.at, prefixes[i].prefix, n) == 0
          && oomwatch_container_id_is_valid (id.at + n, (gssize)(id.len - n)))
        {
          *runtime = prefixes[i].runtime;
          return g_strndup (id.at + n, id.len - n);
        }
    }
  if (id.len != name.len || !oomwatch_container_id_is_valid (name.at, (gssize)name.len))
    return NULL;
  if (span_is (parent, "docker"))
    *runtime = OOMWATCH_RUNTIME_DOCKER;
  else if (below_pod)
    *runtime = NULL; /* containerd and cri-dockerd both name it so */
  else
    return NULL;
  return g_strndup (name.at, name.len);
}

/* The deepest pod or container wins; a container keeps the nearest pod above it, a pod drops
 * any container above it (a kind node's own container). */
OomwatchContainerInfo *
oomwatch_container_info_new (const char *cgroup)
{
  g_autoptr (OomwatchContainerInfo) info = g_new0 (OomwatchContainerInfo, 1);
  Span grandparent = { "", 0 }, parent = { "", 0 };
  const char *p = cgroup;

  if (cgroup == NULL || strnlen (cgroup, CGROUP_PATH_MAX + 1) > CGROUP_PATH_MAX)
    return NULL;
  while (*p != '\0')
    {
      Span name;
      const char *qos = NULL, *runtime = NULL;
      char *found;

      while (*p == '/')
        p++;
      if (*p == '\0')
        break;
      name.at = p;
      p += strcspn (p, "/");
      name.len = (gsize)(p - name.at);
      if ((found = pod_of (name, parent, grandparent, &qos)) != NULL)
        {
          g_free (info->pod_uid);
          info->pod_uid = found;
          info->pod_qos = qos;
          info->pod_end = (gsize)(p - cgroup);
          g_clear_pointer (&info->container_id, g_free);
          info->runtime = NULL;
          info->container_end = 0;
        }
      else if ((found = container_of (name, parent, info->pod_uid != NULL, &runtime)) != NULL)
        {
          g_free (info->container_id);
          info->container_id = found;
          info->runtime = runtime;
          info->container_end = (gsize)(p - cgroup);
        }
      grandparent = parent;
      parent = name;
    }
  if (info->pod_uid == NULL && info->container_id == NULL)
    return NULL;
  return g_steal_pointer (&info);
}

OomwatchContainerInfo *
oomwatch_container_info_copy (const OomwatchContainerInfo *info)
{
  OomwatchContainerInfo *copy;

  if (info == NULL)
    return NULL;
  copy = g_memdup2 (info, sizeof *info);
  copy->container_id = g_strdup (info->container_id);
  copy->pod_uid = g_strdup (info->pod_uid);
  copy->pod_namespace = g_strdup (info->pod_namespace);
  copy->pod_name = g_strdup (info->pod_name);
  copy->container_name = g_strdup (info->container_name);
  return copy;
}

void
oomwatch_container_info_free (OomwatchContainerInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->container_id);
  g_free (info->pod_uid);
  g_free (info->pod_namespace);
  g_free (info->pod_name);
  g_free (info->container_name);
  g_free (info);
}

/* The keys container-id, container-runtime, pod-uid, pod-qos, pod-namespace, pod-name and
 * container-name of OomEvent details, where known. */
void
oomwatch_container_info_add_details (const OomwatchContainerInfo *info, GVariantBuilder *details)
{
  const struct
  {
    const char *key, *value;
  } keys[] = {
    { OOMWATCH_KEY_CONTAINER_ID, info != NULL ? info->container_id : NULL },
    { OOMWATCH_KEY_CONTAINER_RUNTIME, info != NULL ? info->runtime : NULL },
    { OOMWATCH_KEY_POD_UID, info != NULL ? info->pod_uid : NULL },
    { OOMWATCH_KEY_POD_QOS, info != NULL ? info->pod_qos : NULL },
    { OOMWATCH_KEY_POD_NAMESPACE, info != NULL ? info->pod_namespace : NULL },
    { OOMWATCH_KEY_POD_NAME, info != NULL ? info->pod_name : NULL },
    { OOMWATCH_KEY_CONTAINER_NAME, info != NULL ? info->container_name : NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (keys[i].value != NULL)
      oomwatch_details_add (details, keys[i].key, g_variant_new_string (keys[i].value));
}
