#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# gzip-page.sh IN OUT - compress a manual page for installation (no name or
# time stamp in the header, so the package is reproducible).
set -e
gzip -9 -n -c "$1" > "$2.tmp"
mv "$2.tmp" "$2"
