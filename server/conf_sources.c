/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conf_sources.c - values given as text: TURNPIKE_<OPTION> in the
 * environment and --set option=value. Each is staged as the setting a file
 * would hold, then applied through the same code as a file (tp_cfg_apply);
 * errors name the variable or the --set instead of a file and line.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_priv.h"
#include "log.h"

/* ---- values as text: the environment and --set ------------------------ */

static bool is_list(const struct opt *o)
{
	return o->type == T_LISTEN || o->type == T_EXTERNAL || o->type == T_ADDRS ||
	       o->type == T_CIDRS || o->type == T_SECRETS || o->type == T_USERS ||
	       o->type == T_HOSTPORTS;
}

/* "--set max-bps" / "environment TURNPIKE_MAX_BPS" in ld->labelbuf. */
static const char *label_of(struct ld *ld, const struct opt *o, uint8_t from)
{
	if (from == FROM_SET) {
		snprintf(ld->labelbuf, sizeof(ld->labelbuf), "--set %s", o->name);
	} else {
		size_t n = (size_t)snprintf(ld->labelbuf, sizeof(ld->labelbuf),
		                            "environment TURNPIKE_");
		for (const char *p = o->name; *p && n + 1 < sizeof(ld->labelbuf); p++)
			ld->labelbuf[n++] = *p == '-' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		ld->labelbuf[n] = '\0';
	}
	return ld->labelbuf;
}

/* Deep copy of setting s into parent (a group, list or array) as name. */
static config_setting_t *copy_setting(config_setting_t *parent, const char *name,
                                      const config_setting_t *s)
{
	int t = config_setting_type(s);
	config_setting_t *d = config_setting_add(parent, name,
	                                         t == CONFIG_TYPE_ARRAY ? CONFIG_TYPE_LIST : t);

	if (!d)
		return NULL;
	switch (t) {
	case CONFIG_TYPE_GROUP:
	case CONFIG_TYPE_LIST:
	case CONFIG_TYPE_ARRAY:
		for (int i = 0; i < config_setting_length(s); i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			if (!copy_setting(d, t == CONFIG_TYPE_GROUP ? config_setting_name(e) : NULL, e))
				return NULL;
		}
		return d;
	case CONFIG_TYPE_INT:
		return config_setting_set_int(d, config_setting_get_int(s)) ? d : NULL;
	case CONFIG_TYPE_INT64:
		return config_setting_set_int64(d, config_setting_get_int64(s)) ? d : NULL;
	case CONFIG_TYPE_FLOAT:
		return config_setting_set_float(d, config_setting_get_float(s)) ? d : NULL;
	case CONFIG_TYPE_BOOL:
		return config_setting_set_bool(d, config_setting_get_bool(s)) ? d : NULL;
	case CONFIG_TYPE_STRING:
		return config_setting_set_string(d, config_setting_get_string(s)) ? d : NULL;
	}
	return NULL;
}

/* A libconfig literal ("v = TEXT;"): its one setting in tmp, or NULL. */
static const config_setting_t *literal(config_t *tmp, const char *v)
{
	size_t n = strlen(v) + 16;
	char *doc = malloc(n);
	const config_setting_t *root;
	int ok;

	if (!doc)
		return NULL;
	snprintf(doc, n, "v = %s;\n", v);
	config_set_options(tmp, config_get_options(tmp) & ~CONFIG_OPTION_AUTOCONVERT);
	ok = config_read_string(tmp, doc);
	free(doc);
	root = config_root_setting(tmp);
	if (!ok || config_setting_length(root) != 1)
		return NULL;
	return config_setting_get_member(root, "v");
}

static void trim(const char **p, const char **e)
{
	while (*p < *e && (**p == ' ' || **p == '\t'))
		(*p)++;
	while (*e > *p && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

/* Add "a,b,c" to list d: strings, or (users) { name; password; } groups. */
static int add_raw_list(struct ld *ld, const struct opt *o, config_setting_t *d, const char *v)
{
	for (const char *p = v; *p;) {
		const char *e = strchr(p, ','), *next;
		char item[1024];

		next = e ? e + 1 : p + strlen(p);
		if (!e)
			e = next;
		trim(&p, &e);
		if ((size_t)(e - p) >= sizeof(item))
			return fail(ld, NULL, NULL, "an entry of %zu bytes (expected at most %zu)",
			            (size_t)(e - p), sizeof(item) - 1);
		memcpy(item, p, (size_t)(e - p));
		item[e - p] = '\0';
		p = next;
		if (!item[0])
			continue;
		if (o->type != T_USERS) {
			config_setting_t *s = config_setting_add(d, NULL, CONFIG_TYPE_STRING);
			if (!s || !config_setting_set_string(s, item))
				return fail(ld, NULL, NULL, "out of memory");
			continue;
		}
		char *colon = strchr(item, ':');
		config_setting_t *g = config_setting_add(d, NULL, CONFIG_TYPE_GROUP), *m;

		if (!colon)
			return fail(ld, NULL, NULL, "\"%s\": expected NAME:PASSWORD (several separated "
			            "by ',')", item);
		*colon = '\0';
		if (!g || !(m = config_setting_add(g, "name", CONFIG_TYPE_STRING)) ||
		    !config_setting_set_string(m, item) ||
		    !(m = config_setting_add(g, "password", CONFIG_TYPE_STRING)) ||
		    !config_setting_set_string(m, colon + 1))
			return fail(ld, NULL, NULL, "out of memory");
		memset(colon + 1, 0, strlen(colon + 1));
	}
	return 0;
}

static int word_bool(const char *v)
{
	static const char *const yes[] = { "true", "yes", "on", "1" }, *const no[] = {
		"false", "no", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

/*
 * Put the value text v of option o into the staging document root, as the
 * setting a file would hold (tp_cfg_apply() checks it later). A list already staged
 * from this source gets v's entries appended; any other option is replaced.
 */
static int stage(struct ld *ld, config_setting_t *root, const struct opt *o, const char *v)
{
	config_setting_t *have = config_setting_get_member(root, o->name), *d;
	const config_setting_t *lit = NULL;
	config_t tmp;
	int rc = -1;

	config_init(&tmp);
	if (is_list(o)) {
		if (have && config_setting_type(have) != CONFIG_TYPE_LIST) {
			config_setting_remove(root, o->name);
			have = NULL;
		}
		d = have ? have : config_setting_add(root, o->name, CONFIG_TYPE_LIST);
		if (!d) {
			fail(ld, NULL, NULL, "out of memory");
			goto out;
		}
		if (v[0] == '[' || v[0] == '(') {
			if (!(lit = literal(&tmp, v))) {
				fail(ld, NULL, NULL, "%s at line %d of the value (a libconfig list: %s)",
				     config_error_text(&tmp) ? config_error_text(&tmp) : "not one value",
				     config_error_line(&tmp), o->type == T_USERS ?
				     "( { name = \"...\"; password = \"...\"; }, ... )" : "[ \"...\", ... ]");
				goto out;
			}
			if (config_setting_type(lit) != CONFIG_TYPE_LIST &&
			    config_setting_type(lit) != CONFIG_TYPE_ARRAY) {
				if (!copy_setting(d, NULL, lit))
					goto oom;
			} else {
				for (int i = 0; i < config_setting_length(lit); i++)
					if (!copy_setting(d, NULL, config_setting_get_elem(lit, (unsigned)i)))
						goto oom;
			}
		} else if (add_raw_list(ld, o, d, v)) {
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (have)
		config_setting_remove(root, o->name);
	if (o->type == T_U32 || o->type == T_PORT) {
		lit = literal(&tmp, v);
		if (!lit || (config_setting_type(lit) != CONFIG_TYPE_INT &&
		             config_setting_type(lit) != CONFIG_TYPE_INT64)) {
			fail(ld, NULL, NULL, "\"%s\": not an integer (expected %lld..%lld)", v, o->min,
			     o->max);
			goto out;
		}
	} else if (o->type == T_BOOL) {
		int b = word_bool(v);

		if (b < 0) {
			fail(ld, NULL, NULL, "\"%s\": not a boolean (expected true or false)", v);
			goto out;
		}
		if (!(d = config_setting_add(root, o->name, CONFIG_TYPE_BOOL)) ||
		    !config_setting_set_bool(d, b))
			goto oom;
		rc = 0;
		goto out;
	} else if (v[0] == '"') {
		if (!(lit = literal(&tmp, v))) {
			fail(ld, NULL, NULL, "%s (a quoted value is a libconfig string: \"...\")",
			     config_error_text(&tmp) ? config_error_text(&tmp) : "not one value");
			goto out;
		}
	} else {
		if (!(d = config_setting_add(root, o->name, CONFIG_TYPE_STRING)) ||
		    !config_setting_set_string(d, v))
			goto oom;
		rc = 0;
		goto out;
	}
	if (!copy_setting(root, o->name, lit))
		goto oom;
	rc = 0;
	goto out;
oom:
	fail(ld, NULL, NULL, "out of memory");
out:
	config_destroy(&tmp);
	return rc;
}

/* Apply what was staged from one source, in the table's order. */
static int apply_staged(struct ld *ld, const config_t *stg, uint8_t from)
{
	const config_setting_t *root = config_root_setting(stg);

	for (size_t i = 0; i < tp_cfg_nopts; i++) {
		const config_setting_t *s = config_setting_get_member(root, tp_cfg_opts[i].name);

		if (!s)
			continue;
		ld->label = label_of(ld, &tp_cfg_opts[i], from);
		if (tp_cfg_apply(ld, &tp_cfg_opts[i], s))
			return -1;
		if (is_list(&tp_cfg_opts[i]) && tp_cfg_opts[i].type != T_USERS &&
		    *count(ld->c, &tp_cfg_opts[i]) < (size_t)tp_cfg_opts[i].min)
			return fail(ld, NULL, NULL, "empty (expected at least %lld entries)",
			            tp_cfg_opts[i].min);
		ld->from[i] = from;
		ld->src[i] = NULL;
	}
	ld->label = NULL;
	return 0;
}

/* TURNPIKE_<OPTION>=value from env. */
int tp_cfg_apply_env(struct ld *ld, char *const *env)
{
	config_t stg;
	int rc = -1;

	config_init(&stg);
	for (size_t k = 0; env && env[k]; k++) {
		const char *e = env[k], *eq = strchr(e, '=');
		char name[80];
		const struct opt *o;
		size_t n;

		if (strncmp(e, "TURNPIKE_", 9) != 0 || !eq)
			continue;
		n = (size_t)(eq - e) - 9;
		if (n == 0 || n >= sizeof(name))
			continue;
		for (size_t j = 0; j < n; j++) {
			char ch = e[9 + j];
			name[j] = ch == '_' ? '-' : (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
		}
		name[n] = '\0';
		if (!(o = find_opt(name))) {
			const char *guess = tp_cfg_closest_opt(name);
			const struct opt *near = guess ? find_opt(guess) : NULL;

			/* "environment " is 12 bytes: the label past it is the variable */
			tp_warn(NULL, "environment %.*s: not an option, ignored%s%s%s", (int)(eq - e), e,
			        near ? "; did you mean " : "",
			        near ? label_of(ld, near, FROM_ENV) + 12 : "", near ? "?" : "");
			continue;
		}
		ld->label = label_of(ld, o, FROM_ENV);
		if (stage(ld, config_root_setting(&stg), o, eq + 1))
			goto out;
		ld->label = NULL;
	}
	rc = apply_staged(ld, &stg, FROM_ENV);
out:
	config_destroy(&stg);
	return rc;
}

/* --set option=value, in order. */
int tp_cfg_apply_sets(struct ld *ld, const char *const *set, size_t nset)
{
	config_t stg;
	int rc = -1;

	config_init(&stg);
	for (size_t k = 0; k < nset; k++) {
		const char *eq = strchr(set[k], '=');
		char name[80], why[200];
		const struct opt *o;
		size_t n = eq ? (size_t)(eq - set[k]) : strlen(set[k]);

		snprintf(name, sizeof(name), "%.*s", (int)n, set[k]);
		if (!eq) {
			snprintf(ld->labelbuf, sizeof(ld->labelbuf), "--set %s", name);
			ld->label = ld->labelbuf;
			fail(ld, NULL, NULL, "expected OPTION=VALUE");
			goto out;
		}
		if (!(o = find_opt(name))) {
			snprintf(ld->labelbuf, sizeof(ld->labelbuf), "--set %s", name);
			ld->label = ld->labelbuf;
			fail(ld, NULL, NULL, "%s", tp_cfg_unknown_why(name, why, sizeof(why)));
			goto out;
		}
		ld->label = label_of(ld, o, FROM_SET);
		if (stage(ld, config_root_setting(&stg), o, eq + 1))
			goto out;
		ld->label = NULL;
	}
	rc = apply_staged(ld, &stg, FROM_SET);
out:
	config_destroy(&stg);
	return rc;
}

/* Errors from now on name where option o was set. */
void tp_cfg_set_origin(struct ld *ld, const struct opt *o)
{
	uint8_t from = ld->from[o - tp_cfg_opts];

	ld->label = from == FROM_ENV || from == FROM_SET ? label_of(ld, o, from) : NULL;
	ld->origin = from == FROM_CMDLINE ? "command line" :
	             from == FROM_DEFAULT ? "built-in default" : ld->c->path;
}
