/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conf_users.c - the static users: their { name; password | key; } groups,
 * the users-file, the keys computed with the final realm, the USERHASH table,
 * and the lookups the server makes per request (binary searches, no hashing).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf_priv.h"

/* ---- users ----------------------------------------------------------- */

static int parse_key(uint8_t key[16], const char *s)
{
	if (strncmp(s, "0x", 2) != 0 && strncmp(s, "0X", 2) != 0)
		return -1;
	s += 2;
	if (strlen(s) != 32)
		return -1;
	for (int i = 0; i < 16; i++) {
		unsigned v = 0;
		for (int j = 0; j < 2; j++) {
			char ch = s[2 * i + j];
			v <<= 4;
			if (ch >= '0' && ch <= '9')
				v |= (unsigned)(ch - '0');
			else if (ch >= 'a' && ch <= 'f')
				v |= (unsigned)(ch - 'a' + 10);
			else if (ch >= 'A' && ch <= 'F')
				v |= (unsigned)(ch - 'A' + 10);
			else
				return -1;
		}
		key[i] = (uint8_t)v;
	}
	return 0;
}

/* One { name = ...; password = ... | key = ...; } group into u. */
static int apply_user(struct ld *ld, const struct opt *o, const config_setting_t *g,
                      struct tp_user *u)
{
	const config_setting_t *name = NULL, *pass = NULL, *key = NULL;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return fail(ld, g, o->name, "wrong type: %s (expected a group { name = ...; "
		            "password = ...; })", type_name(g));
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *mn = config_setting_name(m);
		const config_setting_t **slot = !strcmp(mn, "name") ? &name :
		                                !strcmp(mn, "password") ? &pass :
		                                !strcmp(mn, "key") ? &key : NULL;
		if (!slot)
			return fail(ld, m, o->name, "unknown option \"%s\" in a user (expected "
			            "name, password or key)", mn);
		if (config_setting_type(m) != CONFIG_TYPE_STRING)
			return fail(ld, m, o->name, "%s: wrong type: %s (expected a string)", mn,
			            type_name(m));
		*slot = m;
	}
	if (!name || !*config_setting_get_string(name))
		return fail(ld, g, o->name, "a user without a name (expected name = \"...\")");
	const char *nm = config_setting_get_string(name);
	if (strlen(nm) > TP_MAX_USERNAME)
		return fail(ld, name, o->name, "\"%.32s...\": name too long (expected at most %d "
		            "bytes)", nm, TP_MAX_USERNAME);
	if (pass && key)
		return fail(ld, key, o->name, "\"%s\": key and password are exclusive (expected "
		            "one of them)", nm);
	if (!pass && !key)
		return fail(ld, g, o->name, "\"%s\": no password and no key (expected one of "
		            "them)", nm);
	if (!(u->name = strdup(nm)))
		return fail(ld, g, o->name, "out of memory");
	if (pass) {
		const char *pw = config_setting_get_string(pass);
		if (!*pw)
			return fail(ld, pass, o->name, "\"%s\": empty password", nm);
		if (hidden_check(ld, pass, o->name, "the password", pw))
			return -1;
		if (!(u->password = strdup(pw)))
			return fail(ld, g, o->name, "out of memory");
	} else {
		const char *k = config_setting_get_string(key);
		if (hidden_check(ld, key, o->name, "the key", k))
			return -1;
		if (parse_key(u->key_md5, k))
			return fail(ld, key, o->name, "\"%s\": bad key (expected \"0x\" and 32 hex "
			            "digits: MD5(name:realm:password))", nm);
	}
	return 0;
}

void tp_cfg_free_users(struct tp_conf *c)
{
	for (size_t i = 0; i < c->nusers; i++) {
		free(c->users[i].name);
		if (c->users[i].password) {
			size_t n = strlen(c->users[i].password);
			memset(c->users[i].password, 0, n);
			free(c->users[i].password);
		}
	}
	if (c->users)
		memset(c->users, 0, c->nusers * sizeof(*c->users));
	free(c->users);
	c->users = NULL;
	c->nusers = 0;
}

int tp_cfg_apply_users(struct ld *ld, const struct opt *o, const config_setting_t *s)
{
	struct tp_conf *c = ld->c;
	int n = config_setting_length(s);

	if (config_setting_type(s) != CONFIG_TYPE_LIST &&
	    !(config_setting_type(s) == CONFIG_TYPE_ARRAY && n == 0))
		return fail(ld, s, o->name, "wrong type: %s (expected a list of groups: "
		            "( { name = ...; password = ...; }, ... ))", type_name(s));
	if (n > o->max)
		return fail(ld, s, o->name, "too many entries (expected at most %lld)", o->max);
	tp_cfg_free_users(c);
	if (n == 0)
		return 0;
	if (!(c->users = calloc((size_t)n, sizeof(*c->users))))
		return fail(ld, s, o->name, "out of memory");
	for (int i = 0; i < n; i++) {
		/* Counted first, so that tp_conf_free frees a half-made entry. */
		c->nusers++;
		if (apply_user(ld, o, config_setting_get_elem(s, (unsigned)i), &c->users[i]))
			return -1;
	}
	return 0;
}

static int user_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tp_user *)a)->name, ((const struct tp_user *)b)->name);
}

static int uhash_cmp(const void *a, const void *b)
{
	return memcmp(((const struct tp_userhash *)a)->hash, ((const struct tp_userhash *)b)->hash,
	              32);
}

/* USERHASH of every user, sorted, so a request's USERHASH costs a binary
 * search instead of one SHA-256 per configured user. Users sorted first. */
static int build_userhash(struct tp_conf *c)
{
	struct tp_userhash *h = c->nusers ? calloc(c->nusers, sizeof(*h)) : NULL;

	if (c->nusers && !h)
		return -ENOMEM;
	for (size_t i = 0; i < c->nusers; i++) {
		tp_userhash(c->users[i].name, strlen(c->users[i].name), c->realm, strlen(c->realm),
		            h[i].hash);
		h[i].user = (uint32_t)i;
	}
	if (c->nusers > 1)
		qsort(h, c->nusers, sizeof(*h), uhash_cmp);
	free(c->userhash);
	c->userhash = h;
	return 0;
}

int tp_cfg_finish_users(struct ld *ld)
{
	struct tp_conf *c = ld->c;
	const struct opt *o = find_opt("users");
	const config_setting_t *list = ld->src[o - tp_cfg_opts];

	for (size_t i = 0; i < c->nusers; i++) {
		struct tp_user *u = &c->users[i];
		const config_setting_t *where = list ? config_setting_get_elem(list, (unsigned)i)
		                                     : NULL;
		uint8_t key[TP_KEY_MAX];
		size_t klen;
		enum tp_perr e;

		if (!u->password)
			continue;
		e = tp_key_long_term(TP_PWALG_MD5, u->name, strlen(u->name), c->realm,
		                     strlen(c->realm), u->password, strlen(u->password), key, &klen);
		if (e == TP_P_OK && klen == sizeof(u->key_md5))
			memcpy(u->key_md5, key, sizeof(u->key_md5));
		if (e == TP_P_OK)
			e = tp_key_long_term(TP_PWALG_SHA256, u->name, strlen(u->name), c->realm,
			                     strlen(c->realm), u->password, strlen(u->password),
			                     key, &klen);
		if (e != TP_P_OK || klen != sizeof(u->key_sha256)) {
			tp_cfg_set_origin(ld, o);
			return fail(ld, where, o->name, "\"%s\": unusable password or realm: %s",
			            u->name, e != TP_P_OK ? tp_perr_str(e) : "bad key length");
		}
		memcpy(u->key_sha256, key, sizeof(u->key_sha256));
		u->has_sha256 = true;
		memset(key, 0, sizeof(key));
	}
	if (c->nusers > 1)
		qsort(c->users, c->nusers, sizeof(*c->users), user_cmp);
	for (size_t i = 1; i < c->nusers; i++) {
		if (strcmp(c->users[i - 1].name, c->users[i].name) != 0)
			continue;
		/* Find the second occurrence in the file for the line. */
		const config_setting_t *where = NULL;
		int seen = 0;
		for (int j = 0; list && j < config_setting_length(list) && !where; j++) {
			const config_setting_t *g = config_setting_get_elem(list, (unsigned)j);
			const char *nm = NULL;
			if (config_setting_lookup_string(g, "name", &nm) &&
			    strcmp(nm, c->users[i].name) == 0 && seen++)
				where = g;
		}
		tp_cfg_set_origin(ld, o);
		return fail(ld, where, o->name, "\"%s\": a second user of this name",
		            c->users[i].name);
	}
	if (build_userhash(c) != 0)
		return fail(ld, NULL, o->name, "out of memory");
	return 0;
}

/* users-file: its users = ( ... ) are added to the main file's. */
int tp_cfg_load_users_file(struct ld *ld)
{
	struct tp_conf *c = ld->c;
	const struct opt *o = find_opt("users");
	const config_setting_t *list, *root;
	const char *saved = ld->origin;
	config_t doc;
	int rc = -1;

	if (!c->users_file || !c->users_file[0])
		return 0;
	config_init(&doc);
	ld->origin = c->users_file;
	if (tp_cfg_read_doc(ld, &doc, c->users_file))
		goto out;
	root = config_root_setting(&doc);
	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *e = config_setting_get_elem(root, (unsigned)i);

		if (strcmp(config_setting_name(e), "users") != 0) {
			fail(ld, e, config_setting_name(e), "unknown option in a users-file (expected "
			     "only users = ( ... ))");
			goto out;
		}
	}
	list = config_lookup(&doc, "users");
	if (list && config_setting_type(list) != CONFIG_TYPE_LIST &&
	    !(config_setting_type(list) == CONFIG_TYPE_ARRAY && config_setting_length(list) == 0)) {
		fail(ld, list, o->name, "wrong type: %s (expected a list of groups)", type_name(list));
		goto out;
	}
	for (int i = 0; list && i < config_setting_length(list); i++) {
		struct tp_user *u;

		if (c->nusers >= (size_t)o->max) {
			fail(ld, list, o->name, "too many users (expected at most %lld in all)", o->max);
			goto out;
		}
		u = realloc(c->users, (c->nusers + 1) * sizeof(*u));
		if (!u) {
			fail(ld, list, o->name, "out of memory");
			goto out;
		}
		c->users = u;
		memset(&c->users[c->nusers], 0, sizeof(c->users[0]));
		c->nusers++;
		if (apply_user(ld, o, config_setting_get_elem(list, (unsigned)i),
		               &c->users[c->nusers - 1]))
			goto out;
	}
	rc = 0;
out:
	config_destroy(&doc);
	ld->origin = saved;
	return rc;
}

/* ---- lookup ---------------------------------------------------------- */

static int name_cmp(const char *name, size_t len, const char *s)
{
	size_t sl = strlen(s);
	int r = memcmp(name, s, len < sl ? len : sl);

	if (r)
		return r;
	return len < sl ? -1 : len > sl ? 1 : 0;
}

const struct tp_user *tp_conf_user(const struct tp_conf *c, const char *name, size_t len)
{
	size_t lo = 0, hi = c->nusers;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = name_cmp(name, len, c->users[mid].name);
		if (r == 0)
			return &c->users[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int tp_conf_add_user(struct tp_conf *c, const char *name, const char *password)
{
	struct tp_user *users, *u;
	uint8_t md5[TP_KEY_MAX], sha[TP_KEY_MAX];
	size_t klen;

	if (tp_conf_user(c, name, strlen(name)))
		return -EEXIST;
	users = realloc(c->users, (c->nusers + 1) * sizeof(*users));
	if (!users)
		return -ENOMEM;
	c->users = users;
	u = &users[c->nusers];
	memset(u, 0, sizeof(*u));
	u->name = strdup(name);
	u->password = strdup(password);
	if (!u->name || !u->password ||
	    tp_key_long_term(TP_PWALG_MD5, name, strlen(name), c->realm, strlen(c->realm), password,
	                     strlen(password), md5, &klen) != TP_P_OK ||
	    tp_key_long_term(TP_PWALG_SHA256, name, strlen(name), c->realm, strlen(c->realm),
	                     password, strlen(password), sha, &klen) != TP_P_OK) {
		free(u->name);
		free(u->password);
		return -EINVAL;
	}
	memcpy(u->key_md5, md5, sizeof(u->key_md5));
	memcpy(u->key_sha256, sha, sizeof(u->key_sha256));
	u->has_sha256 = true;
	c->nusers++;
	qsort(c->users, c->nusers, sizeof(*c->users), user_cmp);
	return build_userhash(c);
}

const struct tp_user *tp_conf_user_by_hash(const struct tp_conf *c, const uint8_t hash[32])
{
	size_t lo = 0, hi = c->userhash ? c->nusers : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = memcmp(hash, c->userhash[mid].hash, 32);

		if (r == 0)
			return &c->users[c->userhash[mid].user];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}
