/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json.c - the little JSON dc-client needs: writing a string, and reading one
 * string member of a flat object (the signaling messages). Nested values are
 * not part of those messages and make a lookup fail.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dc.h"

void dc_json_str(GString *s, const char *v)
{
	gchar *valid = g_utf8_validate(v, -1, NULL) ? NULL : g_utf8_make_valid(v, -1);

	if (valid)
		v = valid;            /* invalid bytes become U+FFFD: the JSON stays UTF-8 */
	g_string_append_c(s, '"');
	for (; *v; v++) {
		unsigned char ch = (unsigned char)*v;

		switch (ch) {
		case '"': g_string_append(s, "\\\""); break;
		case '\\': g_string_append(s, "\\\\"); break;
		case '\n': g_string_append(s, "\\n"); break;
		case '\r': g_string_append(s, "\\r"); break;
		case '\t': g_string_append(s, "\\t"); break;
		default:
			if (ch < 0x20)
				g_string_append_printf(s, "\\u%04x", ch);
			else
				g_string_append_c(s, (char)ch);
		}
	}
	g_string_append_c(s, '"');
	g_free(valid);
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* Parses a JSON string at p (at the quote); appends to out (may be NULL). */
static const char *json_string(const char *p, GString *out)
{
	if (*p++ != '"')
		return NULL;
	while (*p && *p != '"') {
		if (*p != '\\') {
			if (out)
				g_string_append_c(out, *p);
			p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'n': if (out) g_string_append_c(out, '\n'); break;
		case 'r': if (out) g_string_append_c(out, '\r'); break;
		case 't': if (out) g_string_append_c(out, '\t'); break;
		case 'b': if (out) g_string_append_c(out, '\b'); break;
		case 'f': if (out) g_string_append_c(out, '\f'); break;
		case '"': case '\\': case '/':
			if (out)
				g_string_append_c(out, *p);
			break;
		case 'u': {
			char hex[5] = { 0 };
			unsigned long cp;

			for (int i = 0; i < 4; i++) {
				if (!g_ascii_isxdigit(p[1 + i]))
					return NULL;
				hex[i] = p[1 + i];
			}
			cp = strtoul(hex, NULL, 16);
			if (out)
				g_string_append_unichar(out, (gunichar)cp);
			p += 4;
			break;
		}
		default:
			return NULL;
		}
		p++;
	}
	return *p == '"' ? p + 1 : NULL;
}

/* Skips a scalar (number, true, false, null). */
static const char *json_scalar(const char *p)
{
	while (*p && *p != ',' && *p != '}' && *p != ' ' && *p != '\n' && *p != '\r' &&
	       *p != '\t')
		p++;
	return p;
}

char *dc_json_get(const char *json, const char *key)
{
	const char *p = skip_ws(json);
	GString *k = g_string_new(NULL);
	char *res = NULL;

	if (*p++ != '{')
		goto out;
	for (;;) {
		bool match;

		p = skip_ws(p);
		if (*p == '}')
			break;
		g_string_truncate(k, 0);
		p = json_string(p, k);
		if (!p)
			goto out;
		p = skip_ws(p);
		if (*p++ != ':')
			goto out;
		p = skip_ws(p);
		match = strcmp(k->str, key) == 0;
		if (*p == '"') {
			GString *v = match ? g_string_new(NULL) : NULL;

			p = json_string(p, v);
			if (match) {
				if (!p) {
					g_string_free(v, TRUE);
					goto out;
				}
				res = g_string_free(v, FALSE);
				goto out;
			}
			if (!p)
				goto out;
		} else if (*p == '{' || *p == '[') {
			goto out; /* nested values are not part of our messages */
		} else {
			p = json_scalar(p);
		}
		p = skip_ws(p);
		if (*p == ',')
			p++;
		else if (*p != '}')
			goto out;
	}
out:
	g_string_free(k, TRUE);
	return res;
}

