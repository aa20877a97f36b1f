#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Configuration from the environment, --set and secret files (issue 17 item 8),
and what a reload logs (item 11), seen from outside over real sockets:

- bad values from --set and TURNPIKE_* stop the start with a message naming the
  source ("--set max-bps: ...", "environment TURNPIKE_MAX_PORT: ...");
- precedence file < environment < --set, observed as the REALM of a 401 and as
  which users can allocate (TURNPIKE_USERS replaces the file's users);
- static-auth-secret-file: a TURN REST credential made with the file's secret
  allocates; giving static-auth-secret as well is refused;
- SIGHUP re-reads the file and applies the environment and --set again on top
  (the realm stays the --set one), re-reads the secret file (the old secret is
  refused, the new one works), and logs each changed option with old -> new
  values, secrets only as "changed" (their values never appear in the log).
"""
import base64
import hashlib
import hmac
import os
import re
import shutil
import subprocess
import tempfile
import time

import tpstream as tp

UDP = bytes([17, 0, 0, 0])


def realm_of(port):
    """The REALM of the 401 an unauthenticated Allocate gets."""
    c = tp.Client(tp.connect(port))
    try:
        m = c.transact(tp.ALLOCATE, [(tp.A_REQ_TRANSPORT, UDP)], auth=False)
    finally:
        c.close()
    tp.check(m.cls == tp.ERROR and m.code() == 401, "an unauthenticated Allocate gets 401")
    return m.get(tp.A_REALM).decode()


def allocate_as(port, user, pw):
    c = tp.Client(tp.connect(port), user, pw)
    try:
        m = c.request(tp.ALLOCATE, [(tp.A_REQ_TRANSPORT, UDP)])
    finally:
        c.close()
    return m.cls == tp.SUCCESS, m


def rest_cred(secret, name="svc"):
    user = "%d:%s" % (int(time.time()) + 3600, name)
    pw = base64.b64encode(hmac.new(secret.encode(), user.encode(), hashlib.sha1).digest())
    return user, pw.decode()


def run(binary, conf, args=(), env_add=None):
    env = dict(os.environ)
    env.update(env_add or {})
    r = subprocess.run([binary, "-c", conf] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=20)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def bad_values(binary, conf, tmp):
    cases = [
        (["--set", "max-bps=fast"], None,
         'turnpike: --set max-bps: "fast": not an integer (expected 0..4000000000)'),
        ([], {"TURNPIKE_MAX_PORT": "70000"},
         "turnpike: environment TURNPIKE_MAX_PORT: 70000 is out of range (expected 1024..65535)"),
        (["--set", "mobility=maybe"], None,
         'turnpike: --set mobility: "maybe": not a boolean (expected true or false)'),
        (["--set", "listen=udp:nowhere"], None,
         'turnpike: --set listen: "udp:nowhere": not a listening address'),
        (["--set", "users=carol"], None,
         'turnpike: --set users: "carol": expected NAME:PASSWORD'),
        (["--set", "max-bsp=1"], None,
         "turnpike: --set max-bsp: unknown option; did you mean 'max-bps'?"),
        (["--set", "realm"], None, "turnpike: --set realm: expected OPTION=VALUE"),
        (["--set", "static-auth-secret-file=" + os.path.join(tmp, "none")], None,
         "turnpike: --set static-auth-secret-file: %s: No such file or directory"
         % os.path.join(tmp, "none")),
        ([], {"TURNPIKE_STATIC_AUTH_SECRET_FILE": os.path.join(tmp, "secret"),
              "TURNPIKE_STATIC_AUTH_SECRET": "inline"},
         "turnpike: environment TURNPIKE_STATIC_AUTH_SECRET_FILE: static-auth-secret is given "
         "too (expected one of static-auth-secret and static-auth-secret-file)"),
    ]
    for args, env, want in cases:
        rc, out, err = run(binary, conf, args, env)
        tp.expect(rc == 2 and err.startswith(want),
                  "%s %s: exit 2 with %r (got %d: %r)" % (args, env, want, rc, err.strip()))


def test(binary):
    tmp = tempfile.mkdtemp(prefix="tp-confsrc-")
    secret_file = os.path.join(tmp, "secret")
    with open(secret_file, "w") as f:
        f.write("s3cret-one\n")
    options = {
        "realm": '"file-realm"',
        "static-auth-secret-file": '"%s"' % secret_file,
        "max-permissions": "128",
    }
    srv = tp.Server(binary, {"tcp": "tcp"}, options=options)
    bad_values(binary, srv.conf_path, tmp)

    # the environment beats the file
    srv.start(env_add={"TURNPIKE_REALM": "env-realm"})
    tp.check(realm_of(srv.ports["tcp"]) == "env-realm", "TURNPIKE_REALM beats the file's realm")
    srv.stop()

    # --set beats the environment; TURNPIKE_USERS replaces the file's users
    srv = tp.Server(binary, {"tcp": "tcp"}, options=options)
    port = srv.ports["tcp"]
    srv.start(args=["--set", "realm=set-realm", "--set", "max-bps=1000000"],
              env_add={"TURNPIKE_REALM": "env-realm", "TURNPIKE_USERS": "carol:carolpw",
                       "TURNPIKE_USER_QUOTA": "5"})
    try:
        tp.check(realm_of(port) == "set-realm", "--set realm beats TURNPIKE_REALM")
        ok, m = allocate_as(port, "carol", "carolpw")
        tp.check(ok, "carol (from TURNPIKE_USERS) allocates: %r" % m)
        ok, m = allocate_as(port, tp.USER, tp.PASS)
        tp.check(not ok and m.code() == 401, "alice (only in the file) is refused: %r" % m)
        ok, m = allocate_as(port, *rest_cred("s3cret-one"))
        tp.check(ok, "a REST credential of the secret file's secret allocates: %r" % m)
        log = srv.read_log()
        tp.check('realm "set-realm", auth: static users (1) and TURN REST secrets (1)' in log,
                 "the start-up line names the realm and the auth mode")

        # reload: the file and the secret file change; env and --set stay on top
        with open(srv.conf_path) as f:
            text = f.read()
        text = re.sub(r'realm = "file-realm";', 'realm = "file-realm-2";', text)
        text = re.sub(r"max-permissions = 128;", "max-permissions = 64;", text)
        text = re.sub(r"user-quota = \d+;\n", "", text) + "user-quota = 9;\n"
        with open(srv.conf_path, "w") as f:
            f.write(text)
        with open(secret_file, "w") as f:
            f.write("s3cret-two\n")
        srv.sighup("configuration reloaded")
        log = srv.read_log()
        tp.check("reload: max-permissions: 128 -> 64" in log,
                 "the reload logs max-permissions: 128 -> 64")
        tp.check("reload: static-auth-secret: changed" in log,
                 "the reload logs the secret as changed")
        tp.check("reload: realm" not in log, "no realm change is logged (--set keeps it)")
        tp.check("reload: user-quota" not in log,
                 "no user-quota change is logged (TURNPIKE_USER_QUOTA keeps it)")
        tp.check("s3cret-one" not in log and "s3cret-two" not in log and "carolpw" not in log,
                 "no secret value in the log")
        tp.check(realm_of(port) == "set-realm", "after the reload the realm is still --set's")
        ok, m = allocate_as(port, *rest_cred("s3cret-one"))
        tp.check(not ok, "after the reload the old secret is refused")
        ok, m = allocate_as(port, *rest_cred("s3cret-two"))
        tp.check(ok, "after the reload the secret file's new secret allocates: %r" % m)
        ok, m = allocate_as(port, "carol", "carolpw")
        tp.check(ok, "after the reload carol (TURNPIKE_USERS) still allocates")

        # a reload with nothing changed says so
        srv.sighup("no option changed")
    finally:
        srv.stop()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    tp.main(test)
