#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The Dockerfile and the image's configuration, without a Docker engine
(ctest: packaging/dockerfile). The image itself is not built here.

usage: test_dockerfile.py SOURCE_DIR TURNPIKE TURNPIKE_PROBE

1. The Dockerfile parses (continuations, stages, exec-form JSON); the final
   stage has ENTRYPOINT ["turnpike"] and CMD ["-c", "/etc/turnpike/turnpike.conf"]
   (arguments extend the command instead of replacing it), a numeric non-root
   USER (Kubernetes' runAsNonRoot can verify it), a VOLUME for /etc/turnpike,
   setcap cap_net_bind_service on the binary ENTRYPOINT runs, with libcap2-bin
   installed in that stage, and a HEALTHCHECK that runs turnpike-probe.
2. The image's configuration (the file the build stage installs as
   /etc/turnpike/turnpike.conf) loads with the built server: no demo user, no
   users, no secrets; EXPOSE lists exactly the ports and protocols of its
   listen entries.
3. The build stage installs tools/deps.sh's BUILD_PKGS; the runtime stage
   installs the Debian package of every shared library the built turnpike and
   turnpike-probe load (ldd + dpkg -S), libc aside.
4. The HEALTHCHECK command itself, run with sh against the built server on the
   image's configuration (its port moved to a free 127.0.0.1 port): exit 0
   while the server runs, non-zero once it is stopped.
"""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tppkg  # noqa: E402
from tppkg import check  # noqa: E402


def parse(path):
    """[stage], each {"from": str, "name": str|None, "ins": [(INSTR, args)]}."""
    lines, cur = [], ""
    for raw in open(path):
        s = raw.rstrip("\n")
        if not cur and (s.strip().startswith("#") or not s.strip()):
            continue
        if cur and s.strip().startswith("#"):
            continue                     # a comment inside a continuation
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        lines.append(cur + s)
        cur = ""
    if cur:
        lines.append(cur)
    stages = []
    for l in lines:
        instr, _, args = l.strip().partition(" ")
        instr = instr.upper()
        args = args.strip()
        if instr == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", args, re.I)
            stages.append({"from": m.group(1), "name": m.group(2), "ins": []})
        elif stages:
            stages[-1]["ins"].append((instr, args))
    return stages


def get(stage, instr):
    return [a for i, a in stage["ins"] if i == instr]


def exec_form(args):
    try:
        v = json.loads(args)
    except ValueError:
        return None
    return v if isinstance(v, list) and all(isinstance(x, str) for x in v) else None


def apt_packages(stage):
    pk = set()
    for run in get(stage, "RUN"):
        for m in re.finditer(r"apt-get install ([^&|;]*)", run):
            pk |= {w for w in m.group(1).split() if not w.startswith("-")}
    return pk


def listen_ports(turnpike, conf):
    r = subprocess.run([turnpike, "-c", conf, "--print-config"], capture_output=True,
                       text=True, timeout=30)
    m = re.search(r"^listen = \[(.*)\];$", r.stdout, re.M)
    ports = set()
    for spec in re.findall(r'"([^"]+)"', m.group(1) if m else ""):
        proto, port = spec.split(":")[0], spec.rsplit(":", 1)[1]
        ports.add("%s/%s" % (port, "udp" if proto in ("udp", "dtls") else "tcp"))
    return r, ports


def main():
    src, turnpike, probe = sys.argv[1], sys.argv[2], sys.argv[3]
    stages = parse(os.path.join(src, "Dockerfile"))
    check(len(stages) >= 2, "multi-stage Dockerfile (%d stages)" % len(stages))
    final = stages[-1]
    build = next((s for s in stages if s["name"]), stages[0])

    ep = [exec_form(a) for a in get(final, "ENTRYPOINT")]
    cmd = [exec_form(a) for a in get(final, "CMD")]
    check(ep == [["turnpike"]], "ENTRYPOINT [\"turnpike\"] (exec form)")
    check(cmd == [["-c", "/etc/turnpike/turnpike.conf"]],
          "CMD [\"-c\", \"/etc/turnpike/turnpike.conf\"] (arguments for the ENTRYPOINT)")
    users = get(final, "USER")
    check(len(users) == 1 and re.fullmatch(r"[1-9]\d*(:\d+)?", users[0]) is not None,
          "numeric non-root USER (%s)" % users)
    vols = " ".join(get(final, "VOLUME"))
    check("/etc/turnpike" in vols, "VOLUME /etc/turnpike (configuration and certificates)")

    runs = " && ".join(get(final, "RUN"))
    m = re.search(r"setcap cap_net_bind_service=\+ep (\S+)", runs)
    check(m is not None, "setcap cap_net_bind_service=+ep in the final stage")
    binpath = m.group(1) if m else ""
    check(binpath.endswith("/turnpike") and os.path.dirname(binpath) in
          ("/usr/local/bin", "/usr/bin"), "on the turnpike binary on PATH (%s)" % binpath)
    check("libcap2-bin" in apt_packages(final), "libcap2-bin installed where setcap runs")
    brun = " && ".join(get(build, "RUN"))
    check(("/out" + binpath) in brun and "/out/usr/local/bin/turnpike-probe" in brun,
          "the build stage installs turnpike and turnpike-probe where the final stage runs them")
    uid = users[0].split(":")[0] if users else "?"
    check(re.search(r"install -d -o %s -g \d+ -m 07[05]0 /run/turnpike\b" % uid, runs) is not None,
          "/run/turnpike (the admin socket's directory) belongs to the USER")
    check(re.search(r"--target turnpikectl\b", brun) is not None and
          "/out/usr/local/bin/turnpikectl" in brun,
          "turnpikectl (the preStop hook's drain) is built when the tree has it")
    hc = get(final, "HEALTHCHECK")
    check(len(hc) == 1 and " CMD " in " " + hc[0] and "turnpike-probe" in hc[0],
          "HEALTHCHECK runs turnpike-probe")

    # 2. the image's configuration
    m = re.search(r"install\s+(?:-\S+\s+(?:[0-7]{3,4}\s+)?)*(\S+)\s+/out/etc/turnpike/turnpike\.conf", brun)
    conf = os.path.join(src, m.group(1)) if m else None
    if not check(conf and os.path.isfile(conf), "the image's configuration: %s" % (m and m.group(1))):
        return tppkg.finish()
    r, ports = listen_ports(turnpike, conf)
    check(r.returncode == 0, "it loads (turnpike --print-config)")
    check(re.search(r"^demo-user = false;$", r.stdout, re.M) is not None, "demo-user = false")
    check(re.search(r"^users = \( \);$", r.stdout, re.M) is not None and
          re.search(r"^static-auth-secret = \[ \];$", r.stdout, re.M) is not None,
          "no users, no secrets baked in")
    exposed = set()
    for e in get(final, "EXPOSE"):
        exposed |= {p if "/" in p else p + "/tcp" for p in e.split()}
    check(exposed == ports, "EXPOSE %s == the listeners %s" % (sorted(exposed), sorted(ports)))

    # 3. packages
    build_pkgs = set()
    deps = open(os.path.join(src, "tools/deps.sh")).read()
    m = re.search(r"BUILD_PKGS=\((.*?)\n\)", deps, re.S)
    for line in (m.group(1) if m else "").split("\n"):
        w = line.split("#")[0].split()
        build_pkgs |= set(w)
    missing = build_pkgs - apt_packages(build)
    check(build_pkgs and not missing, "build stage installs BUILD_PKGS%s" %
          (" (missing %s)" % sorted(missing) if missing else ""))
    runtime = apt_packages(final)
    need = set()
    for b in (turnpike, probe):
        out = subprocess.run(["ldd", b], capture_output=True, text=True, timeout=30).stdout
        needed = set(re.findall(r"\(NEEDED\).*\[(.*)\]", subprocess.run(
            ["readelf", "-d", b], capture_output=True, text=True, timeout=30).stdout))
        # the image is built with -DTP_OFFLOAD=OFF: libbpf is not linked there
        if "-DTP_OFFLOAD=OFF" in open(os.path.join(src, "Dockerfile")).read():
            needed = {n for n in needed if not n.startswith("libbpf")}
        for lib in [l for l in re.findall(r"=> (/\S+)", out) if os.path.basename(l) in needed]:
            q = subprocess.run(["dpkg", "-S", os.path.realpath(lib)], capture_output=True,
                               text=True, timeout=30)
            if q.returncode != 0:
                q = subprocess.run(["dpkg", "-S", lib], capture_output=True, text=True, timeout=30)
            if q.returncode == 0:
                need |= {p.strip().split(":")[0] for p in
                         q.stdout.split("\n")[0].rsplit(": ", 1)[0].split(",")}
    need -= {"libc6"}
    missing = need - runtime
    check(need and not missing, "runtime stage installs every library package (%s)%s" %
          (", ".join(sorted(need)), " missing %s" % sorted(missing) if missing else ""))

    # 4. the HEALTHCHECK command against the server on the image's config
    hc_cmd = re.search(r"\bCMD\s+(.*)$", hc[0]).group(1) if hc else "false"
    port = tppkg.free_port()
    hc_cmd = hc_cmd.replace("turnpike-probe", shlex.quote(probe)).replace("3478", str(port))
    tmp = tempfile.mkdtemp(prefix="tp-docker-")
    log = os.path.join(tmp, "log")
    proc = tppkg.start_server([turnpike, "-c", conf, "--listen", "udp:127.0.0.1:%d" % port,
                               "--listen", "tcp:127.0.0.1:%d" % port], log)
    if check(proc is not None, "server on the image's configuration (127.0.0.1:%d)" % port):
        r = subprocess.run(["sh", "-c", hc_cmd], capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, "HEALTHCHECK passes while it serves")
        rc = tppkg.stop_server(proc)
        check(rc == 0, "stopped, exit status 0")
        r = subprocess.run(["sh", "-c", hc_cmd], capture_output=True, text=True, timeout=30)
        check(r.returncode != 0, "HEALTHCHECK fails once it is gone")
        text = open(log, errors="replace").read()
        check("password=" not in text, "no credential in the log (docker logs)")
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)
    return tppkg.finish()


if __name__ == "__main__":
    sys.exit(main())
