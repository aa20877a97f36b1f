/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen-man.c - write turnpike.conf(5) from the option table (tp_conf_man in
 * server/conf_print.c). Run by the build; not installed.
 *
 *   tp-gen-man OUTPUT      (writes OUTPUT.tmp, then renames: no half page)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"

int main(int argc, char **argv)
{
	char tmp[4096];
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: tp-gen-man OUTPUT\n");
		return 2;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]) >= (int)sizeof(tmp)) {
		fprintf(stderr, "tp-gen-man: %s: name too long\n", argv[1]);
		return 1;
	}
	if (!(f = fopen(tmp, "w"))) {
		fprintf(stderr, "tp-gen-man: %s: %s\n", tmp, strerror(errno));
		return 1;
	}
	tp_conf_man(f);
	if (ferror(f) | (fclose(f) != 0) || rename(tmp, argv[1]) != 0) {
		fprintf(stderr, "tp-gen-man: %s: %s\n", argv[1], strerror(errno));
		remove(tmp);
		return 1;
	}
	return 0;
}
