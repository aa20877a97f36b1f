#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Schema check of every object the kustomize base and the Helm chart render
(ctest: packaging/kubernetes-schema).

usage: test_k8s_schema.py SOURCE_DIR

The objects (kubectl kustomize; helmlite with a few value sets) are validated
by tests/packaging/k8s/validate.js with the npm package kubernetes-models,
whose validators are generated from the Kubernetes OpenAPI schemas (types,
required fields, enums, formats), and field names strictly against its type
declarations. Four deliberately broken DaemonSets (a port as a string, no
selector, a misspelt readinessProbe, a misspelt field four levels down) must
be rejected, so a validator that accepts everything fails the test. node_modules is installed with `npm ci` from the
committed package-lock.json when missing. Skipped (77) when kubectl, node or
npm is absent or npm ci cannot reach the registry.
"""
import copy
import json
import os
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
import k8s_render as kr  # noqa: E402


def main():
    src = os.path.abspath(sys.argv[1])
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "k8s")
    for tool in ("node", "npm"):
        if not shutil.which(tool):
            tppkg.skip("%s not installed (Debian packages nodejs, npm)" % tool)
    objs, err = kr.kustomize(src)
    if objs is None:
        if "not installed" in err:
            tppkg.skip(err)
        check(False, err)
        return tppkg.finish()
    if not os.path.isdir(os.path.join(here, "node_modules", "kubernetes-models")):
        print("installing kubernetes-models (npm ci)")
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=here,
                           capture_output=True, text=True, timeout=240)
        if r.returncode != 0:
            print(r.stdout[-2000:], r.stderr[-2000:])
            tppkg.skip("npm ci failed (registry unreachable?)")
    items = [{"label": "kustomize", "object": o} for o in objs]
    for label, values in (("helm", {"auth.staticAuthSecret": "x"}),
                          ("helm existingSecret, no signal",
                           {"auth.existingSecret": "s", "signal.enabled": False}),
                          ("helm tls+nodeSelector",
                           {"auth.staticAuthSecret": "x",
                            "listeners": [{"name": "turn-tls", "proto": "tls", "port": 443}],
                            "nodeSelector": {"turn": "yes"},
                            "tolerations": [{"key": "turn", "operator": "Exists",
                                             "effect": "NoSchedule"}]})):
        items += [{"label": label, "object": o} for o in kr.helm(src, values)]
    ds = kr.find(objs, "DaemonSet")[0]
    b1 = copy.deepcopy(ds)
    b1["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "3478"
    b2 = copy.deepcopy(ds)
    del b2["spec"]["selector"]
    b3 = copy.deepcopy(ds)
    c = b3["spec"]["template"]["spec"]["containers"][0]
    c["readinesProbe"] = c.pop("readinessProbe")
    b4 = copy.deepcopy(ds)
    b4["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["paht"] = "/x"
    items += [{"label": "control (port as a string)", "object": b1},
              {"label": "control (no selector)", "object": b2},
              {"label": "control (misspelt readinessProbe)", "object": b3},
              {"label": "control (misspelt field deep inside)", "object": b4}]
    tmp = tempfile.mkdtemp(prefix="tp-k8s-schema-")
    try:
        path = os.path.join(tmp, "objects.json")
        with open(path, "w") as f:
            json.dump(items, f)
        r = subprocess.run(["node", os.path.join(here, "validate.js"), path], capture_output=True,
                           text=True, timeout=120)
        print(r.stdout + r.stderr)
        for what, msg in (("a port as a string", "containerPort must be integer"),
                          ("no selector", "required property selector"),
                          ("a misspelt readinessProbe", 'unknown field "readinesProbe"'),
                          ("a misspelt field deep inside", 'httpGet: unknown field "paht"')):
            check(msg in r.stdout, "control refused for %s (%s)" % (what, msg))
        check(r.returncode == 0, "every rendered object is valid, no unknown field (%d "
              "objects; 4 broken controls rejected)" % (len(items) - 4))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return tppkg.finish()


if __name__ == "__main__":
    sys.exit(main())
