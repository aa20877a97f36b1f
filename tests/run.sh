#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/run.sh - configure with clang, build, and run the whole test suite.
#
#   TP_BUILD_DIR   build directory (default: build)
#   TP_JOBS        build and test parallelism (default: 2)
#   TP_TEST_TIMEOUT  per-test ctest timeout in seconds (default: 600); tests
#                  that set their own TIMEOUT property keep it
#
# Extra arguments are passed to ctest (e.g. -R fuzz, -LE slow).
# The exit status is ctest's. Tests run in parallel: unit tests share nothing,
# fuzzers write only into the build directory, and integration tests bind port 0
# or pick their own free ports.
set -euo pipefail

cd "$(dirname "$0")/.."
build=${TP_BUILD_DIR:-build}
jobs=${TP_JOBS:-2}
timeout=${TP_TEST_TIMEOUT:-600}

export CC=${CC:-clang}
cmake -S . -B "$build" -DTP_TESTS=ON
cmake --build "$build" -j"$jobs"

set +e
ctest --test-dir "$build" --output-on-failure -j"$jobs" --timeout "$timeout" "$@"
rc=$?
exit $rc
