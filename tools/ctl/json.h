/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json.h - the smallest JSON reader turnpikectl needs: the admin socket's
 * answers (one object, nested objects and arrays, strings, numbers, true,
 * false, null) into a tree of nodes, with lookups by key.
 */
#ifndef TPC_JSON_H
#define TPC_JSON_H

#include <stdbool.h>
#include <stddef.h>

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jnode {
	enum jtype type;
	char *key;              /* in an object: the member's name */
	char *str;              /* J_STR (decoded), J_NUM (its text) */
	double num;
	bool b;
	struct jnode *child;    /* J_ARR, J_OBJ: first element/member */
	struct jnode *next;
};

/* Parse text[0..n); NULL on a syntax error (*err says where). */
struct jnode *json_parse(const char *text, size_t n, const char **err);
void json_free(struct jnode *j);
/* A member of an object, or NULL. */
const struct jnode *json_get(const struct jnode *obj, const char *key);
/* Shortcuts: the member as a string ("" if absent), a number (0), a bool. */
const char *json_str(const struct jnode *obj, const char *key);
double json_num(const struct jnode *obj, const char *key);
bool json_bool(const struct jnode *obj, const char *key);

#endif
