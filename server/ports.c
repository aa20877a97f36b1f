/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ports.c - relay port pools (RFC 8656 §7.2 port choice, EVEN-PORT and
 * RESERVATION-TOKEN), see ports.h.
 *
 * A free port is picked from a random start so relay addresses are not
 * predictable (RFC 6056); the caller binds it and gives it back on failure.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ports.h"
#include "rand.h"

static bool used(const struct tp_portpool *p, uint16_t port)
{
	return p->used[port >> 3] & (1u << (port & 7));
}

static void mark(struct tp_portpool *p, uint16_t port, bool on)
{
	if (used(p, port) == on)
		return;
	if (on) {
		p->used[port >> 3] |= (uint8_t)(1u << (port & 7));
		p->nused++;
	} else {
		p->used[port >> 3] &= (uint8_t)~(1u << (port & 7));
		p->nused--;
	}
}

struct tp_portpool *tp_portpool_create(const struct tp_addr *ip)
{
	struct tp_portpool *p = calloc(1, sizeof(*p));

	if (p) {
		p->ip = *ip;
		p->ip.port = 0;
	}
	return p;
}

void tp_portpool_free(struct tp_portpool *p)
{
	free(p);
}

int tp_port_take(struct tp_portpool *p, uint16_t min, uint16_t max, bool even, bool pair,
                 uint16_t *out)
{
	uint32_t span = (uint32_t)max - min + 1;
	uint32_t start = tp_rand_uniform(span);

	for (uint32_t i = 0; i < span; i++) {
		uint16_t port = (uint16_t)(min + (start + i) % span);

		if (used(p, port))
			continue;
		if (even && (port & 1))
			continue;
		if (pair && (port == max || used(p, (uint16_t)(port + 1))))
			continue;
		mark(p, port, true);
		if (pair)
			mark(p, (uint16_t)(port + 1), true);
		*out = port;
		return 0;
	}
	return -ENOSPC;
}

void tp_port_release(struct tp_portpool *p, uint16_t port)
{
	mark(p, port, false);
}

bool tp_port_used(const struct tp_portpool *p, uint16_t port)
{
	return used(p, port);
}

void tp_port_set_live(struct tp_portpool *p, uint16_t port, bool tcp, bool on)
{
	uint64_t bit = (uint64_t)1 << (port & 63);

	if (on)
		atomic_fetch_or_explicit(&p->live[tcp][port >> 6], bit, memory_order_release);
	else
		atomic_fetch_and_explicit(&p->live[tcp][port >> 6], ~bit, memory_order_release);
}

bool tp_port_live(const struct tp_portpool *p, uint16_t port, bool tcp)
{
	uint64_t w = atomic_load_explicit(&p->live[tcp][port >> 6], memory_order_acquire);

	return (w >> (port & 63)) & 1;
}
