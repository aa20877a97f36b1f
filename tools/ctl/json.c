/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json.c - a small recursive-descent JSON reader (see json.h). Depth and
 * sizes are bounded by the input, which is the server's own answer.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define MAX_DEPTH 32

struct rd {
	const char *p, *end;
	const char *err;
};

static void ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static struct jnode *node(enum jtype t)
{
	struct jnode *j = calloc(1, sizeof(*j));

	if (j)
		j->type = t;
	return j;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	     : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A string at r->p (the opening quote), decoded into a new buffer. */
static char *string(struct rd *r)
{
	size_t cap = (size_t)(r->end - r->p) + 1, n = 0;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	r->p++;
	while (r->p < r->end && *r->p != '"') {
		char c = *r->p++;

		if (c == '\\') {
			if (r->p >= r->end)
				break;
			c = *r->p++;
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u': {
				int v = 0;

				for (int k = 0; k < 4; k++) {
					int h = r->p < r->end ? hexval(*r->p++) : -1;

					if (h < 0) {
						free(out);
						r->err = "bad \\u escape";
						return NULL;
					}
					v = v << 4 | h;
				}
				if (v < 0x80) {
					c = (char)v;
				} else if (v < 0x800) {
					out[n++] = (char)(0xC0 | v >> 6);
					c = (char)(0x80 | (v & 0x3F));
				} else {
					out[n++] = (char)(0xE0 | v >> 12);
					out[n++] = (char)(0x80 | ((v >> 6) & 0x3F));
					c = (char)(0x80 | (v & 0x3F));
				}
				break;
			}
			default: break; /* \" \\ \/ */
			}
		}
		out[n++] = c;
	}
	if (r->p >= r->end) {
		free(out);
		r->err = "unterminated string";
		return NULL;
	}
	r->p++;
	out[n] = '\0';
	return out;
}

static struct jnode *value(struct rd *r, int depth);

static struct jnode *list(struct rd *r, int depth, bool obj)
{
	struct jnode *j = node(obj ? J_OBJ : J_ARR), **tail;

	if (!j)
		return NULL;
	tail = &j->child;
	r->p++;
	ws(r);
	if (r->p < r->end && *r->p == (obj ? '}' : ']')) {
		r->p++;
		return j;
	}
	for (;;) {
		char *key = NULL;
		struct jnode *v;

		ws(r);
		if (obj) {
			if (r->p >= r->end || *r->p != '"' || !(key = string(r))) {
				r->err = r->err ? r->err : "expected a member name";
				goto bad;
			}
			ws(r);
			if (r->p >= r->end || *r->p++ != ':') {
				free(key);
				r->err = "expected ':'";
				goto bad;
			}
		}
		v = value(r, depth + 1);
		if (!v) {
			free(key);
			goto bad;
		}
		v->key = key;
		*tail = v;
		tail = &v->next;
		ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == (obj ? '}' : ']')) {
			r->p++;
			return j;
		}
		r->err = "expected ',' or the end of the list";
		goto bad;
	}
bad:
	json_free(j);
	return NULL;
}

static struct jnode *value(struct rd *r, int depth)
{
	struct jnode *j;

	ws(r);
	if (r->p >= r->end || depth > MAX_DEPTH) {
		r->err = depth > MAX_DEPTH ? "nested too deep" : "unexpected end";
		return NULL;
	}
	switch (*r->p) {
	case '{':
		return list(r, depth, true);
	case '[':
		return list(r, depth, false);
	case '"':
		j = node(J_STR);
		if (j && !(j->str = string(r))) {
			free(j);
			return NULL;
		}
		return j;
	}
	if ((size_t)(r->end - r->p) >= 4 && !strncmp(r->p, "true", 4)) {
		r->p += 4;
		j = node(J_BOOL);
		if (j)
			j->b = true;
		return j;
	}
	if ((size_t)(r->end - r->p) >= 5 && !strncmp(r->p, "false", 5)) {
		r->p += 5;
		return node(J_BOOL);
	}
	if ((size_t)(r->end - r->p) >= 4 && !strncmp(r->p, "null", 4)) {
		r->p += 4;
		return node(J_NULL);
	}
	{
		const char *s = r->p;

		while (r->p < r->end && strchr("+-0123456789.eE", *r->p))
			r->p++;
		if (r->p == s) {
			r->err = "unexpected character";
			return NULL;
		}
		j = node(J_NUM);
		if (!j || !(j->str = strndup(s, (size_t)(r->p - s)))) {
			free(j);
			return NULL;
		}
		j->num = strtod(j->str, NULL);
		return j;
	}
}

struct jnode *json_parse(const char *text, size_t n, const char **err)
{
	struct rd r = { text, text + n, NULL };
	struct jnode *j = value(&r, 0);

	if (j) {
		ws(&r);
		if (r.p != r.end) {
			json_free(j);
			j = NULL;
			r.err = "trailing text";
		}
	}
	if (err)
		*err = r.err ? r.err : "out of memory";
	return j;
}

void json_free(struct jnode *j)
{
	while (j) {
		struct jnode *next = j->next;

		json_free(j->child);
		free(j->key);
		free(j->str);
		free(j);
		j = next;
	}
}

const struct jnode *json_get(const struct jnode *obj, const char *key)
{
	if (!obj || obj->type != J_OBJ)
		return NULL;
	for (const struct jnode *c = obj->child; c; c = c->next)
		if (c->key && strcmp(c->key, key) == 0)
			return c;
	return NULL;
}

const char *json_str(const struct jnode *obj, const char *key)
{
	const struct jnode *v = json_get(obj, key);

	return v && v->type == J_STR ? v->str : "";
}

double json_num(const struct jnode *obj, const char *key)
{
	const struct jnode *v = json_get(obj, key);

	return v && v->type == J_NUM ? v->num : 0;
}

bool json_bool(const struct jnode *obj, const char *key)
{
	const struct jnode *v = json_get(obj, key);

	return v && v->type == J_BOOL && v->b;
}
