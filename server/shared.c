/*
 * shared.c - state shared by the worker loops (see shared.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "alloc.h"
#include "ports.h"
#include "shared.h"
#include "slab.h"

#define USER_BUCKETS 1024
#define TICKET_BUCKETS 1024

struct tp_user_count {
	struct tp_user_count *next;
	uint32_t count;
	uint16_t len;
	char name[];
};

struct tp_ticket_ref {
	struct tp_ticket_ref *next;
	uint8_t ticket[32];
	uint8_t len;
	unsigned worker;
	uint64_t user_hash;
};

uint64_t tp_shared_hash(const struct tp_shared *sh, const void *b, size_t n)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, b, n, sh->hash_key);
	memcpy(&v, h, sizeof(v));
	return v;
}

struct tp_shared *tp_shared_create(void)
{
	struct tp_shared *sh = calloc(1, sizeof(*sh));

	if (!sh)
		return NULL;
	pthread_mutex_init(&sh->mu, NULL);
	randombytes_buf(sh->hash_key, sizeof(sh->hash_key));
	randombytes_buf(sh->nonce_key, sizeof(sh->nonce_key));
	sh->utab_size = USER_BUCKETS;
	sh->utab = calloc(sh->utab_size, sizeof(*sh->utab));
	sh->tickets = calloc(TICKET_BUCKETS, sizeof(*sh->tickets));
	sh->alloc_slab = tp_slab_create(sizeof(struct tp_alloc));
	if (!sh->utab || !sh->tickets || !sh->alloc_slab) {
		tp_shared_free(sh);
		return NULL;
	}
	return sh;
}

void tp_shared_free(struct tp_shared *sh)
{
	if (!sh)
		return;
	for (size_t i = 0; sh->utab && i < sh->utab_size; i++)
		while (sh->utab[i]) {
			struct tp_user_count *n = sh->utab[i]->next;

			free(sh->utab[i]);
			sh->utab[i] = n;
		}
	for (size_t i = 0; sh->tickets && i < TICKET_BUCKETS; i++)
		while (sh->tickets[i]) {
			struct tp_ticket_ref *n = sh->tickets[i]->next;

			free(sh->tickets[i]);
			sh->tickets[i] = n;
		}
	free(sh->utab);
	free(sh->tickets);
	tp_slab_destroy(sh->alloc_slab);
	tp_portpool_free(sh->pool4);
	tp_portpool_free(sh->pool6);
	pthread_mutex_destroy(&sh->mu);
	sodium_memzero(sh->nonce_key, sizeof(sh->nonce_key));
	free(sh);
}

/* ---- per-user counts ---- */

static struct tp_user_count **uc_slot(struct tp_shared *sh, const char *u, size_t len)
{
	struct tp_user_count **pp = &sh->utab[tp_shared_hash(sh, u, len) % sh->utab_size];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->len == len && memcmp((*pp)->name, u, len) == 0)
			break;
	return pp;
}

uint32_t tp_shared_user_count(struct tp_shared *sh, const char *u, size_t len)
{
	struct tp_user_count *uc = *uc_slot(sh, u, len);

	return uc ? uc->count : 0;
}

struct tp_user_count *tp_shared_user_get(struct tp_shared *sh, const char *u, size_t len)
{
	struct tp_user_count **pp = uc_slot(sh, u, len);

	if (!*pp) {
		struct tp_user_count *uc = calloc(1, sizeof(*uc) + len + 1);

		if (!uc)
			return NULL;
		uc->len = (uint16_t)len;
		memcpy(uc->name, u, len);
		*pp = uc;
	}
	(*pp)->count++;
	return *pp;
}

void tp_shared_user_put(struct tp_shared *sh, struct tp_user_count *uc)
{
	if (!uc || --uc->count > 0)
		return;
	struct tp_user_count **pp = uc_slot(sh, uc->name, uc->len);

	*pp = uc->next;
	free(uc);
}

/* ---- mobility tickets ---- */

static struct tp_ticket_ref **ticket_slot(struct tp_shared *sh, const uint8_t *t, size_t len)
{
	struct tp_ticket_ref **pp = &sh->tickets[tp_shared_hash(sh, t, len) % TICKET_BUCKETS];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->len == len && sodium_memcmp((*pp)->ticket, t, len) == 0)
			break;
	return pp;
}

int tp_shared_ticket_add(struct tp_shared *sh, const uint8_t *t, size_t len, unsigned worker,
                         uint64_t user_hash)
{
	struct tp_ticket_ref **pp, *r;

	if (len > sizeof(r->ticket))
		return -EINVAL;
	pp = ticket_slot(sh, t, len);
	r = *pp ? *pp : calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (!*pp) {
		memcpy(r->ticket, t, len);
		r->len = (uint8_t)len;
		*pp = r;
	}
	r->worker = worker;
	r->user_hash = user_hash;
	return 0;
}

void tp_shared_ticket_del(struct tp_shared *sh, const uint8_t *t, size_t len)
{
	struct tp_ticket_ref **pp = ticket_slot(sh, t, len), *r = *pp;

	if (r) {
		*pp = r->next;
		free(r);
	}
}

int tp_shared_ticket_find(struct tp_shared *sh, const uint8_t *t, size_t len, unsigned *worker,
                          uint64_t *user_hash)
{
	struct tp_ticket_ref *r = *ticket_slot(sh, t, len);

	if (!r)
		return -ENOENT;
	*worker = r->worker;
	*user_hash = r->user_hash;
	return 0;
}
