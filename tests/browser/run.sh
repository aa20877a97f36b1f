#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# run.sh TURNPIKE-BINARY [SCRIPT [ARGS...]] - a browser test as ctest runs it:
# SCRIPT (default webrtc.mjs) is run with node, given the binary and ARGS.
# Skips (exit 77) only when node or chromium is not installed; installs
# playwright-core from package-lock.json (npm ci) when node_modules is missing.
# Never downloads a browser: the test drives Debian's /usr/bin/chromium.
cd "$(dirname "$0")" || exit 1
chromium=${TP_CHROMIUM:-/usr/bin/chromium}
if ! command -v node >/dev/null 2>&1; then
	echo "SKIP: node is not installed (apt-get install nodejs npm)"
	exit 77
fi
if [ ! -x "$chromium" ]; then
	echo "SKIP: $chromium is not installed (apt-get install chromium)"
	exit 77
fi
if [ ! -f node_modules/playwright-core/package.json ]; then
	if ! command -v npm >/dev/null 2>&1; then
		echo "FAIL: npm is needed to install playwright-core (apt-get install npm)"
		exit 1
	fi
	echo "installing playwright-core (npm ci)"
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund || exit 1
fi
bin=$1
script=${2:-webrtc.mjs}
[ $# -ge 2 ] && shift 2 || shift $#
exec node "$script" "$bin" "$@"
