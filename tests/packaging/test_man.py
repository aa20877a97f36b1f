#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The manual pages (ctest: packaging/man).

usage: test_man.py TURNPIKE MANDIR [TURNPIKECTL]

MANDIR is the build's man tree (man5/turnpike.conf.5 generated from the option
table by tp-gen-man; man8/turnpike.8 and man1/turnpikectl.1 copied from
docs/man/).
1. turnpike.conf(5) lists exactly the options `turnpike --print-config` prints,
   in the same order, and for each the same default and (for integers) the
   same range; the default is also the value the built-in configuration has.
2. turnpike(8) documents every long option of `turnpike --help`, and
   turnpikectl(1) every command of `turnpikectl --help` when the binary exists.
3. Each page renders with `groff -man -Tutf8 -ww` (every warning on) without a
   message, and `man -l` renders it. Skipped (77) only if groff is absent.
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tppkg  # noqa: E402
from tppkg import check  # noqa: E402


def unroff(s):
    """The text of a roff fragment: escapes for '-', '\\', fonts and quotes."""
    s = re.sub(r"\\f[BIRP]", "", s)
    s = s.replace("\\-", "-").replace("\\e", "\\").replace("\\&", "")
    s = s.replace("\\(lq", "\"").replace("\\(rq", "\"").replace("\\(dq", "\"")
    return s


def page_options(path):
    """[(name, value-line)] from the .TP entries of the OPTIONS section."""
    lines = open(path).read().split("\n")
    out, in_opts = [], False
    for i, line in enumerate(lines):
        if line.startswith(".SH"):
            in_opts = line.strip() == ".SH OPTIONS"
            continue
        if in_opts and line == ".TP" and lines[i + 1].startswith(".B "):
            name = unroff(lines[i + 1][3:].strip())
            value = ""
            for l in lines[i + 2:]:
                if l.startswith(".TP") or l.startswith(".SH"):
                    break
                if l.startswith("Value: "):
                    value = unroff(l)
            out.append((name, value))
    return out


def printed_options(turnpike):
    """[(name, default-literal, range or None, value)] from --print-config."""
    r = subprocess.run([turnpike, "--print-config"], capture_output=True, text=True,
                       timeout=30)
    check(r.returncode == 0, "turnpike --print-config exits 0")
    out, default, rng = [], None, None
    for line in r.stdout.split("\n"):
        m = re.match(r"^# default: (.*?)(?: \(range (\d+)\.\.(\d+)\))?$", line)
        if m:
            default, rng = m.group(1), (m.group(2), m.group(3)) if m.group(2) else None
            continue
        m = re.match(r"^([a-z0-9][a-z0-9-]*) = (.*);$", line)
        if m:
            out.append((m.group(1), default, rng, m.group(2)))
            default = rng = None
    return out


def squash(s):
    return re.sub(r"\s+", "", s)


def help_longopts(binary):
    r = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
    return r.returncode, sorted(set(re.findall(r"(?<![\w-])--([a-z][a-z-]*)", r.stdout + r.stderr)))


def main():
    turnpike, mandir = sys.argv[1], sys.argv[2]
    ctl = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
    conf5 = os.path.join(mandir, "man5", "turnpike.conf.5")
    tp8 = os.path.join(mandir, "man8", "turnpike.8")
    ctl1 = os.path.join(mandir, "man1", "turnpikectl.1")
    pages = [conf5, tp8, ctl1]
    for p in pages:
        check(os.path.isfile(p), "%s built" % p)
    if tppkg.FAILS:
        return tppkg.finish()

    # 1. the generated page against the binary
    page = page_options(conf5)
    printed = printed_options(turnpike)
    check(len(printed) >= 40, "--print-config lists the options (%d)" % len(printed))
    check([n for n, _ in page] == [n for n, *_ in printed],
          "turnpike.conf(5) lists every option of the table, in order (%d)" % len(page))
    missing = sorted(set(n for n, *_ in printed) - set(n for n, _ in page))
    extra = sorted(set(n for n, _ in page) - set(n for n, *_ in printed))
    if missing or extra:
        print("  missing from the page: %s; not in --print-config: %s" % (missing, extra))
    by_name = dict(page)
    bad = []
    for name, default, rng, value in printed:
        v = by_name.get(name, "")
        m = re.search(r"Default: (.*)$", v)
        if not m or squash(m.group(1)) != squash(default or ""):
            bad.append("%s: page %r, print-config %r" % (name, m and m.group(1), default))
        if rng and ("%s to %s" % rng) not in v:
            bad.append("%s: range %s..%s not in %r" % (name, rng[0], rng[1], v))
        if squash(default or "") != squash(value):
            bad.append("%s: default %r but the built-in value is %r" % (name, default, value))
    for b in bad:
        print("  " + b)
    check(not bad, "every default and range in the page is the binary's")

    # 2. hand-written pages against --help
    rc, longs = help_longopts(turnpike)
    text8 = unroff(open(tp8).read())
    undocumented = [o for o in longs if "--" + o not in text8]
    check(rc == 0 and len(longs) >= 8 and not undocumented,
          "turnpike(8) documents every option of --help (%d)%s" %
          (len(longs), " missing: %s" % undocumented if undocumented else ""))
    text1 = unroff(open(ctl1).read())
    if ctl and os.path.exists(ctl):
        r = subprocess.run([ctl, "--help"], capture_output=True, text=True, timeout=30)
        cmds = set(re.findall(r"^\s+([a-z][a-z-]+)(?=\s)", r.stdout + r.stderr, re.M))
        undocumented = sorted(c for c in cmds if not re.search(r"(?m)^%s\b" % re.escape(c),
                                                               text1))
        check(cmds and not undocumented, "turnpikectl(1) documents every command of "
              "turnpikectl --help (%d)%s" % (len(cmds), " missing: %s" % undocumented
                                            if undocumented else ""))
        _, longs = help_longopts(ctl)
        undocumented = [o for o in longs if "--" + o not in text1]
        check(not undocumented, "turnpikectl(1) documents every option of --help%s" %
              (" missing: %s" % undocumented if undocumented else ""))
    else:
        print("note: no turnpikectl binary yet: its page is not compared with its --help")

    # 3. rendering
    groff = shutil.which("groff")
    if not groff:
        print("SKIP (rendering): groff not installed (Debian package groff-base)")
        return tppkg.finish() or tppkg.SKIP
    for p in pages:
        r = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-z", p], capture_output=True,
                           text=True, timeout=30)
        msg = (r.stdout + r.stderr).strip()
        if msg:
            print(msg)
        check(r.returncode == 0 and not msg, "groff -man -ww: %s renders without a warning"
              % os.path.basename(p))
        if shutil.which("man"):
            r = subprocess.run(["man", "-l", p], capture_output=True, text=True, timeout=30,
                               env=dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="80"))
            check(r.returncode == 0 and "NAME" in r.stdout and "SEE ALSO" in r.stdout,
                  "man -l %s" % os.path.basename(p))
    # a page made to be wrong must warn, or the rendering check proves nothing
    bad = os.path.join(os.environ.get("TMPDIR", "/tmp"), "tp-man-bad-%d.5" % os.getpid())
    with open(bad, "w") as f:
        f.write(".TH X 5\n.SH NAME\nx \\- y\n.BOGUS\n\\fQz\n")
    r = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-z", bad], capture_output=True,
                       text=True, timeout=30)
    os.unlink(bad)
    check(r.stderr.strip() != "", "negative control: groff -ww warns on a broken page")
    return tppkg.finish()


if __name__ == "__main__":
    sys.exit(main())
