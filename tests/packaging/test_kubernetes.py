#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The Kubernetes manifests and the Helm chart, client-side (ctest:
packaging/kubernetes). Nothing here talks to a cluster.

usage: test_kubernetes.py SOURCE_DIR TURNPIKE

1. `kubectl kustomize conf/kubernetes` renders; every object has apiVersion,
   kind and a name, namespaced ones are in "turnpike".
2. The DaemonSet: hostNetwork with dnsPolicy ClusterFirstWithHostNet;
   readiness httpGet /ready and liveness /live on the port the configuration's
   metrics listener uses; a preStop `turnpikectl drain --wait --deadline N`
   with terminationGracePeriodSeconds > N; requests <= limits for cpu and
   memory; non-root as the Dockerfile's USER, capabilities exactly drop ALL /
   add NET_BIND_SERVICE, read-only root; the ConfigMap mounted where the
   image's CMD reads it, the Secret where turnpike.conf @includes it, an
   emptyDir where the admin socket lives; a containerPort of the right
   protocol for every listener; the signaling Service reaching the ws: port;
   the image tag is the project's version.
3. The configuration they hand the server loads with the built turnpike: with
   the shipped empty secret it refuses to start, naming the file and line
   (fail closed); with a secret it loads, demo user off.
4. `kubectl create --dry-run=client -f` on both renderings, against a fake
   API discovery endpoint on 127.0.0.1 (fake_discovery.py; kubectl needs
   discovery to map kinds even in client dry-run): every object maps and
   decodes; a misspelt kind is refused (the control).
5. The Helm chart (rendered by helmlite.py: Helm is not in Debian 12) refuses
   to render without a secret, and with one renders the same objects as the
   kustomize base (Namespace aside): the same DaemonSet pod spec, Services and
   a configuration that --print-config shows identical. Values change what
   they should (signal off, existing secret, drain deadline, a tls listener,
   externalIP, release name).
Skipped (77) when kubectl or python3-yaml is absent.
"""
import copy
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tppkg  # noqa: E402
from tppkg import check  # noqa: E402

try:
    import yaml  # noqa: F401
except ImportError:
    tppkg.skip("python3-yaml not installed")
import helmlite  # noqa: E402
import k8s_render as kr  # noqa: E402
from fake_discovery import FakeDiscovery  # noqa: E402

NAMESPACED = {"ConfigMap", "Secret", "DaemonSet", "Service"}


def quantity(q):
    q = str(q)
    units = {"m": 1e-3, "Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3, "k": 1e3, "M": 1e6,
             "G": 1e9}
    m = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", q)
    return float(m.group(1)) * units.get(m.group(2), 1) if m else None


def project_version(src):
    m = re.search(r"project\(turnpike VERSION ([0-9.]+)", open(os.path.join(src, "CMakeLists.txt")).read())
    return m.group(1)


def dockerfile_uid(src):
    m = re.search(r"(?m)^USER (\d+)", open(os.path.join(src, "Dockerfile")).read())
    return int(m.group(1)) if m else None


def check_daemonset(objs, src, label):
    ds = kr.find(objs, "DaemonSet")
    if not check(len(ds) == 1, "%s: one DaemonSet" % label):
        return
    ds = ds[0]
    pod = ds["spec"]["template"]["spec"]
    c = pod["containers"][0]
    conf, _ = kr.server_config(objs)
    check(ds["spec"]["selector"]["matchLabels"].items() <=
          ds["spec"]["template"]["metadata"]["labels"].items(), "%s: selector matches the pods" % label)
    check(pod.get("hostNetwork") is True, "%s: hostNetwork" % label)
    check(pod.get("dnsPolicy") == "ClusterFirstWithHostNet",
          "%s: dnsPolicy ClusterFirstWithHostNet" % label)

    ports = {p["name"]: p for p in c.get("ports", [])}
    metrics = kr.conf_value(conf, "metrics") or ""
    m = re.fullmatch(r'"http:([^"]+):(\d+)"', metrics)
    check(m is not None and m.group(1) in ("0.0.0.0", "[::]"),
          "%s: metrics listener on the node's addresses (the kubelet probes the pod IP): %s"
          % (label, metrics))
    mport = int(m.group(2)) if m else None
    for probe, path in (("readinessProbe", "/ready"), ("livenessProbe", "/live")):
        g = c.get(probe, {}).get("httpGet", {})
        port = g.get("port")
        port = ports.get(port, {}).get("containerPort") if isinstance(port, str) else port
        check(g.get("path") == path and port == mport,
              "%s: %s httpGet %s on the metrics port %s" % (label, probe, path, mport))
    cmd = c.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    check(cmd[:3] == ["turnpikectl", "drain", "--wait"] and "--deadline" in cmd,
          "%s: preStop turnpikectl drain --wait --deadline" % label)
    deadline = int(cmd[cmd.index("--deadline") + 1]) if "--deadline" in cmd else 10 ** 9
    grace = pod.get("terminationGracePeriodSeconds", 30)
    check(deadline < grace, "%s: terminationGracePeriodSeconds %s > drain deadline %s"
          % (label, grace, deadline))

    res = c.get("resources", {})
    ok = True
    for r in ("cpu", "memory"):
        rq, lim = res.get("requests", {}).get(r), res.get("limits", {}).get(r)
        ok = ok and rq is not None and lim is not None and quantity(rq) <= quantity(lim)
    check(ok, "%s: cpu and memory requests <= limits" % label)

    psc, sc = pod.get("securityContext", {}), c.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True and psc.get("runAsUser") == dockerfile_uid(src),
          "%s: runAsNonRoot as the Dockerfile's USER (%s)" % (label, dockerfile_uid(src)))
    caps = sc.get("capabilities", {})
    check(caps.get("drop") == ["ALL"] and caps.get("add") == ["NET_BIND_SERVICE"],
          "%s: capabilities drop ALL, add NET_BIND_SERVICE" % label)
    check(sc.get("readOnlyRootFilesystem") is True and sc.get("privileged") in (None, False),
          "%s: read-only root, not privileged" % label)
    check(sc.get("allowPrivilegeEscalation") is True,
          "%s: allowPrivilegeEscalation (no no_new_privs: the image's file capability)" % label)

    mounts = {v["name"]: v["mountPath"] for v in c.get("volumeMounts", [])}
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    cm = [n for n, v in vols.items() if "configMap" in v]
    sec = [n for n, v in vols.items() if "secret" in v]
    run = [n for n, v in vols.items() if "emptyDir" in v]
    args = c.get("args", [])
    confdir = os.path.dirname(args[args.index("-c") + 1]) if "-c" in args else None
    check(cm and mounts.get(cm[0]) == confdir == "/etc/turnpike" and
          kr.find(objs, "ConfigMap", vols[cm[0]]["configMap"]["name"]),
          "%s: the ConfigMap is mounted where -c reads it (%s)" % (label, confdir))
    inc = re.search(r'(?m)^@include "([^"]+)"', conf)
    check(inc and sec and os.path.join(confdir or "", os.path.dirname(inc.group(1))) ==
          mounts.get(sec[0]), "%s: the Secret is mounted where turnpike.conf @includes it" % label)
    admin = kr.conf_value(conf, "admin") or ""
    check(run and admin.startswith('"unix:') and
          os.path.dirname(admin.strip('"')[5:]) == mounts.get(run[0]),
          "%s: the admin socket's directory is an emptyDir (%s)" % (label, admin))

    byproto = {(p["containerPort"], p.get("protocol", "TCP")) for p in c.get("ports", [])}
    specs = kr.listen_specs(conf)
    want = set()
    for s in specs:
        proto, port = s.split(":")[0], int(s.rsplit(":", 1)[1])
        want.add((port, "UDP" if proto in ("udp", "dtls") else "TCP"))
    check(specs and want <= byproto, "%s: a containerPort for every listener %s" % (label, specs))
    ws = [int(s.rsplit(":", 1)[1]) for s in specs if s.startswith("ws:")]
    svc = [s for s in kr.find(objs, "Service") if s["spec"].get("clusterIP") != "None"]
    if ws:
        tp = svc[0]["spec"]["ports"][0]["targetPort"] if svc else None
        tp = ports.get(tp, {}).get("containerPort") if isinstance(tp, str) else tp
        check(len(svc) == 1 and tp == ws[0] and
              svc[0]["spec"]["selector"].items() <= ds["spec"]["template"]["metadata"]["labels"].items(),
              "%s: the signaling Service reaches the ws: port %s" % (label, ws[0]))
    else:
        check(not svc, "%s: no signaling Service without a ws: listener" % label)
    check(c.get("image", "").endswith(":" + project_version(src)),
          "%s: image %s tagged with the project version" % (label, c.get("image")))
    return ds


def pod_spec(ds):
    """The DaemonSet pod spec with the names Helm and kustomize differ in blanked."""
    pod = copy.deepcopy(ds["spec"]["template"]["spec"])
    for v in pod.get("volumes", []):
        if "configMap" in v:
            v["configMap"]["name"] = "CONFIGMAP"
        if "secret" in v:
            v["secret"]["secretName"] = "SECRET"
    for c in pod["containers"]:
        c["image"] = c["image"].split(":")[-1]
    return pod


def dry_run(kubeconfig, path):
    env = dict(os.environ, KUBECONFIG=kubeconfig)
    return subprocess.run(["kubectl", "create", "--dry-run=client", "--validate=false",
                           "-f", path, "-o", "name"], capture_output=True, text=True,
                          timeout=60, env=env)


def main():
    src, turnpike = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    objs, err = kr.kustomize(src)
    if objs is None:
        if "not installed" in err:
            tppkg.skip(err)
        check(False, err)
        return tppkg.finish()
    check(not err, "kubectl kustomize: no warnings%s" % (" (%s)" % err if err else ""))
    kinds = sorted(o["kind"] for o in objs)
    check(kinds == ["ConfigMap", "DaemonSet", "Namespace", "Secret", "Service", "Service"],
          "kustomize renders %s" % kinds)
    check(all(o.get("apiVersion") and o.get("metadata", {}).get("name") for o in objs),
          "every object has apiVersion, kind, metadata.name")
    check(all(o["metadata"].get("namespace") == "turnpike" for o in objs
              if o["kind"] in NAMESPACED), "namespaced objects in namespace turnpike")
    ds = check_daemonset(objs, src, "kustomize")

    # 3. the configuration, as the pods would get it
    conf, auth = kr.server_config(objs)
    rc, out, errtxt, _ = kr.load_config(turnpike, conf, auth)
    check(rc != 0 and re.search(r"secret/auth\.conf:1: static-auth-secret: .*empty secret", errtxt),
          "with the shipped empty secret the server refuses to start, naming file:line")
    rc, kout, errtxt, pending = kr.load_config(turnpike, conf, 'static-auth-secret = [ "test" ];\n')
    if pending:
        print("note: the built server does not know %s yet: the configuration is checked "
              "without those lines (fully once it does)" % pending)
    check(rc == 0, "with a secret the configuration loads%s" % (": " + errtxt.strip() if rc else ""))
    check(re.search(r"(?m)^demo-user = false;$", kout) and
          re.search(r'(?m)^static-auth-secret = \[ "<hidden>" \];$', kout),
          "demo user off, one REST secret")

    # 4. the Helm chart
    try:
        kr.helm(src)
        check(False, "helm: rendering without a secret fails")
    except helmlite.TemplateError as e:
        check("auth.staticAuthSecret" in str(e), "helm: rendering without a secret fails (%s)" % e)
    hobjs = kr.helm(src, {"auth.staticAuthSecret": "test"})
    hkinds = sorted(o["kind"] for o in hobjs)
    check(hkinds == [k for k in kinds if k != "Namespace"], "helm renders %s" % hkinds)
    names = lambda os_: sorted((o["kind"], re.sub(r"-[a-z0-9]{10}$", "", o["metadata"]["name"]))
                               for o in os_ if o["kind"] != "Namespace")
    check(names(hobjs) == names(objs), "helm and kustomize: the same object names")
    hds = check_daemonset(hobjs, src, "helm")
    if ds and hds:
        a, b = pod_spec(ds), pod_spec(hds)
        diff = [k for k in set(a) | set(b) if a.get(k) != b.get(k)]
        check(not diff, "helm and kustomize: the same pod spec%s" % (" (differ: %s)" % diff if diff else ""))
    for kind_name in ("turnpike-signal", "turnpike-metrics"):
        ks = kr.find(objs, "Service", kind_name)
        hs = kr.find(hobjs, "Service", kind_name)
        same = ks and hs and {k: v for k, v in ks[0]["spec"].items() if k != "selector"} == \
            {k: v for k, v in hs[0]["spec"].items() if k != "selector"}
        check(same, "helm and kustomize: Service %s alike" % kind_name)
    hconf, hauth = kr.server_config(hobjs)
    rc, hout, errtxt, _ = kr.load_config(turnpike, hconf, hauth)
    check(rc == 0 and hout == kout, "helm and kustomize: the server's --print-config is identical")
    if rc != 0 or hout != kout:
        print(errtxt)

    # values
    h = kr.helm(src, {"auth.staticAuthSecret": "x", "signal.enabled": False})
    c, _ = kr.server_config(h)
    check(not [s for s in kr.find(h, "Service") if "signal" in s["metadata"]["name"]] and
          not [s for s in kr.listen_specs(c) if s.startswith("ws:")],
          "values: signal.enabled=false drops the ws: listener and its Service")
    check_daemonset(h, src, "helm signal off")
    h = kr.helm(src, {"auth.existingSecret": "mine"})
    v = [x for x in kr.find(h, "DaemonSet")[0]["spec"]["template"]["spec"]["volumes"] if "secret" in x]
    check(not kr.find(h, "Secret") and v and v[0]["secret"]["secretName"] == "mine",
          "values: auth.existingSecret uses that Secret and renders none")
    h = kr.helm(src, {"auth.staticAuthSecret": "x", "drain.deadlineSeconds": 60})
    d = check_daemonset(h, src, "helm drain 60")
    check(d and d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 90 and
          d["spec"]["template"]["spec"]["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][-1] == "60",
          "values: drain.deadlineSeconds=60 gives --deadline 60 and a 90 s grace period")
    listeners = [{"name": "turn-udp", "proto": "udp", "port": 3478},
                 {"name": "turn-tls", "proto": "tls", "port": 443}]
    h = kr.helm(src, {"auth.staticAuthSecret": "x", "listeners": listeners,
                      "externalIP": "203.0.113.5", "extraConfig": 'tls-cert = "/etc/turnpike/secret/tls.pem";'})
    check_daemonset(h, src, "helm tls 443")
    c, a = kr.server_config(h)
    check('"tls:0.0.0.0:443"' in (kr.conf_value(c, "listen") or "") and
          kr.conf_value(c, "external-ip") == '[ "203.0.113.5" ]' and
          kr.conf_value(c, "tls-cert") == '"/etc/turnpike/secret/tls.pem"',
          "values: a tls listener on 443, externalIP and extraConfig reach turnpike.conf")
    h = kr.helm(src, {"auth.staticAuthSecret": "x"}, release="edge")
    check(sorted(o["metadata"]["name"] for o in h) ==
          ["edge-turnpike", "edge-turnpike-auth", "edge-turnpike-config", "edge-turnpike-metrics",
           "edge-turnpike-signal"], "values: release edge names every object edge-turnpike*")
    d = kr.find(h, "DaemonSet")[0]
    check(d["spec"]["selector"]["matchLabels"].get("app.kubernetes.io/instance") == "edge",
          "values: the release's pods are selected by instance")

    # kubectl create --dry-run=client, both renderings and a control
    tmp = tempfile.mkdtemp(prefix="tp-k8s-")
    try:
        with FakeDiscovery() as kubeconfig:
            for label, docs in (("kustomize", objs), ("helm", hobjs)):
                path = os.path.join(tmp, label + ".yaml")
                with open(path, "w") as f:
                    yaml.safe_dump_all(docs, f)
                r = dry_run(kubeconfig, path)
                want = sorted("%s/%s" % (o["kind"].lower() + (".apps" if o["apiVersion"] ==
                                                               "apps/v1" else ""),
                                         o["metadata"]["name"]) for o in docs)
                got = sorted(r.stdout.split())
                check(r.returncode == 0 and got == want,
                      "kubectl create --dry-run=client: %s, %d objects%s" %
                      (label, len(docs), "" if r.returncode == 0 else ": " + r.stderr.strip()))
            bad = copy.deepcopy(kr.find(objs, "DaemonSet")[0])
            bad["kind"] = "DaemonSett"
            path = os.path.join(tmp, "bad.yaml")
            with open(path, "w") as f:
                yaml.safe_dump(bad, f)
            r = dry_run(kubeconfig, path)
            check(r.returncode != 0 and "DaemonSett" in r.stderr,
                  "kubectl create --dry-run=client refuses a misspelt kind (control)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    chart = yaml.safe_load(open(os.path.join(src, "conf/helm/turnpike/Chart.yaml")))
    check(chart.get("apiVersion") == "v2" and chart.get("appVersion") == project_version(src),
          "Chart.yaml: apiVersion v2, appVersion %s" % chart.get("appVersion"))
    return tppkg.finish()


if __name__ == "__main__":
    sys.exit(main())
