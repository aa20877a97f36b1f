#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# help.sh NAME PROGRAM - the --help contract of one program (issue 11):
#   PROGRAM --help       prints "usage: NAME ..." on stdout, nothing on stderr, exits 0;
#   PROGRAM -h           the same;
#   PROGRAM --no-such-option
#                        exits non-zero, nothing on stdout, the usage on stderr.
name=$1 prog=$2
tmp=$(mktemp -d /tmp/tp-help.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL ($name): $*"; for f in "$tmp"/*; do echo "--- $f"; cat "$f"; done; exit 1; }

for h in --help -h; do
	rc=0
	"$prog" "$h" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
	[ "$rc" = 0 ] || fail "$h: exit $rc, want 0"
	head -n 1 "$tmp/out" | grep -q "^usage: $name" || fail "$h: stdout does not start with 'usage: $name'"
	[ -s "$tmp/err" ] && fail "$h: wrote to stderr"
done
rc=0
"$prog" --no-such-option >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
[ "$rc" != 0 ] || fail "--no-such-option: exit 0, want non-zero"
[ -s "$tmp/out" ] && fail "--no-such-option: wrote to stdout"
grep -q "usage: $name" "$tmp/err" || fail "--no-such-option: no usage on stderr"
echo "PASS: $name --help (exit 0, stdout) and a usage error (exit $rc, stderr)"
