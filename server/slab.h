/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * slab.h - a pool of equal-sized objects on pages of their own.
 *
 * Allocations are created by the thousand and often released all at once. In
 * the malloc heap their structs end up interleaved with small objects that live
 * on (libevent's per-descriptor map entries), so after a mass release every
 * page stays pinned and RSS stays at its peak. Here the objects live on aligned
 * 64 KB pages that hold nothing else: a page whose last object goes is unmapped
 * (one empty page is kept to absorb create/free churn).
 *
 * Thread-safe (a mutex of its own: create and free are not the packet path).
 * Objects come back zeroed. Under AddressSanitizer free slots are poisoned.
 */
#ifndef TP_SLAB_H
#define TP_SLAB_H

#include <stddef.h>

struct tp_slab;

/* obj_size up to a few KB. NULL on out of memory. */
struct tp_slab *tp_slab_create(size_t obj_size);
/* Every object must have been freed. */
void tp_slab_destroy(struct tp_slab *sl);
void *tp_slab_alloc(struct tp_slab *sl);
void tp_slab_free(struct tp_slab *sl, void *obj);

/* Pages mapped now and objects live (for tests and stats). */
void tp_slab_stats(struct tp_slab *sl, size_t *pages, size_t *live);

#endif
