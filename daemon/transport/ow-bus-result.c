/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-bus-result.h"

static GObject *
get_source_object (GAsyncResult *result)
{
  return g_object_ref (G_OBJECT (result));
}

static gpointer
get_user_data (GAsyncResult *result)
{
  return NULL;
}

static gboolean
is_tagged (GAsyncResult *result, gpointer tag)
{
  return FALSE;
}

void
ow_bus_result_iface_init (GAsyncResultIface *iface)
{
  iface->get_source_object = get_source_object;
  iface->get_user_data = get_user_data;
  iface->is_tagged = is_tagged;
}
