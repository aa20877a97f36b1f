/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conf_priv.h - what the files of the configuration module share: the option
 * table's types, the state of one load (struct ld) and the helpers every part
 * of a load uses. Private to server/conf*.c; everything else includes conf.h.
 *
 *   conf.c          the option table and the load: defaults, the file, the
 *                   command-line overrides, the checks across options, free;
 *                   the external-ip lookup
 *   conf_values.c   one setting into struct tp_conf: types, bounds, lists,
 *                   addresses
 *   conf_users.c    users: groups, keys, users-file, USERHASH, lookup
 *   conf_sources.c  values as text: TURNPIKE_* in the environment and --set
 *   conf_hints.c    unknown names: did-you-mean, coturn's names, coturn files
 *   conf_print.c    the configuration as text: --print-config, diffs, the
 *                   auth mode line, turnpike.conf(5)
 */
#ifndef TP_CONF_PRIV_H
#define TP_CONF_PRIV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <libconfig.h>

#include "conf.h"

#ifndef TP_VERSION
#define TP_VERSION "0.0.0"
#endif

#define HIDDEN "<hidden>"

enum opt_type {
	T_U32,          /* uint32_t, bounds min..max */
	T_PORT,         /* uint16_t, bounds min..max */
	T_BOOL,
	T_STR,          /* char *, length min..max bytes */
	T_LOGLEVEL,     /* int, from "error" "warn" "info" "debug" */
	T_LISTEN,       /* struct tp_listen[], min..max entries */
	T_EXTERNAL,     /* struct tp_external_ip[] */
	T_ADDRS,        /* struct tp_addr[] (IP only) */
	T_CIDRS,        /* struct tp_cidr[] */
	T_SECRETS,      /* char *[] */
	T_USERS,        /* struct tp_user * (malloc'd), a list of groups */
	T_HOSTPORTS,    /* struct tp_addr[] with a port (3478 when omitted) */
	T_LOGFORMAT,    /* bool log_json, from "text" "json" */
	T_URL,          /* char *, like T_STR; a password in it is printed hidden */
	T_FILE_OF,      /* char *, a file name: "X-file" whose content is option X's value
	                   (a secret kept out of the file, the environment and ps) */
};

struct opt {
	const char *name;
	enum opt_type type;
	size_t off;             /* the value (lists: the array) */
	size_t cnt_off;         /* lists: the size_t count */
	long long min, max;     /* see enum opt_type */
	const char *def;        /* the default, in libconfig syntax */
	const char *doc;
};

/* The option table (conf.c), in its order. */
extern const struct opt *const tp_cfg_opts;
extern const size_t tp_cfg_nopts;

enum { FROM_DEFAULT, FROM_FILE, FROM_ENV, FROM_CMDLINE, FROM_SET };

/* The state of one load. src and from are indexed like the table. */
struct ld {
	struct tp_conf *c;
	char *err;
	size_t errlen;
	const char *origin;                     /* the file, or "command line" ... */
	const char *label;                      /* set: the whole prefix of an error
	                                           ("--set max-bps"), no file or line */
	char labelbuf[96];
	const config_setting_t *src[TP_CONF_MAX_OPTS];  /* where a file set the option */
	uint8_t from[TP_CONF_MAX_OPTS];
};

static inline void *field(struct tp_conf *c, const struct opt *o)
{
	return (char *)c + o->off;
}

static inline size_t *count(struct tp_conf *c, const struct opt *o)
{
	return (size_t *)(void *)((char *)c + o->cnt_off);
}

static inline const struct opt *find_opt(const char *name)
{
	for (size_t i = 0; i < tp_cfg_nopts; i++)
		if (strcmp(tp_cfg_opts[i].name, name) == 0)
			return &tp_cfg_opts[i];
	return NULL;
}

/* "FILE:LINE: OPTION: message" into ld->err (conf.c). Always returns -1. */
int tp_cfg_vfail(struct ld *ld, const config_setting_t *s, const char *opt, const char *fmt,
                 va_list ap) __attribute__((format(printf, 4, 0)));

__attribute__((format(printf, 4, 5)))
static inline int fail(struct ld *ld, const config_setting_t *s, const char *opt,
                       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tp_cfg_vfail(ld, s, opt, fmt, ap);
	va_end(ap);
	return -1;
}

static inline const char *type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	}
	return "nothing";
}

static inline int hidden_check(struct ld *ld, const config_setting_t *s, const char *opt,
                               const char *what, const char *v)
{
	if (strcmp(v, HIDDEN) == 0)
		return fail(ld, s, opt, "%s is the \"" HIDDEN "\" placeholder that --print-config "
		            "writes (expected the real value)", what);
	return 0;
}

/* conf.c: parse the defaults (path NULL) or a file into cfg. */
int tp_cfg_read_doc(struct ld *ld, config_t *cfg, const char *path);

/* conf_values.c: setting s (NULL: from the command line) into option o. */
int tp_cfg_apply(struct ld *ld, const struct opt *o, const config_setting_t *s);
int tp_cfg_apply_string(struct ld *ld, const struct opt *o, const config_setting_t *s,
                        const char *v);
/* String v into the next slot of list option o. */
int tp_cfg_add_list_elem(struct ld *ld, const struct opt *o, const char *v,
                         const config_setting_t *s);
void tp_cfg_clear_list(struct tp_conf *c, const struct opt *o);

/* conf_users.c */
int tp_cfg_apply_users(struct ld *ld, const struct opt *o, const config_setting_t *s);
void tp_cfg_free_users(struct tp_conf *c);
int tp_cfg_load_users_file(struct ld *ld);
/* Keys with the final realm, duplicates refused, USERHASH table built. */
int tp_cfg_finish_users(struct ld *ld);

/* conf_sources.c */
int tp_cfg_apply_env(struct ld *ld, char *const *env);
int tp_cfg_apply_sets(struct ld *ld, const char *const *set, size_t nset);
/* Errors from now on name where option o was set. */
void tp_cfg_set_origin(struct ld *ld, const struct opt *o);

/* conf_hints.c */
const char *tp_cfg_unknown_why(const char *name, char *buf, size_t cap);
const char *tp_cfg_closest_opt(const char *name);
int tp_cfg_coturn_line(const char *path, char *name, size_t cap);

/* conf_print.c: an IP address without port. */
void tp_cfg_fmt_ip(const struct tp_addr *a, char *b, size_t cap);

#endif
