/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the cgroup path → unit / slice / user unit / application ID parser, on names
 * seen on real desktops and on hostile input. */
#include "oomwatch-names.h"
#include "oomwatch-unit.h"

#include <string.h>

typedef struct
{
  const char *cgroup;
  const char *unit, *slice, *user_unit, *app_id;
} Case;

static void
check (const Case *c)
{
  g_autoptr (OomwatchUnitInfo) info = oomwatch_unit_info_new (c->cgroup);

  g_test_message ("%s", c->cgroup);
  g_assert_cmpstr (info->unit, ==, c->unit);
  g_assert_cmpstr (info->slice, ==, c->slice);
  g_assert_cmpstr (info->user_unit, ==, c->user_unit);
  g_assert_cmpstr (info->app_id, ==, c->app_id);
}

#define USER "/user.slice/user-1000.slice/user@1000.service"

static void
test_real_names (void)
{
  const Case cases[] = {
    /* GNOME Shell launches */
    { USER "/app.slice/app-gnome-firefox-4182.scope", "app-gnome-firefox-4182.scope", "app.slice",
      "app-gnome-firefox-4182.scope", "firefox" },
    { USER "/app.slice/app-gnome-google\\x2dchrome-11396.scope",
      "app-gnome-google\\x2dchrome-11396.scope", "app.slice",
      "app-gnome-google\\x2dchrome-11396.scope", "google-chrome" },
    { USER "/app.slice/app-gnome-org.gnome.TextEditor-123.scope",
      "app-gnome-org.gnome.TextEditor-123.scope", "app.slice",
      "app-gnome-org.gnome.TextEditor-123.scope", "org.gnome.TextEditor" },
    { USER "/app.slice/app-gnome-org.gnome.Evolution\\x2dalarm\\x2dnotify-2437.scope",
      "app-gnome-org.gnome.Evolution\\x2dalarm\\x2dnotify-2437.scope", "app.slice",
      "app-gnome-org.gnome.Evolution\\x2dalarm\\x2dnotify-2437.scope",
      "org.gnome.Evolution-alarm-notify" },
    /* Flatpak */
    { USER "/app.slice/app-flatpak-org.mozilla.firefox-77.scope",
      "app-flatpak-org.mozilla.firefox-77.scope", "app.slice",
      "app-flatpak-org.mozilla.firefox-77.scope", "org.mozilla.firefox" },
    { USER "/app.slice/app-flatpak-org.telegram.desktop@12345.service",
      "app-flatpak-org.telegram.desktop@12345.service", "app.slice",
      "app-flatpak-org.telegram.desktop@12345.service", "org.telegram.desktop" },
    /* KDE Plasma */
    { USER "/app.slice/app-org.kde.konsole@0b21d1ac1ea4460d8c1d1a3c1b2e2f4a.service",
      "app-org.kde.konsole@0b21d1ac1ea4460d8c1d1a3c1b2e2f4a.service", "app.slice",
      "app-org.kde.konsole@0b21d1ac1ea4460d8c1d1a3c1b2e2f4a.service", "org.kde.konsole" },
    { USER "/app.slice/app-KDE-org.kde.okular@12345.service",
      "app-KDE-org.kde.okular@12345.service", "app.slice", "app-KDE-org.kde.okular@12345.service",
      "org.kde.okular" },
    { USER "/app.slice/app-org.kde.dolphin-3c7f0bb1e8aa4d9a.scope",
      "app-org.kde.dolphin-3c7f0bb1e8aa4d9a.scope", "app.slice",
      "app-org.kde.dolphin-3c7f0bb1e8aa4d9a.scope", "org.kde.dolphin" },
    { USER "/app.slice/app-org.kde.amarok.service", "app-org.kde.amarok.service", "app.slice",
      "app-org.kde.amarok.service", "org.kde.amarok" },
    /* @-services: autostart (systemd >= 248 and before), D-Bus activation */
    { USER "/app.slice/app-gnome\\x2dkeyring\\x2dpkcs11@autostart.service",
      "app-gnome\\x2dkeyring\\x2dpkcs11@autostart.service", "app.slice",
      "app-gnome\\x2dkeyring\\x2dpkcs11@autostart.service", "gnome-keyring-pkcs11" },
    { USER "/app.slice/app-org.gnome.Evince-autostart.service",
      "app-org.gnome.Evince-autostart.service", "app.slice",
      "app-org.gnome.Evince-autostart.service", "org.gnome.Evince" },
    { USER "/app.slice/app-gnome-org.gnome.Evince-12345.service",
      "app-gnome-org.gnome.Evince-12345.service", "app.slice",
      "app-gnome-org.gnome.Evince-12345.service", "org.gnome.Evince" },
    { USER "/app.slice/dbus-:1.2-org.gnome.Nautilus@0.service",
      "dbus-:1.2-org.gnome.Nautilus@0.service", "app.slice",
      "dbus-:1.2-org.gnome.Nautilus@0.service", NULL },
    /* terminals: the tab's scope is no application */
    { USER "/app.slice/app-org.gnome.Terminal.slice/"
           "vte-spawn-8c1e2a4b-5d6f-4a1b-9c3d-2e4f6a8b0c1d.scope",
      "vte-spawn-8c1e2a4b-5d6f-4a1b-9c3d-2e4f6a8b0c1d.scope", "app-org.gnome.Terminal.slice",
      "vte-spawn-8c1e2a4b-5d6f-4a1b-9c3d-2e4f6a8b0c1d.scope", NULL },
    { USER "/app.slice/app-org.gnome.Terminal.slice/gnome-terminal-server.service",
      "gnome-terminal-server.service", "app-org.gnome.Terminal.slice",
      "gnome-terminal-server.service", NULL },
    { USER "/app.slice/kitty-5596-0.scope", "kitty-5596-0.scope", "app.slice", "kitty-5596-0.scope",
      NULL },
    { USER "/app.slice/snap.firefox.firefox-2b3c1f8e-0d8c-4a7b-8a52-3c7c9d1f2e4a.scope",
      "snap.firefox.firefox-2b3c1f8e-0d8c-4a7b-8a52-3c7c9d1f2e4a.scope", "app.slice",
      "snap.firefox.firefox-2b3c1f8e-0d8c-4a7b-8a52-3c7c9d1f2e4a.scope", NULL },
    /* the user manager, sessions, system services, nested cgroups */
    { USER, "user@1000.service", "user-1000.slice", NULL, NULL },
    { USER "/init.scope", "init.scope", "user-1000.slice", "init.scope", NULL },
    { USER "/session.slice/org.gnome.Shell@wayland.service", "org.gnome.Shell@wayland.service",
      "session.slice", "org.gnome.Shell@wayland.service", NULL },
    { "/user.slice/user-1000.slice/session-2.scope", "session-2.scope", "user-1000.slice", NULL,
      NULL },
    { "/system.slice/docker-0123abcd.scope/init.scope", "init.scope", "system.slice", NULL, NULL },
    { "/system.slice/nginx.service", "nginx.service", "system.slice", NULL, NULL },
    { "/system.slice/app-foo-1.scope", "app-foo-1.scope", "system.slice", NULL, "foo" },
    { USER "/app.slice/app-gnome-firefox-4182.scope/tab-3", "app-gnome-firefox-4182.scope",
      "app.slice", "app-gnome-firefox-4182.scope", "firefox" },
    { "/user.slice", NULL, "user.slice", NULL, NULL },
    { "/", NULL, NULL, NULL, NULL },
    { "/oomwatch-test-77/desk/app", NULL, NULL, NULL, NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    check (&cases[i]);
}

static void
test_hostile (void)
{
  g_autofree char *long_unit = NULL;
  g_autofree char *longest_unit = NULL;
  g_autofree char *huge = NULL;
  g_autofree char *deep = NULL;
  const Case cases[] = {
    { "", NULL, NULL, NULL, NULL },
    { "////", NULL, NULL, NULL, NULL },
    { "//a.service//", "a.service", NULL, NULL, NULL },
    { "/.service/.scope/.slice", NULL, NULL, NULL, NULL },
    { "/@a.service/a@b@c.service", NULL, NULL, NULL, NULL },
    { "/x.service/a b.scope/ünï.service", "x.service", NULL, NULL, NULL },
    { "/\xff\xfe.service/app-\xc3\x28-1.scope", NULL, NULL, NULL, NULL },
    /* app units that break the convention: no app-id */
    { "/app-.service", "app-.service", NULL, NULL, NULL },
    { "/app--1.scope", "app--1.scope", NULL, NULL, NULL },
    { "/app-gnome--1.scope", "app-gnome--1.scope", NULL, NULL, NULL },
    { "/app-firefox.scope", "app-firefox.scope", NULL, NULL, NULL },
    { "/app-foo-.scope", "app-foo-.scope", NULL, NULL, NULL },
    { "/app-@x.service", "app-@x.service", NULL, NULL, NULL },
    /* bad escapes */
    { "/app-gnome-a\\x2-1.scope", "app-gnome-a\\x2-1.scope", NULL, NULL, NULL },
    { "/app-gnome-a\\xzz-1.scope", "app-gnome-a\\xzz-1.scope", NULL, NULL, NULL },
    { "/app-gnome-a\\y41-1.scope", "app-gnome-a\\y41-1.scope", NULL, NULL, NULL },
    { "/app-gnome-a\\-1.scope", "app-gnome-a\\-1.scope", NULL, NULL, NULL },
    { "/app-gnome-\\x00a-1.scope", "app-gnome-\\x00a-1.scope", NULL, NULL, NULL },
    { "/app-gnome-\\xff\\xfe-1.scope", "app-gnome-\\xff\\xfe-1.scope", NULL, NULL, NULL },
    { "/app-gnome-a\\x2fb-1.scope", "app-gnome-a\\x2fb-1.scope", NULL, NULL, NULL },
    { "/app-gnome-a\\x0ab-1.scope", "app-gnome-a\\x0ab-1.scope", NULL, NULL, NULL },
    { "/app-gnome-\\xc3\\xa9t\\xc3\\xa9-1.scope", "app-gnome-\\xc3\\xa9t\\xc3\\xa9-1.scope", NULL,
      NULL, "été" },
    /* user managers that are not */
    { "/user@.service/a.scope", "a.scope", NULL, NULL, NULL },
    { "/user@10x0.service/a.scope", "a.scope", NULL, NULL, NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    check (&cases[i]);

  /* Unit names of 255 bytes are systemd's longest; 256 is no unit. */
  {
    g_autofree char *id = g_strnfill (OOMWATCH_UNIT_NAME_MAX - strlen ("app--1.scope"), 'i');
    g_autofree char *path = NULL;
    g_autoptr (OomwatchUnitInfo) info = NULL;

    longest_unit = g_strdup_printf ("app-%s-1.scope", id);
    g_assert_cmpuint (strlen (longest_unit), ==, OOMWATCH_UNIT_NAME_MAX);
    path = g_strdup_printf ("/a.slice/%s", longest_unit);
    info = oomwatch_unit_info_new (path);
    g_assert_cmpstr (info->unit, ==, longest_unit);
    g_assert_cmpstr (info->app_id, ==, id);

    long_unit = g_strdup_printf ("app-%si-1.scope", id);
    g_clear_pointer (&path, g_free);
    g_clear_pointer (&info, oomwatch_unit_info_free);
    path = g_strdup_printf ("/a.slice/%s", long_unit);
    info = oomwatch_unit_info_new (path);
    g_assert_null (info->unit);
    g_assert_null (info->app_id);
  }
  /* Paths beyond 4096 bytes are not parsed at all; deep ones are, in one pass. */
  {
    g_autofree char *tail = g_strnfill (5000, 'x');

    huge = g_strdup_printf ("/a.service/%s", tail);
  }
  {
    g_autoptr (OomwatchUnitInfo) info = oomwatch_unit_info_new (huge);

    g_assert_true (oomwatch_unit_info_is_empty (info));
  }
  {
    g_autoptr (GString) path = g_string_new (NULL);
    g_autoptr (OomwatchUnitInfo) info = NULL;

    while (path->len < 4000)
      g_string_append (path, "/s.slice/u.service");
    deep = g_string_free (g_steal_pointer (&path), FALSE);
    info = oomwatch_unit_info_new (deep);
    g_assert_cmpstr (info->unit, ==, "u.service");
    g_assert_cmpstr (info->slice, ==, "s.slice");
  }
  {
    g_autoptr (OomwatchUnitInfo) info = oomwatch_unit_info_new (NULL);

    g_assert_true (oomwatch_unit_info_is_empty (info));
  }
}

static void
test_details (void)
{
  g_autoptr (OomwatchUnitInfo) info
      = oomwatch_unit_info_new (USER "/app.slice/app-flatpak-org.mozilla.firefox-77.scope");
  g_autoptr (OomwatchUnitInfo) none = oomwatch_unit_info_new ("/a/b");
  g_auto (GVariantBuilder) dict = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr (GVariant) details = NULL;
  const char *value;

  oomwatch_unit_info_add_details (info, &dict);
  oomwatch_unit_info_add_details (none, &dict);
  details = g_variant_ref_sink (g_variant_builder_end (&dict));
  g_assert_cmpuint (g_variant_n_children (details), ==, 4);
  g_assert_true (g_variant_lookup (details, OOMWATCH_KEY_APP_ID, "&s", &value));
  g_assert_cmpstr (value, ==, "org.mozilla.firefox");
  g_assert_true (g_variant_lookup (details, OOMWATCH_KEY_USER_UNIT, "&s", &value));
  g_assert_cmpstr (value, ==, "app-flatpak-org.mozilla.firefox-77.scope");
  g_assert_true (g_variant_lookup (details, OOMWATCH_KEY_SLICE, "&s", &value));
  g_assert_cmpstr (value, ==, "app.slice");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/unit-names/real", test_real_names);
  g_test_add_func ("/unit-names/hostile", test_hostile);
  g_test_add_func ("/unit-names/details", test_details);
  return g_test_run ();
}
