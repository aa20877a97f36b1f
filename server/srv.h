/*
 * srv.h - creating, reloading and freeing a server instance.
 */
#ifndef TP_SRV_H
#define TP_SRV_H

#include "server.h"

/* Opens the listeners and relay pools for conf c (borrowed; must outlive the
 * server or be replaced by tp_srv_reload). NULL with a message in err. */
struct tp_srv *tp_srv_create(struct event_base *base, const struct tp_conf *c, char *err,
                             size_t errlen);
/* Swap in a new configuration (users, secrets, peer policy, quotas, lifetimes);
 * allocations stay. The caller frees the old one after this returns. */
int tp_srv_reload(struct tp_srv *s, const struct tp_conf *c);
/* Frees every allocation, closes every socket. */
void tp_srv_free(struct tp_srv *s);
/* Log the listeners, relay addresses and the demo credential. */
void tp_srv_describe(const struct tp_srv *s);

#endif
