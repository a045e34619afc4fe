/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Container and pod identity against the real daemon: real OOMs in cgroups laid out as the
 * kubelet's systemd and cgroupfs drivers lay out a Burstable pod's container and as Docker
 * lays out a container's scope (made under the test's own cgroup, owned by root), names from
 * a kubelet-like log tree, a child (not the container's first process) killed, a container
 * removed right after its kill, and a user's delegated subtree named like a pod. */
#include "ow-test-cgroups.h"
#include "ow-test-env.h"
#include "ow-test-continuity.h"
#include "oomwatch-names.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define EVENT_TIMEOUT_MS 15000
#define NOBODY 65534
#define ID1 "1111111111111111111111111111111111111111111111111111111111111111"
#define ID2 "2222222222222222222222222222222222222222222222222222222222222222"
#define ID3 "3333333333333333333333333333333333333333333333333333333333333333"
#define ID4 "4444444444444444444444444444444444444444444444444444444444444444"
#define ID5 "5555555555555555555555555555555555555555555555555555555555555555"
#define UID1 "11111111-1111-4111-8111-111111111111"
#define UID1_ "11111111_1111_4111_8111_111111111111"
#define UID2 "22222222-2222-4222-8222-222222222222"
#define UID4 "44444444-4444-4444-8444-444444444444"

#define SD_POD "k/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID1_ ".slice"
#define SD_CONTAINER SD_POD "/cri-containerd-" ID1 ".scope"
#define FS_POD "k/kubepods/burstable/pod" UID2
#define FS_CONTAINER FS_POD "/" ID2
#define DOCKER "k/system.slice/docker-" ID3 ".scope"
#define USER_POD "k/user/kubepods/burstable/pod" UID4
#define USER_CONTAINER USER_POD "/" ID4

typedef struct
{
  char *logs; /* the kubelet-like log tree */
  char *metrics;
  OwTestEnv *env;
} Fixture;

static const char *
lookup_string (GVariant *details, const char *key)
{
  const char *value = NULL;

  if (details != NULL)
    g_variant_lookup (details, key, "&s", &value);
  return value;
}

static OwTestSignal *
last_signal (OwTestEnv *env, const char *cgroup, const char *kind)
{
  for (guint i = env->signals->len; i > 0; i--)
    {
      OwTestSignal *signal = g_ptr_array_index (env->signals, i - 1);

      if (g_strcmp0 (signal->cgroup, cgroup) == 0 && g_strcmp0 (signal->kind, kind) == 0)
        return signal;
    }
  return NULL;
}

static void
make_dir (const char *dir, const char *relative)
{
  g_autofree char *path = g_build_filename (dir, relative, NULL);

  g_assert_cmpint (g_mkdir_with_parents (path, 0755), ==, 0);
}

/* The kubelet's layout: /var/log/pods/<ns>_<pod>_<uid>/<container>/0.log and the links
 * /var/log/containers/<pod>_<ns>_<container>-<id>.log to it. */
static void
add_container_logs (const char *logs, const char *ns, const char *pod, const char *uid,
                    const char *container, const char *id)
{
  g_autofree char *pod_dir = g_strdup_printf ("pods/%s_%s_%s/%s", ns, pod, uid, container);
  g_autofree char *log = g_build_filename (logs, pod_dir, "0.log", NULL);
  g_autofree char *link
      = g_strdup_printf ("%s/containers/%s_%s_%s-%s.log", logs, pod, ns, container, id);

  make_dir (logs, pod_dir);
  make_dir (logs, "containers");
  g_assert_true (g_file_set_contents (log, "", 0, NULL));
  g_assert_cmpint (symlink (log, link), ==, 0);
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *config = NULL;
  /* Its kubelet log tree and metrics file are in the case's temporary directory, which the
   * unit's PrivateTmp= hides from the system's daemon. */
  OwTestDaemonOptions options = { .own = "its log directories are under /tmp" };

  f->logs = g_dir_make_tmp ("oomwatch-kubelet-XXXXXX", &error);
  g_assert_no_error (error);
  f->metrics = g_build_filename (f->logs, "oomwatch.prom", NULL);
  add_container_logs (f->logs, "shop", "web-0", UID1, "web", ID1);
  add_container_logs (f->logs, "shop", "api-7d9f", UID2, "api", ID2);
  add_container_logs (f->logs, "shop", "api-7d9f", UID2, "worker", ID5);
  add_container_logs (f->logs, "evil", "fake", UID4, "fake", ID4);
  config = g_strdup_printf ("[Daemon]\nPodLogDirectory=%s/pods\nContainerLogDirectory=%s/"
                            "containers\nMetricsFile=%s\n%s",
                            f->logs, f->logs, f->metrics, data != NULL ? (const char *)data : "");
  options.config = config;
  f->env = ow_test_env_new_full (&options);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  ow_test_env_free (f->env);
  ow_test_remove_tree (f->logs);
  g_free (f->logs);
  g_free (f->metrics);
}

/* Makes each component of RELATIVE (a/b/c) in turn, the last with LIMIT. */
static char *
make_path (OwTestEnv *env, const char *relative, const char *limit)
{
  g_auto (GStrv) parts = g_strsplit (relative, "/", -1);
  g_autoptr (GString) path = g_string_new (NULL);
  char *canonical = NULL;

  for (gsize i = 0; parts[i] != NULL; i++)
    {
      g_autofree char *dir = NULL;

      g_string_append_printf (path, "%s%s", i > 0 ? "/" : "", parts[i]);
      dir = ow_test_env_cgroup_path (env, path->str);
      g_free (canonical);
      canonical = g_file_test (dir, G_FILE_TEST_IS_DIR)
                      ? ow_test_env_canonical (env, path->str)
                      : ow_test_env_make_cgroup (env, path->str,
                                                 parts[i + 1] == NULL ? limit : NULL, FALSE);
    }
  return canonical;
}

static void
wait_watched (OwTestEnv *env, const char *cgroup)
{
  for (int i = 0; i < EVENT_TIMEOUT_MS / 10 && !ow_test_env_watched (env, cgroup); i++)
    ow_test_env_iterate (10);
  g_assert_true (ow_test_env_watched (env, cgroup));
}

static GVariant *
wait_kill (OwTestEnv *env, const char *cgroup)
{
  OwTestSignal *signal;
  g_autofree char *shown = NULL;

  g_assert_true (ow_test_env_wait_signal (env, cgroup, OOMWATCH_KIND_OOM_KILL, EVENT_TIMEOUT_MS));
  signal = last_signal (env, cgroup, OOMWATCH_KIND_OOM_KILL);
  shown = g_variant_print (signal->details, FALSE);
  g_test_message ("%s: %s", cgroup, shown);
  return signal->details;
}

static void
assert_identity (GVariant *details, const char *id, const char *runtime, const char *uid,
                 const char *ns, const char *pod, const char *container)
{
  g_assert_cmpstr (lookup_string (details, OOMWATCH_KEY_CONTAINER_ID), ==, id);
  g_assert_cmpstr (lookup_string (details, OOMWATCH_KEY_CONTAINER_RUNTIME), ==, runtime);
  g_assert_cmpstr (lookup_string (details, OOMWATCH_KEY_POD_UID), ==, uid);
  g_assert_cmpstr (lookup_string (details, OOMWATCH_KEY_POD_QOS), ==,
                   uid != NULL ? OOMWATCH_POD_QOS_BURSTABLE : NULL);
  g_assert_cmpstr (lookup_string (details, OOMWATCH_KEY_POD_NAMESPACE), ==, ns);
  g_assert_cmpstr (lookup_string (details, OOMWATCH_KEY_POD_NAME), ==, pod);
  g_assert_cmpstr (lookup_string (details, OOMWATCH_KEY_CONTAINER_NAME), ==, container);
}

/* Hands the cgroups of RELATIVE from FROM on to nobody, as delegation does. */
static void
delegate (OwTestEnv *env, const char *relative, gsize from)
{
  g_auto (GStrv) parts = g_strsplit (relative, "/", -1);
  g_autoptr (GString) path = g_string_new (NULL);

  for (gsize i = 0; parts[i] != NULL; i++)
    {
      g_string_append_printf (path, "%s%s", i > 0 ? "/" : "", parts[i]);
      if (i >= from)
        {
          g_autofree char *dir = ow_test_env_cgroup_path (env, path->str);

          g_assert_cmpint (chown (dir, NOBODY, NOBODY), ==, 0);
        }
    }
}

/* A shell as the container's first process, the hog its child: the child is killed. */
static GSubprocess *
child_hog (OwTestEnv *env, const char *name, guint32 *shell_pid)
{
  g_autofree char *dir = ow_test_env_cgroup_path (env, name);
  const char *argv[] = { "sh", "-c", "echo $$ > \"$1/cgroup.procs\" && \"$2\" \"$1\" 256; exit 0",
                         "sh", dir,  g_getenv ("OOM_HOG"),
                         NULL };
  GSubprocess *shell = ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_STDOUT_SILENCE, argv);

  *shell_pid = ow_test_env_pid (shell);
  return shell;
}

/* The metrics file's line of FAMILY for CGROUP, or NULL. */
static char *
metrics_line (Fixture *f, const char *family, const char *cgroup)
{
  g_autofree char *text = NULL;
  g_autofree char *prefix = g_strdup_printf ("%s{cgroup=\"%s\",", family, cgroup);
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (f->metrics, &text, NULL, NULL))
    return NULL;
  lines = g_strsplit (text, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      return g_strdup (lines[i]);
  return NULL;
}

/* Waits until the kills line of CGROUP is WANTED (NULL: gone); returns the line. */
static char *
wait_metrics_line (Fixture *f, const char *cgroup, const char *wanted)
{
  char *line = NULL;

  for (int i = 0; i < EVENT_TIMEOUT_MS / 10; i++)
    {
      g_free (line);
      line = metrics_line (f, "oomwatch_oom_kills_total", cgroup);
      if (wanted == NULL ? line == NULL : line != NULL && strstr (line, wanted) != NULL)
        break;
      ow_test_env_iterate (10);
    }
  g_test_message ("metrics: %s", line ?: "(none)");
  return line;
}

/* The metrics file passes promtool's check, where promtool is installed. */
static void
promtool_check (Fixture *f)
{
  g_autofree char *promtool = g_find_program_in_path ("promtool");
  g_autofree char *text = NULL;

  if (promtool == NULL)
    {
      g_test_message ("promtool not installed: not checked");
      return;
    }
  g_assert_true (g_file_get_contents (f->metrics, &text, NULL, NULL));
  ow_test_promtool_check (text);
}

/* oomctl history with ARGS: its lines, each checked to hold WANTED. */
static guint
history_lines (OwTestEnv *env, const char *const *args, const char *wanted)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocess) oomctl = NULL;
  g_autofree char *out = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GError) error = NULL;
  guint n = 0;

  g_ptr_array_add (argv, (gpointer)g_getenv ("OOMCTL"));
  g_ptr_array_add (argv, "history");
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer)args[i]);
  g_ptr_array_add (argv, NULL);
  oomctl
      = ow_test_env_spawn (env, G_SUBPROCESS_FLAGS_STDOUT_PIPE, (const char *const *)argv->pdata);
  g_subprocess_communicate_utf8 (oomctl, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (oomctl), ==, 0);
  g_test_message ("oomctl history %s:\n%s", args[0], out);
  lines = g_strsplit (out, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0')
      {
        g_assert_nonnull (strstr (lines[i], wanted));
        n++;
      }
  return n;
}

static void
test_kill_keys (Fixture *f, gconstpointer data)
{
  OwTestEnv *env = f->env;
  g_autofree char *top = make_path (env, "k", NULL);
  g_autofree char *sd = make_path (env, SD_CONTAINER, "32M");
  g_autofree char *fs = make_path (env, FS_CONTAINER, "32M");
  g_autofree char *docker = make_path (env, DOCKER, "32M");
  g_autofree char *user = make_path (env, USER_CONTAINER, "32M");
  g_autofree char *watched = NULL;
  g_autoptr (GError) error = NULL;
  guint32 shell_pid = 0, victim = 0;
  GVariant *details;

  delegate (env, USER_CONTAINER, 1); /* k/user and below */
  watched = ow_test_env_watch_recursive (env, top, &error);
  g_assert_no_error (error);
  {
    g_autoptr (GSubprocess) hog1 = ow_test_env_hog (env, SD_CONTAINER, 256);
    g_autoptr (GSubprocess) hog2 = NULL;
    g_autoptr (GSubprocess) hog3 = ow_test_env_hog (env, DOCKER, 256);
    g_autoptr (GSubprocess) hog4 = ow_test_env_hog (env, USER_CONTAINER, 256);

    hog2 = child_hog (env, FS_CONTAINER, &shell_pid);
    ow_test_env_wait_process (hog1);
    ow_test_env_wait_process (hog3);
    ow_test_env_wait_process (hog4);
    g_subprocess_wait (hog2, NULL, &error);
    g_assert_no_error (error);
    /* The container's first process lived on: its child was the victim. */
    g_assert_true (g_subprocess_get_if_exited (hog2));
    g_assert_cmpint (g_subprocess_get_exit_status (hog2), ==, 0);
  }
  details = wait_kill (env, sd);
  assert_identity (details, ID1, OOMWATCH_RUNTIME_CONTAINERD, UID1, "shop", "web-0", "web");
  details = wait_kill (env, fs);
  assert_identity (details, ID2, NULL, UID2, "shop", "api-7d9f", "api");
  if (g_variant_lookup (details, OOMWATCH_KEY_PID, "u", &victim))
    g_assert_cmpuint (victim, !=, shell_pid);
  details = wait_kill (env, docker);
  assert_identity (details, ID3, OOMWATCH_RUNTIME_DOCKER, NULL, NULL, NULL, NULL);
  /* A user's subtree named like a pod, its log entries there too: claims nothing. */
  details = wait_kill (env, user);
  assert_identity (details, NULL, NULL, NULL, NULL, NULL, NULL);
  /* The pod's own cgroup sees the kill too, with the victim's container. */
  {
    g_autofree char *pod = ow_test_env_canonical (env, SD_POD);

    details = wait_kill (env, pod);
    g_assert_cmpstr (lookup_string (details, OOMWATCH_KEY_POD_UID), ==, UID1);
    g_assert_cmpstr (lookup_string (details, OOMWATCH_KEY_POD_NAME), ==, "web-0");
  }
  /* The same kills in the metrics, with Kubernetes' labels. */
  {
    g_autofree char *line = wait_metrics_line (
        f, sd, ",namespace=\"shop\",pod=\"web-0\",container=\"web\",container_id=\"" ID1 "\"} 1");
    g_autofree char *fs_line = wait_metrics_line (
        f, fs,
        ",namespace=\"shop\",pod=\"api-7d9f\",container=\"api\",container_id=\"" ID2 "\"} 1");
    g_autofree char *docker_line = wait_metrics_line (f, docker, ",container_id=\"" ID3 "\"} 1");
    g_autofree char *user_line = wait_metrics_line (f, user, "} 1");

    g_assert_nonnull (strstr (line, "container_id"));
    g_assert_nonnull (strstr (fs_line, "container_id"));
    g_assert_nonnull (strstr (docker_line, "container_id"));
    g_assert_null (strstr (user_line, "container_id"));
    g_assert_null (strstr (user_line, "pod="));
  }
  promtool_check (f);
  /* oomctl history: the pod's and the container's events, shown by name. */
  g_assert_cmpuint (
      history_lines (env, (const char *const[]){ "--pod=shop/web-0", NULL }, " pod=shop/web-0 "),
      >=, 3); /* the container's oom and oom-kill, the pod's kill */
  g_assert_cmpuint (
      history_lines (env, (const char *const[]){ "--pod=api-7d9f", "--container=api", NULL },
                     " pod=shop/api-7d9f container=api "),
      >=, 2);
  g_assert_cmpuint (history_lines (env, (const char *const[]){ "--container=web", "--json", NULL },
                                   "\"container-name\":\"web\""),
                    >=, 2);
  g_assert_cmpuint (history_lines (env, (const char *const[]){ "--pod=evil/fake", NULL }, "never"),
                    ==, 0);
}

/* A container killed and removed at once is still told with its identity. */
static void
test_short_lived (Fixture *f, gconstpointer data)
{
  OwTestEnv *env = f->env;
  g_autofree char *top = make_path (env, "k", NULL);
  g_autofree char *pod = make_path (env, FS_POD, NULL);
  g_autofree char *watched = NULL;
  g_autofree char *container = NULL;
  g_autofree char *dir = ow_test_env_cgroup_path (env, FS_POD "/" ID5);
  g_autoptr (GError) error = NULL;
  OwTestSignal *signal = NULL;
  g_autofree char *shown = NULL;
  GVariant *details;

  watched = ow_test_env_watch_recursive (env, top, &error);
  g_assert_no_error (error);
  container = make_path (env, FS_POD "/" ID5, "32M");
  wait_watched (env, container);
  {
    g_autoptr (GSubprocess) hog = ow_test_env_hog (env, FS_POD "/" ID5, 256);

    ow_test_env_wait_process (hog);
    g_assert_cmpint (rmdir (dir), ==, 0);
  }
  /* Its own cgroup tells the kill (v2: from the pod's counters, after the removal) or at
   * least the OOM (v1: the kill count can go with the cgroup before it is read) ... */
  for (int i = 0; i < EVENT_TIMEOUT_MS / 10 && signal == NULL; i++)
    {
      ow_test_env_iterate (10);
      signal = last_signal (env, container, OOMWATCH_KIND_OOM_KILL);
      if (signal == NULL && ow_test_cgroups_version () == 1 && i > 300)
        signal = last_signal (env, container, OOMWATCH_KIND_OOM);
    }
  g_assert_nonnull (signal);
  shown = g_variant_print (signal->details, FALSE);
  g_test_message ("%s: %s", container, shown);
  assert_identity (signal->details, ID5, NULL, UID2, "shop", "api-7d9f", "worker");
  /* ... and the pod's kill names the victim's container when the kernel log named the victim
   * (its oom-kill line is rate-limited machine-wide; on v1 the pod learns of the kill only
   * from it), also once that container is gone. */
  if (ow_test_cgroups_version () == 1
      && !ow_test_env_wait_signal (env, pod, OOMWATCH_KIND_OOM_KILL, EVENT_TIMEOUT_MS / 3))
    {
      g_test_message ("v1: the kernel log did not name the victim; the pod has no kill to tell");
      return;
    }
  details = wait_kill (env, pod);
  if (lookup_string (details, OOMWATCH_KEY_TASK_CGROUP) != NULL)
    {
      g_assert_cmpstr (lookup_string (details, OOMWATCH_KEY_TASK_CGROUP), ==, container);
      assert_identity (details, ID5, NULL, UID2, "shop", "api-7d9f", "worker");
    }
  else
    g_assert_cmpstr (lookup_string (details, OOMWATCH_KEY_POD_UID), ==, UID2);
}

/* The series of a removed container stays for MetricsRetention=, then goes. */
static void
test_metrics_age_out (Fixture *f, gconstpointer data)
{
  OwTestEnv *env = f->env;
  g_autofree char *top = make_path (env, "k", NULL);
  g_autofree char *container = make_path (env, SD_CONTAINER, "32M");
  g_autofree char *dir = ow_test_env_cgroup_path (env, SD_CONTAINER);
  g_autofree char *watched = NULL;
  g_autofree char *line = NULL;
  g_autofree char *kept = NULL;
  g_autofree char *gone = NULL;
  g_autoptr (GError) error = NULL;
  gint64 removed;

  watched = ow_test_env_watch_recursive (env, top, &error);
  g_assert_no_error (error);
  {
    g_autoptr (GSubprocess) hog = ow_test_env_hog (env, SD_CONTAINER, 256);

    ow_test_env_wait_process (hog);
  }
  line = wait_metrics_line (f, container, "container_id=\"" ID1 "\"} 1");
  g_assert_nonnull (strstr (line, "} 1"));
  g_assert_cmpint (rmdir (dir), ==, 0);
  removed = g_get_monotonic_time ();
  g_assert_true (ow_test_env_wait_signal (env, container, "removed", EVENT_TIMEOUT_MS));
  ow_test_env_iterate (50);
  kept = metrics_line (f, "oomwatch_oom_kills_total", container);
  if (g_get_monotonic_time () - removed < 2 * G_USEC_PER_SEC)
    g_assert_nonnull (kept); /* slower than the retention: not told */
  gone = wait_metrics_line (f, container, NULL);
  g_assert_null (gone);
  promtool_check (f);
}

int
main (int argc, char **argv)
{
  int skip = ow_test_env_init (&argc, &argv);

  if (skip != 0)
    return skip;
  g_test_add ("/containers/kill-keys", Fixture, NULL, setup, test_kill_keys, teardown);
  g_test_add ("/containers/short-lived", Fixture, NULL, setup, test_short_lived, teardown);
  g_test_add ("/containers/metrics-age-out", Fixture, "MetricsRetention=3\n", setup,
              test_metrics_age_out, teardown);
  return g_test_run ();
}
