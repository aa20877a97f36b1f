# SPDX-License-Identifier: BSD-3-Clause
"""helmlite.py - renders a Helm chart's templates like `helm template`, for the
subset of Go text/template and Sprig that conf/helm/turnpike uses. Helm is not
packaged for Debian 12 and nothing is downloaded here, so the suite renders
the chart with this instead; a construct outside the subset is an error (the
chart must stay inside what this renderer checks), never silently skipped.

Supported: text with {{ }} actions and the {{- / -}} trim markers, comments,
pipelines with |, fields (.a.b, $, $x.a), string/number/bool literals,
parenthesised pipelines, variables ($x := ..., range $i, $v := ...), if / else
if / else / end, range (lists and maps, with else), with, define / include /
template, and the functions add, and, b64enc, default, eq, include, indent,
int, len, ne, nindent, not, or, print, printf, quote, required, sha256sum,
squote, toString, toYaml, trimSuffix, trunc.

    render_chart(chart_dir, set_values={"auth.staticAuthSecret": "x"},
                 release="turnpike", namespace="turnpike") -> [(template, text)]
"""
import base64
import hashlib
import json
import os
import re

import yaml


class TemplateError(Exception):
    pass


# ---- lexing and parsing -------------------------------------------------

ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)


def lex(src, name):
    """[("text", s) | ("action", s)], trim markers applied."""
    out, pos = [], 0
    for m in ACTION.finditer(src):
        text = src[pos:m.start()]
        if m.group(1):
            text = text.rstrip(" \t\r\n")
        out.append(("text", text))
        body = m.group(2).strip()
        out.append(("action", body))
        pos = m.end()
        if m.group(3):
            rest = src[pos:]
            pos += len(rest) - len(rest.lstrip(" \t\r\n"))
    out.append(("text", src[pos:]))
    if "{{" in "".join(t for k, t in out if k == "text"):
        raise TemplateError("%s: unterminated action" % name)
    return out


class Node:
    def __init__(self, kind, **kw):
        self.kind = kind
        self.__dict__.update(kw)


def parse(tokens, name):
    """A list of nodes; defines collected into a dict. Returns (nodes, defines)."""
    defines = {}
    pos = 0

    def block(stop):
        nonlocal pos
        nodes = []
        while pos < len(tokens):
            kind, s = tokens[pos]
            pos += 1
            if kind == "text":
                if s:
                    nodes.append(Node("text", s=s))
                continue
            if s.startswith("/*"):
                if not s.endswith("*/"):
                    raise TemplateError("%s: bad comment" % name)
                continue
            word = s.split(None, 1)[0] if s else ""
            if word in stop:
                return nodes, s
            if word == "if":
                nodes.append(parse_if(s[2:].strip()))
            elif word in ("range", "with"):
                body, end = block(("else", "end"))
                alt = []
                if end.split()[0] == "else":
                    alt, end = block(("end",))
                nodes.append(Node(word, expr=s[len(word):].strip(), body=body, alt=alt))
            elif word == "define":
                m = re.match(r'define\s+"([^"]+)"$', s)
                if not m:
                    raise TemplateError("%s: bad define: %s" % (name, s))
                body, _ = block(("end",))
                defines[m.group(1)] = body
            elif word == "template":
                nodes.append(Node("out", expr="include " + s[len("template"):].strip()))
            elif word in ("end", "else", "block", "break", "continue"):
                raise TemplateError("%s: unexpected {{ %s }}" % (name, s))
            else:
                nodes.append(Node("out", expr=s))
        if stop:
            raise TemplateError("%s: missing {{ end }}" % name)
        return nodes, None

    def parse_if(cond):
        body, end = block(("else", "end"))
        alt = []
        if end.split()[0] == "else":
            rest = end[4:].strip()
            if rest.startswith("if "):
                alt = [parse_if(rest[3:].strip())]
            else:
                alt, _ = block(("end",))
        return Node("if", expr=cond, body=body, alt=alt)

    nodes, _ = block(())
    return nodes, defines


# ---- expressions --------------------------------------------------------

TOKEN = re.compile(r"""\s*(?:
    (?P<str>"(?:[^"\\]|\\.)*") |
    (?P<raw>`[^`]*`) |
    (?P<num>-?\d+(?:\.\d+)?) |
    (?P<lp>\() | (?P<rp>\)) | (?P<pipe>\|) |
    (?P<decl>:=) | (?P<comma>,) |
    (?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*) |
    (?P<field>\.(?:[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)?) |
    (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    )""", re.X)


def tokenize(s):
    out, pos = [], 0
    s = s.rstrip()
    while pos < len(s):
        m = TOKEN.match(s, pos)
        if not m or m.end() == pos:
            raise TemplateError("cannot parse %r at %r" % (s, s[pos:]))
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def truthy(v):
    return not (v is None or v is False or v == 0 and not isinstance(v, bool) and
                isinstance(v, (int, float)) or v == "" or v == [] or v == {})


def to_str(v):
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return str(v)


def go_printf(fmt, args):
    args = list(args)

    def sub(m):
        if m.group(0) == "%%":
            return "%"
        if not args:
            raise TemplateError("printf: missing argument for %s" % m.group(0))
        a = args.pop(0)
        if m.group(1) == "d":
            return str(int(a))
        if m.group(1) == "q":
            return json.dumps(to_str(a))
        return to_str(a)
    return re.sub(r"%%|%([sdvq])", sub, fmt)


def to_yaml(v):
    if v is None:
        return "null"
    return yaml.safe_dump(v, default_flow_style=False, sort_keys=True).rstrip("\n")


def indent(n, s):
    pad = " " * int(n)
    return "\n".join(pad + l for l in to_str(s).split("\n"))


class Renderer:
    def __init__(self, defines):
        self.defines = defines

    def funcs(self, name):
        def required(msg, v=None):
            if not truthy(v) and v is not False and v != 0:
                raise TemplateError("execution error: required: %s" % msg)
            return v

        def and_(*a):
            for x in a:
                if not truthy(x):
                    return x
            return a[-1]

        def or_(*a):
            for x in a:
                if truthy(x):
                    return x
            return a[-1]

        table = {
            "include": lambda n, d=None: self.include(n, d),
            "quote": lambda *a: " ".join(json.dumps(to_str(x)) for x in a),
            "squote": lambda *a: " ".join("'%s'" % to_str(x) for x in a),
            "printf": lambda f, *a: go_printf(f, a),
            "print": lambda *a: "".join(to_str(x) for x in a),
            "trunc": lambda n, s: to_str(s)[:int(n)],
            "trimSuffix": lambda suf, s: to_str(s)[:-len(suf)] if suf and
            to_str(s).endswith(suf) else to_str(s),
            "eq": lambda a, *b: any(a == x for x in b),
            "ne": lambda a, b: a != b,
            "and": and_,
            "or": or_,
            "not": lambda x: not truthy(x),
            "required": required,
            "default": lambda d, v=None: v if truthy(v) else d,
            "toYaml": to_yaml,
            "nindent": lambda n, s: "\n" + indent(n, s),
            "indent": indent,
            "sha256sum": lambda s: hashlib.sha256(to_str(s).encode()).hexdigest(),
            "b64enc": lambda s: base64.b64encode(to_str(s).encode()).decode(),
            "add": lambda *a: sum(int(x) for x in a),
            "int": lambda x: int(x or 0),
            "toString": to_str,
            "len": lambda x: len(x or []),
        }
        if name not in table:
            raise TemplateError("function %r is not supported by helmlite" % name)
        return table[name]

    def include(self, name, data):
        if name not in self.defines:
            raise TemplateError("include: no template %r" % name)
        scope = {"$": data, ".": data}
        return self.run(self.defines[name], scope)

    # --- evaluation
    def lookup(self, base, path, what):
        v = base
        for part in [p for p in path.split(".") if p]:
            if isinstance(v, dict):
                v = v.get(part)
            elif v is None:
                return None
            else:
                raise TemplateError("%s: cannot take .%s of %r" % (what, part, v))
        return v

    def operand(self, tok, scope):
        kind, s = tok
        if kind == "str":
            return json.loads(s)
        if kind == "raw":
            return s[1:-1]
        if kind == "num":
            return float(s) if "." in s else int(s)
        if kind == "field":
            return self.lookup(scope["."], s[1:], s)
        if kind == "var":
            head, _, rest = s.partition(".")
            if head not in scope:
                raise TemplateError("undefined variable %s" % head)
            return self.lookup(scope[head], rest, s)
        if kind == "ident" and s in ("true", "false", "nil"):
            return {"true": True, "false": False, "nil": None}[s]
        raise TemplateError("unexpected %r" % s)

    def pipeline(self, toks, scope):
        cmds, cur, depth = [], [], 0
        for t in toks:
            if t[0] == "lp":
                depth += 1
            elif t[0] == "rp":
                depth -= 1
            if t[0] == "pipe" and depth == 0:
                cmds.append(cur)
                cur = []
            else:
                cur.append(t)
        cmds.append(cur)
        val, piped = None, False
        for c in cmds:
            val = self.command(c, scope, val if piped else None, piped)
            piped = True
        return val

    def args(self, toks, scope):
        out, i = [], 0
        while i < len(toks):
            if toks[i][0] == "lp":
                depth, j = 1, i + 1
                while depth:
                    if j >= len(toks):
                        raise TemplateError("unbalanced (")
                    depth += {"lp": 1, "rp": -1}.get(toks[j][0], 0)
                    j += 1
                out.append(self.pipeline(toks[i + 1:j - 1], scope))
                i = j
            else:
                out.append(self.operand(toks[i], scope))
                i += 1
        return out

    def command(self, toks, scope, piped_val, piped):
        if not toks:
            raise TemplateError("empty command")
        if toks[0][0] == "ident" and toks[0][1] not in ("true", "false", "nil"):
            a = self.args(toks[1:], scope)
            if piped:
                a.append(piped_val)
            return self.funcs(toks[0][1])(*a)
        a = self.args(toks, scope)
        if len(a) != 1 or piped:
            raise TemplateError("cannot call a non-function %r" % (toks,))
        return a[0]

    def expr(self, s, scope):
        """Evaluate an action; declarations bind in scope. Returns value."""
        toks = tokenize(s)
        if len(toks) >= 2 and toks[0][0] == "var" and toks[1][0] == "decl":
            scope[toks[0][1]] = self.pipeline(toks[2:], scope)
            return None
        return self.pipeline(toks, scope)

    def run(self, nodes, scope):
        out = []
        for n in nodes:
            if n.kind == "text":
                out.append(n.s)
            elif n.kind == "out":
                v = self.expr(n.expr, scope)
                toks = tokenize(n.expr)
                if not (len(toks) >= 2 and toks[1][0] == "decl"):
                    out.append(to_str(v))
            elif n.kind == "if":
                branch = n.body if truthy(self.expr(n.expr, dict(scope))) else n.alt
                out.append(self.run(branch, dict(scope)))
            elif n.kind == "with":
                v = self.expr(n.expr, dict(scope))
                if truthy(v):
                    out.append(self.run(n.body, dict(scope, **{".": v})))
                else:
                    out.append(self.run(n.alt, dict(scope)))
            elif n.kind == "range":
                out.append(self.range(n, scope))
        return "".join(out)

    def range(self, n, scope):
        m = re.match(r"^(?:(\$\w+)\s*(?:,\s*(\$\w+))?\s*:=\s*)?(.*)$", n.expr, re.S)
        v1, v2, e = m.group(1), m.group(2), m.group(3)
        coll = self.expr(e, dict(scope))
        if isinstance(coll, dict):
            items = sorted(coll.items())
        elif isinstance(coll, list):
            items = list(enumerate(coll))
        elif coll is None:
            items = []
        else:
            raise TemplateError("range over %r" % (coll,))
        if not items:
            return self.run(n.alt, dict(scope))
        out = []
        for k, v in items:
            s = dict(scope)
            s["."] = v
            if v1 and v2:
                s[v1], s[v2] = k, v
            elif v1:
                s[v1] = v
            out.append(self.run(n.body, s))
        return "".join(out)


# ---- the chart ----------------------------------------------------------

def set_path(d, path, value):
    keys = path.split(".")
    for k in keys[:-1]:
        d = d.setdefault(k, {})
    d[keys[-1]] = value


def render_chart(chart_dir, set_values=None, release="turnpike", namespace="default"):
    chart = yaml.safe_load(open(os.path.join(chart_dir, "Chart.yaml")))
    values = yaml.safe_load(open(os.path.join(chart_dir, "values.yaml"))) or {}
    for k, v in (set_values or {}).items():
        set_path(values, k, v)
    tdir = os.path.join(chart_dir, "templates")
    files = sorted(f for f in os.listdir(tdir) if f.endswith((".yaml", ".tpl", ".yml")))
    parsed, defines = {}, {}
    for f in files:
        nodes, d = parse(lex(open(os.path.join(tdir, f)).read(), f), f)
        parsed[f] = nodes
        defines.update(d)
    top = {
        "Values": values,
        "Chart": {"Name": chart["name"], "Version": chart["version"],
                  "AppVersion": chart.get("appVersion", "")},
        "Release": {"Name": release, "Namespace": namespace, "Service": "Helm",
                    "IsInstall": True, "IsUpgrade": False},
        "Capabilities": {}, "Template": {},
    }
    r = Renderer(defines)
    out = []
    for f in files:
        if f.startswith("_"):
            continue
        top["Template"] = {"Name": "%s/templates/%s" % (chart["name"], f),
                           "BasePath": "%s/templates" % chart["name"]}
        try:
            out.append((f, r.run(parsed[f], {"$": top, ".": top})))
        except TemplateError as e:
            raise TemplateError("%s: %s" % (f, e))
    return out
