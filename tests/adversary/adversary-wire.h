/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A raw D-Bus client for the adversary suite: it writes messages GDBus would not build for
 * us (any number of fds, a 32 MB body marshalled once) as fast as the socket takes them. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  int fd;
  guint32 serial;
  guint outstanding; /* calls sent with a reply expected, not yet answered */
  guint64 sent;      /* messages sent, Hello included */
  GByteArray *in;    /* bytes read but not yet parsed */
} AdvWire;

/* A message body in D-Bus wire format (little endian), built by the adv_body_* calls. */
typedef GByteArray AdvBody;

AdvWire *adv_wire_connect (const char *address, gboolean unix_fds, GError **error);
void adv_wire_free (AdvWire *wire);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AdvWire, adv_wire_free)

GByteArray *adv_wire_method_call (const char *destination, const char *path, const char *interface,
                                  const char *member, const char *signature, const AdvBody *body,
                                  guint32 n_fds, gboolean no_reply);
GByteArray *adv_wire_message (guint8 type, const char *destination, const char *path,
                              const char *interface, const char *member, const char *signature,
                              const AdvBody *body, guint32 n_fds, gboolean no_reply);
gboolean adv_wire_send (AdvWire *wire, GByteArray *message, const int *fds, guint n_fds,
                        GError **error);
int adv_wire_read (AdvWire *wire, GHashTable *errors, gboolean block, GError **error);

AdvBody *adv_body_new (void);
void adv_body_align (AdvBody *body, guint alignment);
void adv_body_u32 (AdvBody *body, guint32 value);
void adv_body_string (AdvBody *body, const char *value, gsize len);
void adv_body_signature (AdvBody *body, const char *value);
void adv_body_options (AdvBody *body, guint n_keys, const char *key);
const char *adv_body_shape (AdvBody *body, const char *shape, gsize max_bytes);

G_END_DECLS
