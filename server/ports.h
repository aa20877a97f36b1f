/*
 * ports.h - relay port pools.
 */
#ifndef TP_PORTS_H
#define TP_PORTS_H

#include "server.h"

struct tp_portpool *tp_portpool_create(const struct tp_addr *ip);
void tp_portpool_free(struct tp_portpool *p);
/*
 * Take a free port in [min, max] (even if asked; with pair, port+1 too), starting
 * at a random place. 0 or -ENOSPC.
 */
int tp_port_take(struct tp_portpool *p, uint16_t min, uint16_t max, bool even, bool pair, uint16_t *out);
void tp_port_release(struct tp_portpool *p, uint16_t port);
bool tp_port_used(const struct tp_portpool *p, uint16_t port);

#endif
