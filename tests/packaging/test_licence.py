#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The licence (issue 17 item 10): LICENSE is the BSD 3-Clause text, every
source file names its licence with an SPDX-License-Identifier line near its
top, and the .deb ships LICENSE as /usr/share/doc/turnpike/copyright.

    test_licence.py SOURCE_DIR

Source files: C (.c, .h), shell, Python, CMake, JavaScript modules and the
Dockerfile, outside build trees, node_modules and fuzz corpora. The eBPF
program may also carry GPL-2.0-only (the kernel's helpers it calls want a
GPL-compatible licence string, "Dual BSD/GPL").
"""
import os
import re
import sys

root = sys.argv[1]
SKIP_DIRS = {".git", "node_modules", "corpus", "__pycache__"}
SRC_EXT = {".c", ".h", ".sh", ".py", ".cmake", ".mjs", ".js"}
failures = []
checked = 0


def check(cond, what):
    if not cond:
        failures.append(what)


with open(os.path.join(root, "LICENSE"), encoding="utf-8") as f:
    lic = f.read()
check(lic.startswith("BSD 3-Clause License"), "LICENSE is not the BSD 3-Clause text")
check("Neither the name of the copyright holder" in lic, "LICENSE lacks clause 3")

for dirpath, dirnames, filenames in os.walk(root):
    rel = os.path.relpath(dirpath, root)
    dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and
                   not (rel == "." and (d.startswith("build") or d.startswith(".")))]
    for name in filenames:
        ext = os.path.splitext(name)[1]
        if ext not in SRC_EXT and name not in ("CMakeLists.txt", "Dockerfile"):
            continue
        path = os.path.join(dirpath, name)
        relp = os.path.relpath(path, root)
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.read(400)
        checked += 1
        m = re.search(r"SPDX-License-Identifier: ([^*\n]+?)\s*(\*/)?$", head, re.M)
        if not m:
            failures.append("%s: no SPDX-License-Identifier line" % relp)
            continue
        ok = {"BSD-3-Clause"}
        if relp.startswith(os.path.join("server", "bpf")):
            ok.add("BSD-3-Clause OR GPL-2.0-only")
        check(m.group(1) in ok, "%s: licence %r" % (relp, m.group(1)))

with open(os.path.join(root, "cmake", "package.cmake"), encoding="utf-8") as f:
    pkg = f.read()
check(re.search(r"LICENSE DESTINATION share/doc/turnpike RENAME copyright", pkg),
      "the .deb does not install LICENSE as share/doc/turnpike/copyright")
check(checked > 300, "only %d source files found" % checked)

for x in failures:
    print("FAIL:", x)
print("%d source files checked, %d failures" % (checked, len(failures)))
sys.exit(1 if failures else 0)
