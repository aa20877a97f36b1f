# SPDX-License-Identifier: BSD-3-Clause
"""fake_discovery.py - the API discovery documents of a Kubernetes API server
(for the kinds the manifests use), served on 127.0.0.1, so that
`kubectl create --dry-run=client` can map and decode the manifests with no
cluster. It serves discovery only: every other path is a 404, so nothing can
be created, and schema validation (which would need /openapi) stays off."""
import http.server
import json
import os
import tempfile
import threading


def _res(name, kind, namespaced=True):
    return {"name": name, "singularName": kind.lower(), "namespaced": namespaced,
            "kind": kind, "verbs": ["create", "get", "list"]}


DOCS = {
    "/version": {"major": "1", "minor": "28", "gitVersion": "v1.28.0-fake"},
    "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
        {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]},
    "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
        _res("namespaces", "Namespace", False), _res("configmaps", "ConfigMap"),
        _res("secrets", "Secret"), _res("services", "Service")]},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
         "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}]},
    "/apis/apps/v1": {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "apps/v1",
                      "resources": [_res("daemonsets", "DaemonSet")]},
}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = DOCS.get(self.path.split("?")[0])
        code = 200 if body is not None else 404
        data = json.dumps(body if body is not None else
                          {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                           "code": 404}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_PUT = do_PATCH = do_DELETE = lambda self: self.send_error(405)

    def log_message(self, *a):
        pass


class FakeDiscovery:
    """with FakeDiscovery() as kubeconfig_path: ..."""

    def __enter__(self):
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        fd, self.kubeconfig = tempfile.mkstemp(prefix="tp-kubeconfig-")
        with os.fdopen(fd, "w") as f:
            f.write("apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n"
                    "    server: http://127.0.0.1:%d\ncontexts:\n- name: fake\n  context:\n"
                    "    cluster: fake\n    namespace: turnpike\ncurrent-context: fake\n"
                    "users: []\n" % self.srv.server_address[1])
        return self.kubeconfig

    def __exit__(self, *exc):
        self.srv.shutdown()
        self.srv.server_close()
        os.unlink(self.kubeconfig)
