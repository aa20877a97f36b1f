#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""conf/grafana/turnpike.json (ctest: packaging/grafana).

usage: test_grafana.py DASHBOARD [TURNPIKE]

1. The JSON loads; a datasource variable; unique panel ids; panels inside the
   24-column grid; every query panel (collapsed rows included) queries through
   ${datasource}.
2. Every metric any query, annotation or variable reads is one the server
   exports (the names of issue 13's metrics interface, coturn's included), and
   every label it groups by or matches on is a label of that metric (or a
   Prometheus target label). A query naming an unknown metric or label is
   reported (checked on two broken queries, the controls).
3. The dashboard covers allocations, relay throughput per direction, requests
   by result, authentication failures, drops, redis_up and draining.
4. `promtool check rules` parses every query (as recording rules), and a
   broken query is refused (control). Without promtool (Debian package
   prometheus) this part is skipped and said so.
5. With TURNPIKE, once the server has the metrics listener (issue 13): it is
   started with `metrics` on a free 127.0.0.1 port, answers a Binding, and its
   /metrics exposition must contain every metric family the dashboard reads,
   with the labels it groups by. Until the server knows the option, this part
   says so and is not run.
"""
import urllib.request
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tppkg  # noqa: E402
from tppkg import check  # noqa: E402

# The server's metrics (issue 13) and their labels.
METRICS = {
    "turnpike_build_info": {"version"},
    "turnpike_start_time_seconds": set(),
    "turnpike_config_reloads_total": set(),
    "turnpike_config_reload_timestamp_seconds": set(),
    "turnpike_draining": set(),
    "turnpike_allocations": {"transport", "family"},
    "turnpike_stream_connections": set(),
    "turnpike_permissions": set(),
    "turnpike_channels": set(),
    "turnpike_requests_total": {"method", "result"},
    "turnpike_auth_failures_total": {"reason"},
    "turnpike_auth_throttled_total": set(),
    "turnpike_relayed_packets_total": {"direction", "transport"},
    "turnpike_relayed_bytes_total": {"direction", "transport"},
    "turnpike_dropped_total": {"cause"},
    "turnpike_redis_up": set(),
    "turn_total_allocations": {"type"},
}
for s in ("rcvp", "rcvb", "sentp", "sentb"):
    METRICS["turn_traffic_" + s] = {"realm"}
    METRICS["turn_traffic_peer_" + s] = {"realm"}
    METRICS["turn_total_traffic_" + s] = set()
    METRICS["turn_total_traffic_peer_" + s] = set()
TARGET_LABELS = {"instance", "job"}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
            "unless", "offset", "inf", "nan"}


def expand(expr):
    """Grafana's variables replaced by values Prometheus accepts."""
    return (expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")
            .replace("$__range", "1h").replace("${instance}", ".*").replace("$instance", ".*"))


def analyse(expr):
    """(metrics, labels) an expression reads."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expand(expr))
    labels = set()
    for block in re.findall(r"\{([^}]*)\}", e):
        labels |= set(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)", block))
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    for kw in ("by", "without", "on", "ignoring", "group_left", "group_right"):
        for group in re.findall(r"\b%s\s*\(([^)]*)\)" % kw, e):
            labels |= {l.strip() for l in group.split(",") if l.strip()}
        e = re.sub(r"\b%s\s*\([^)]*\)" % kw, " ", e)
    metrics = set()
    for m in re.finditer(r"(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?", e):
        name, call = m.group(1), m.group(2)
        if call or name.lower() in KEYWORDS:
            continue
        metrics.add(name)
    # label_values(metric, label) (a Grafana variable query)
    for metric, label in re.findall(r"label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*,\s*(\w+)\s*\)", e):
        labels.add(label)
        metrics.discard(label)
    return metrics, labels


def problems(expr):
    metrics, labels = analyse(expr)
    out = ["unknown metric %s" % m for m in sorted(metrics - set(METRICS))]
    for l in sorted(labels - TARGET_LABELS):
        for m in sorted(metrics & set(METRICS)):
            if l not in METRICS[m]:
                out.append("%s has no label %s" % (m, l))
    if not metrics:
        out.append("no metric")
    return out


def live(turnpike, grouped):
    """The dashboard's metrics against the running server's /metrics."""
    tmp = tempfile.mkdtemp(prefix="tp-grafana-live-")
    try:
        port, mport = tppkg.free_port(), tppkg.free_port()
        conf = os.path.join(tmp, "turnpike.conf")
        with open(conf, "w") as f:
            f.write('listen = [ "udp:127.0.0.1:%d" ];\nrelay-ip = [ "127.0.0.1" ];\n'
                    'demo-user = false;\nmetrics = "http:127.0.0.1:%d";\n' % (port, mport))
        r = subprocess.run([turnpike, "-c", conf, "--print-config"], capture_output=True,
                           text=True, timeout=30)
        if r.returncode != 0 and "metrics: unknown option" in r.stderr:
            print("note: the server has no metrics listener yet: the dashboard is not "
                  "compared with a live /metrics")
            return
        proc = tppkg.start_server([turnpike, "-c", conf], os.path.join(tmp, "log"))
        if not check(proc is not None, "server with metrics on 127.0.0.1:%d" % mport):
            return
        try:
            check(tppkg.binding(port) is not None, "a Binding answered")
            text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport,
                                          timeout=5).read().decode()
        finally:
            tppkg.stop_server(proc)
        families, labels = set(), {}
        for line in text.split("\n"):
            m = re.match(r"# TYPE (\S+) ", line)
            if m:
                families.add(m.group(1))
                continue
            m = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)(\{([^}]*)\})? ", line)
            if m:
                families.add(m.group(1))
                labels.setdefault(m.group(1), set()).update(
                    re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", m.group(3) or ""))
        missing = sorted(set(grouped) - families)
        check(not missing, "live /metrics has every family the dashboard reads%s" %
              (" (missing %s)" % missing if missing else ""))
        nolabel = ["%s{%s}" % (m, l) for m, ls in sorted(grouped.items()) if m in labels
                   for l in sorted(ls - TARGET_LABELS) if l not in labels[m]]
        check(not nolabel, "and the labels it groups by%s" %
              (" (not seen: %s)" % nolabel if nolabel else ""))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def all_panels(panels):
    for p in panels:
        yield p
        for q in all_panels(p.get("panels", [])):
            yield q


def main():
    d = json.load(open(sys.argv[1]))
    check(d.get("uid") and d.get("title") and isinstance(d.get("schemaVersion"), int),
          "dashboard has uid, title, schemaVersion")
    variables = {v["name"]: v for v in d.get("templating", {}).get("list", [])}
    check(variables.get("datasource", {}).get("type") == "datasource" and
          variables["datasource"].get("query") == "prometheus", "a Prometheus datasource variable")
    panels = list(all_panels(d.get("panels", [])))
    ids = [p["id"] for p in panels]
    check(len(ids) == len(set(ids)), "unique panel ids (%d panels)" % len(ids))
    check(all(0 <= p["gridPos"]["x"] and p["gridPos"]["x"] + p["gridPos"]["w"] <= 24
              for p in panels), "panels inside the 24-column grid")
    queries = []
    for p in panels:
        if p["type"] == "row":
            continue
        ok = p.get("datasource", {}).get("uid") == "${datasource}" and p.get("targets")
        for t in p.get("targets", []):
            ok = ok and t.get("expr") and t.get("datasource", {}).get("uid") == "${datasource}"
            queries.append(("panel %r" % p["title"], t.get("expr", "")))
        check(ok, "panel %r queries through ${datasource}" % p["title"])
    for a in d.get("annotations", {}).get("list", []):
        if a.get("expr"):
            queries.append(("annotation %r" % a["name"], a["expr"]))
    for v in variables.values():
        q = v.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        if v.get("type") == "query":
            queries.append(("variable %r" % v["name"], q))

    bad = []
    for where, q in queries:
        for pr in problems(q):
            bad.append("%s: %s (%s)" % (where, pr, q))
    for b in bad:
        print("  " + b)
    check(not bad, "every metric and label queried exists (%d queries)" % len(queries))
    check(problems('sum(rate(turnpike_relayed_total{x="1"}[5m]))') and
          problems("sum by (reason) (turnpike_dropped_total)"),
          "controls: an unknown metric and an unknown label are reported")

    used = set()
    grouped = {}
    for _, q in queries:
        m, l = analyse(q)
        used |= m
        for x in m:
            grouped.setdefault(x, set()).update(l)
    for metric, label in (("turnpike_allocations", None), ("turnpike_relayed_bytes_total", "direction"),
                          ("turnpike_requests_total", "result"), ("turnpike_auth_failures_total", "reason"),
                          ("turnpike_dropped_total", "cause"), ("turnpike_redis_up", None),
                          ("turnpike_draining", None)):
        check(metric in used and (label is None or label in grouped.get(metric, set())),
              "shows %s%s" % (metric, " by %s" % label if label else ""))

    if len(sys.argv) > 2:
        live(sys.argv[2], grouped)
    promtool = shutil.which("promtool")
    if not promtool:
        print("SKIP (PromQL syntax): promtool not installed (Debian package prometheus)")
        return tppkg.finish()
    tmp = tempfile.mkdtemp(prefix="tp-grafana-")
    try:
        def rules(exprs, name):
            path = os.path.join(tmp, name)
            with open(path, "w") as f:
                f.write("groups:\n- name: dashboard\n  rules:\n")
                for i, e in enumerate(exprs):
                    f.write("  - record: tp:q%d\n    expr: %s\n" % (i, json.dumps(expand(e))))
            return subprocess.run([promtool, "check", "rules", path], capture_output=True,
                                  text=True, timeout=60)
        exprs = [q for w, q in queries if not w.startswith("variable")]
        r = rules(exprs, "ok.yml")
        if r.returncode != 0:
            print(r.stdout + r.stderr)
        check(r.returncode == 0, "promtool check rules: all %d PromQL queries parse" % len(exprs))
        r = rules(["sum by (direction) (rate(turnpike_relayed_bytes_total[5m])"], "bad.yml")
        check(r.returncode != 0, "control: promtool refuses a broken query")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return tppkg.finish()


if __name__ == "__main__":
    sys.exit(main())
