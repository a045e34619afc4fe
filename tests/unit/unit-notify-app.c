/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The notifier's words for who was stopped: a container or pod by the names the node gave. */
#include "notify-app.h"
#include "oomwatch-names.h"

static char *
name_of (const char *const *pairs)
{
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  g_autoptr (GVariant) details = NULL;
  NotifyApp *app;
  char *name;

  for (gsize i = 0; pairs[i] != NULL; i += 2)
    g_variant_dict_insert (&dict, pairs[i], "s", pairs[i + 1]);
  details = g_variant_ref_sink (g_variant_dict_end (&dict));
  app = notify_app_resolve (details);
  name = g_strdup (app->name);
  notify_app_free (app);
  return name;
}

static void
test_container (void)
{
  g_autofree char *named = name_of ((const char *const[]){
      OOMWATCH_KEY_UNIT, "cri-containerd-ab.scope", OOMWATCH_KEY_CONTAINER_ID, "0123456789abcdef",
      OOMWATCH_KEY_POD_NAMESPACE, "shop", OOMWATCH_KEY_POD_NAME, "web-0",
      OOMWATCH_KEY_CONTAINER_NAME, "web", NULL });
  g_autofree char *pod = name_of ((const char *const[]){ OOMWATCH_KEY_POD_NAMESPACE, "shop",
                                                         OOMWATCH_KEY_POD_NAME, "web-0", NULL });
  g_autofree char *bare
      = name_of ((const char *const[]){ OOMWATCH_KEY_UNIT, "docker-0123456789abcdef.scope",
                                        OOMWATCH_KEY_CONTAINER_ID, "0123456789abcdef", NULL });
  g_autofree char *unit = name_of ((const char *const[]){ OOMWATCH_KEY_UNIT, "a.service", NULL });

  g_assert_cmpstr (named, ==, "Container web of pod shop/web-0");
  g_assert_cmpstr (pod, ==, "Pod shop/web-0");
  g_assert_cmpstr (bare, ==, "Container 0123456789ab");
  g_assert_cmpstr (unit, ==, "a.service");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/notify-app/container", test_container);
  return g_test_run ();
}
