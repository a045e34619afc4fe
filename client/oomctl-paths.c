/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "oomctl-paths.h"
#include "oomwatch-names.h"

#include <string.h>

char *
oomctl_resolve_cgroup (const char *arg, const char *cwd, const char *mount, GError **error)
{
  g_autofree char *path = NULL;
  g_autofree char *root = NULL;
  gsize length;

  if (arg[0] == '/')
    return g_strdup (arg);
  path = g_canonicalize_filename (arg, cwd);
  root = g_canonicalize_filename (mount != NULL && mount[0] != '\0' ? mount : "/", "/");
  length = strlen (root);
  if (strcmp (root, "/") != 0 && strcmp (path, root) == 0)
    return g_strdup ("/");
  if (strcmp (root, "/") != 0 && strncmp (path, root, length) == 0 && path[length] == '/')
    return g_strdup (path + length);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "%s: a relative path is taken from the working directory, but %s is not inside "
               "the cgroup hierarchy (mounted at %s); give the path from the hierarchy's root, "
               "e.g. /system.slice",
               arg, path, root);
  return NULL;
}

/* The MountPoint property; a call (not the proxy's cache) when the daemon was not running
 * yet, so that it is started. */
static char *
mount_point (OomwatchManager *manager, GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) value = NULL;
  const char *cached = oomwatch_manager_get_mount_point (manager);

  if (cached != NULL && cached[0] != '\0')
    return g_strdup (cached);
  reply = g_dbus_proxy_call_sync (G_DBUS_PROXY (manager), "org.freedesktop.DBus.Properties.Get",
                                  g_variant_new ("(ss)", OOMWATCH_MANAGER_INTERFACE,
                                                 "MountPoint"),
                                  G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
  if (reply == NULL)
    return NULL;
  g_variant_get (reply, "(v)", &value);
  return g_variant_dup_string (value, NULL);
}

GStrv
oomctl_resolve_cgroups (OomwatchManager *manager, const char *const *args, GError **error)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autofree char *cwd = NULL;
  g_autofree char *mount = NULL;

  for (gsize i = 0; args != NULL && args[i] != NULL; i++)
    {
      g_autofree char *path = NULL;

      if (args[i][0] != '/' && mount == NULL)
        {
          cwd = g_get_current_dir ();
          mount = mount_point (manager, error);
          if (mount == NULL)
            return NULL;
        }
      path = oomctl_resolve_cgroup (args[i], cwd, mount, error);
      if (path == NULL)
        return NULL;
      g_strv_builder_add (builder, path);
    }
  return g_strv_builder_end (builder);
}
