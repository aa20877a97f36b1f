#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""docs/MIGRATING-FROM-COTURN.md against the real option table (issue 17 item 9).

    test_migrating.py SOURCE_DIR TURNPIKE

- every turnpike option the table names exists (the names turnpike
  --print-config prints, which come from conf.c's option table);
- every coturn option operators use (the list below) has a row;
- conf_hints.c's coturn hints (coturn_opts[], what an unknown coturn option in a
  turnpike file is answered with) agree with the doc: each coturn name there
  has a row, and the turnpike option it names is in that row (or the row says
  "not needed"/"not supported" where the hint has none);
- the doc's coturn example is refused as a coturn file pointing at the doc, and
  its turnpike translation loads.
"""
import os
import re
import subprocess
import sys
import tempfile

USED = """listening-port tls-listening-port listening-ip relay-ip external-ip min-port max-port
realm use-auth-secret static-auth-secret lt-cred-mech user userdb redis-userdb redis-statsdb
total-quota user-quota max-bps bps-capacity cert pkey cipher-list no-tls no-dtls no-udp no-tcp
denied-peer-ip allowed-peer-ip no-multicast-peers no-loopback-peers fingerprint stale-nonce
alternate-server cli-password prometheus log-file syslog no-stdout-log pidfile proc-user
mobility""".split()

failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


def main():
    src, binary = sys.argv[1], sys.argv[2]
    doc = open(os.path.join(src, "docs", "MIGRATING-FROM-COTURN.md")).read()
    hints_c = open(os.path.join(src, "server", "conf_hints.c")).read()
    r = subprocess.run([binary, "--print-config"], stdout=subprocess.PIPE, check=True,
                       stdin=subprocess.DEVNULL, timeout=20)
    options = set(re.findall(r"^([a-z0-9-]+) = ", r.stdout.decode(), re.M))
    check(len(options) > 50, "turnpike --print-config lists %d options" % len(options))

    rows = {}
    for line in doc.splitlines():
        m = re.match(r"^\| `([A-Za-z0-9_-]+)` \| (.*?) \| (.*)\|$", line)
        if m:
            rows[m.group(1)] = m.group(2)
    check(len(rows) >= len(USED), "the table has %d rows" % len(rows))
    for coturn, tp in sorted(rows.items()):
        names = [re.match(r"[a-z0-9-]+", n).group(0) for n in re.findall(r"`([^`]+)`", tp)]
        if tp.startswith("not needed") or tp.startswith("not supported"):
            check(not names, "%s: %s" % (coturn, tp))
            continue
        check(names != [], "%s: names a turnpike option (%s)" % (coturn, tp))
        for n in names:
            check(n in options, "%s -> %s: an option of turnpike" % (coturn, n))
    for coturn in USED:
        check(coturn in rows, "coturn's %s has a row" % coturn)

    block = hints_c[hints_c.index("coturn_opts[] = {"):]
    block = block[:block.index("};")]
    hints = re.findall(r'\{ "([^"]+)", (?:NULL|"([^"]+)") \}', block)
    check(len(hints) > 40, "conf_hints.c has %d coturn hints" % len(hints))
    for coturn, tp in hints:
        row = rows.get(coturn)
        check(row is not None, "conf_hints.c's coturn hint %s has a row in the doc" % coturn)
        if row is None:
            continue
        if tp:
            check("`%s" % tp in row, "conf_hints.c says %s -> %s, as the doc (%s)" % (coturn, tp, row))
            check(tp in options, "conf_hints.c's hint %s -> %s is an option" % (coturn, tp))
        else:
            check(row.startswith("not "), "conf_hints.c has no option for %s; the doc: %s"
                  % (coturn, row))

    # the two example configurations
    blocks = re.findall(r"\n\n((?:    .*\n)+)", doc)
    coturn_ex = next(b for b in blocks if "listening-port=" in b)
    tp_ex = next(b for b in blocks if "listen = [" in b)
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "turnserver.conf")
        with open(p, "w") as f:
            f.write("\n".join(l[4:] for l in coturn_ex.splitlines()) + "\n")
        r = subprocess.run([binary, "-c", p, "--print-config"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=20)
        err = r.stderr.decode()
        check(r.returncode != 0 and "coturn turnserver.conf" in err and
              "docs/MIGRATING-FROM-COTURN.md" in err,
              "the coturn example is refused, pointing at the doc: %s" % err.strip())
        p = os.path.join(d, "turnpike.conf")
        with open(p, "w") as f:
            f.write("\n".join(l[4:] for l in tp_ex.splitlines()) + "\n")
        # the secret file of the example does not exist here: --set clears it
        r = subprocess.run([binary, "-c", p, "--set", "static-auth-secret-file=",
                            "--print-config"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=20)
        check(r.returncode == 0, "the turnpike example loads: %s" % r.stderr.decode().strip())
    if failures:
        print("%d failed" % len(failures))
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
