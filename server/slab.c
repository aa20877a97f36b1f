/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * slab.c - equal-sized objects on pages of their own (see slab.h).
 *
 * A page is TP_SLAB_PAGE bytes aligned to its size, so an object's page is its
 * address rounded down. The header at the start of the page links it into the
 * list of pages with a free slot; a free slot holds the next free slot. Slots
 * come from the free list first, then from the untouched tail ("bump"), so a
 * fresh page is never written beyond what is used.
 */
#include "slab.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TP_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(TP_ASAN)
#define TP_ASAN 1
#endif
#ifdef TP_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define PAGE_SIZE_ ((size_t)64 << 10)

struct page {
	struct page *prev, *next; /* in sl->partial while it has a free slot */
	void *free;               /* released slots, linked through their first word */
	unsigned used, bump;      /* live objects; slots ever handed out */
};

struct tp_slab {
	pthread_mutex_t mu;
	size_t size, per_page, first; /* slot size, slots per page, offset of slot 0 */
	struct page *partial;
	size_t pages, empty, live;
};

struct tp_slab *tp_slab_create(size_t obj_size)
{
	struct tp_slab *sl;
	size_t size = (obj_size + 15) & ~(size_t)15;

	if (!obj_size || size > PAGE_SIZE_ / 8)
		return NULL;
	sl = calloc(1, sizeof(*sl));
	if (!sl)
		return NULL;
	pthread_mutex_init(&sl->mu, NULL);
	sl->size = size;
	sl->first = (sizeof(struct page) + 15) & ~(size_t)15;
	sl->per_page = (PAGE_SIZE_ - sl->first) / size;
	return sl;
}

static void unlink_page(struct tp_slab *sl, struct page *pg)
{
	if (pg->prev)
		pg->prev->next = pg->next;
	else
		sl->partial = pg->next;
	if (pg->next)
		pg->next->prev = pg->prev;
	pg->prev = pg->next = NULL;
}

static void push_page(struct tp_slab *sl, struct page *pg)
{
	pg->prev = NULL;
	pg->next = sl->partial;
	if (sl->partial)
		sl->partial->prev = pg;
	sl->partial = pg;
}

static void unmap_page(struct tp_slab *sl, struct page *pg)
{
	UNPOISON(pg, PAGE_SIZE_);
	munmap(pg, PAGE_SIZE_);
	sl->pages--;
}

/* A fresh page aligned to its size: map twice the size and cut the excess. */
static struct page *map_page(struct tp_slab *sl)
{
	uint8_t *m = mmap(NULL, 2 * PAGE_SIZE_, PROT_READ | PROT_WRITE,
	                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t start, end;

	if (m == MAP_FAILED)
		return NULL;
	start = ((uintptr_t)m + PAGE_SIZE_ - 1) & ~(uintptr_t)(PAGE_SIZE_ - 1);
	end = start + PAGE_SIZE_;
	if (start > (uintptr_t)m)
		munmap(m, start - (uintptr_t)m);
	if ((uintptr_t)m + 2 * PAGE_SIZE_ > end)
		munmap((void *)end, (uintptr_t)m + 2 * PAGE_SIZE_ - end);
	sl->pages++;
	POISON((uint8_t *)start + sl->first, PAGE_SIZE_ - sl->first);
	return (struct page *)start; /* zeroed by mmap */
}

void *tp_slab_alloc(struct tp_slab *sl)
{
	struct page *pg;
	void *obj;

	pthread_mutex_lock(&sl->mu);
	pg = sl->partial;
	if (!pg) {
		pg = map_page(sl);
		if (!pg) {
			pthread_mutex_unlock(&sl->mu);
			return NULL;
		}
		push_page(sl, pg);
		sl->empty++;
	}
	if (pg->used == 0)
		sl->empty--;
	if (pg->free) {
		obj = pg->free;
		UNPOISON(obj, sl->size);
		pg->free = *(void **)obj;
	} else {
		obj = (uint8_t *)pg + sl->first + (size_t)pg->bump++ * sl->size;
		UNPOISON(obj, sl->size);
	}
	if (++pg->used == sl->per_page)
		unlink_page(sl, pg);
	sl->live++;
	pthread_mutex_unlock(&sl->mu);
	memset(obj, 0, sl->size);
	return obj;
}

void tp_slab_free(struct tp_slab *sl, void *obj)
{
	struct page *pg;

	if (!obj)
		return;
	pg = (struct page *)((uintptr_t)obj & ~(uintptr_t)(PAGE_SIZE_ - 1));
	pthread_mutex_lock(&sl->mu);
	if (pg->used == sl->per_page)
		push_page(sl, pg);
	*(void **)obj = pg->free;
	pg->free = obj;
	POISON(obj, sl->size);
	pg->used--;
	sl->live--;
	if (pg->used == 0) {
		/* keep one empty page for the next create; give the rest back */
		if (sl->empty >= 1) {
			unlink_page(sl, pg);
			unmap_page(sl, pg);
		} else {
			sl->empty++;
		}
	}
	pthread_mutex_unlock(&sl->mu);
}

void tp_slab_destroy(struct tp_slab *sl)
{
	if (!sl)
		return;
	while (sl->partial) {
		struct page *pg = sl->partial;

		unlink_page(sl, pg);
		unmap_page(sl, pg);
	}
	pthread_mutex_destroy(&sl->mu);
	free(sl);
}

void tp_slab_stats(struct tp_slab *sl, size_t *pages, size_t *live)
{
	pthread_mutex_lock(&sl->mu);
	*pages = sl->pages;
	*live = sl->live;
	pthread_mutex_unlock(&sl->mu);
}
