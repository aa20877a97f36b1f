# SPDX-License-Identifier: BSD-3-Clause
"""k8s_render.py - the Kubernetes objects of conf/kubernetes (kubectl
kustomize) and conf/helm/turnpike (helmlite), as lists of dicts, and the
turnpike.conf they hand the server, for the packaging tests."""
import os
import re
import shutil
import subprocess
import tempfile

import yaml

import helmlite

# Options of the operations and cluster work (issues 13, 14) that the manifests
# use. While the built server does not know one yet, the configuration is
# checked without it (and the test says so); once it does, the lines are
# checked like any other.
PENDING = ("metrics", "admin", "admin-token", "log-format", "alternate-server",
           "alternate-domain", "max-bps", "bps-capacity", "user-max-bps", "redis",
           "users-file")


def kustomize(src):
    """(objects, error): kubectl kustomize conf/kubernetes."""
    kubectl = shutil.which("kubectl")
    if not kubectl:
        return None, "kubectl not installed (Debian package kubernetes-client)"
    r = subprocess.run([kubectl, "kustomize", os.path.join(src, "conf/kubernetes")],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        return None, "kubectl kustomize failed: " + r.stderr.strip()
    return [d for d in yaml.safe_load_all(r.stdout) if d], r.stderr.strip()


def helm(src, values=None, release="turnpike", namespace="turnpike"):
    """Objects of helm template with values (dict of dotted paths)."""
    out = []
    for _, text in helmlite.render_chart(os.path.join(src, "conf/helm/turnpike"), values,
                                         release, namespace):
        out += [d for d in yaml.safe_load_all(text) if d]
    return out


def find(objs, kind, name=None):
    return [o for o in objs if o.get("kind") == kind and
            (name is None or o["metadata"]["name"] == name)]


def server_config(objs):
    """(turnpike.conf text, auth.conf text) from the ConfigMap and Secret the
    DaemonSet mounts."""
    ds = find(objs, "DaemonSet")[0]
    vols = {v["name"]: v for v in ds["spec"]["template"]["spec"]["volumes"]}
    cm = next(v["configMap"]["name"] for v in vols.values() if "configMap" in v)
    sec = next(v["secret"]["secretName"] for v in vols.values() if "secret" in v)
    conf = find(objs, "ConfigMap", cm)[0]["data"]["turnpike.conf"]
    s = find(objs, "Secret", sec)
    auth = s[0].get("stringData", {}).get("auth.conf") if s else None
    return conf, auth


def load_config(turnpike, conf, auth):
    """Run turnpike --print-config on conf with secret/auth.conf = auth, the
    PENDING options the binary does not know yet taken out. Returns
    (returncode, stdout, stderr, [pending options removed])."""
    tmp = tempfile.mkdtemp(prefix="tp-k8s-conf-")
    removed = []
    try:
        os.makedirs(os.path.join(tmp, "secret"))
        if auth is not None:
            with open(os.path.join(tmp, "secret", "auth.conf"), "w") as f:
                f.write(auth)
        path = os.path.join(tmp, "turnpike.conf")
        text = conf
        while True:
            with open(path, "w") as f:
                f.write(text)
            r = subprocess.run([turnpike, "-c", path, "--print-config"], capture_output=True,
                               text=True, timeout=30)
            m = re.search(r":\d+: ([a-z-]+): unknown option", r.stderr)
            if r.returncode == 0 or not m or m.group(1) not in PENDING:
                break
            removed.append(m.group(1))
            text = re.sub(r"(?m)^%s\s*=.*$" % re.escape(m.group(1)), "", text)
        out = r.stdout.replace(tmp, "CONFDIR")
        return r.returncode, out, r.stderr.replace(tmp, "CONFDIR"), removed
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def conf_value(conf, name):
    """The libconfig literal of option name in a turnpike.conf text, or None."""
    m = re.search(r"(?m)^%s\s*=\s*(.*?);\s*$" % re.escape(name), conf)
    return m.group(1) if m else None


def listen_specs(conf):
    v = conf_value(conf, "listen") or ""
    return re.findall(r'"([^"]+)"', v)
