#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tools/capture-vectors.sh - how tests/vectors/captured/*.hex were made (a record;
# not run by the tests). Needs root (tshark on lo), coturn, tshark, python3, cc,
# libnice-dev. All traffic stays on loopback (127.0.0.0/8).
#
# It starts coturn's own turnserver on 127.0.0.77:34780 (never used by the tests),
# a turnutils_peer echo peer on 127.0.0.1:3480, and captures UDP port 34780 on lo
# while coturn's clients and a tiny libnice program talk to it:
#   run "lt":   --lt-cred-mech --user test:secret --realm example.org
#               turnutils_stunclient; turnutils_uclient with channels, then with
#               Send indications (-s); the libnice program (STUN + TURN UDP relay)
#   run "rest": --use-auth-secret --static-auth-secret=restsecret --realm example.org
#               turnutils_uclient -W restsecret (TURN REST API username)
# Then every UDP payload is written out; the first of each kind per client goes
# to tests/vectors/captured/<run>-<client>-<what>.hex with a header comment.
# Every process it starts is ended by PID.
set -euo pipefail

cd "$(dirname "$0")/.."
out=tests/vectors/captured
work=$(mktemp -d /tmp/tp-capture.XXXXXX)
port=34780
srv=127.0.0.77   # a loopback address of its own, so the capture holds nothing else
peerport=3480
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}
trap cleanup EXIT

start() { # start NAME CMD...: run in the background, remember the PID
	local name=$1
	shift
	"$@" >"$work/$name.log" 2>&1 &
	pids+=($!)
	echo "started $name pid $!"
}

stop() { # stop PID [SIG]
	kill "-${2:-INT}" "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# --- the libnice client: gather host, server-reflexive and relayed candidates
cat >"$work/nicecap.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <agent.h>

static GMainLoop *loop;

static void on_done(NiceAgent *agent, guint sid, gpointer data)
{
	GSList *c, *l;

	(void)data;
	c = nice_agent_get_local_candidates(agent, sid, 1);
	for (l = c; l; l = l->next) {
		NiceCandidate *cand = l->data;
		char ip[NICE_ADDRESS_STRING_LEN];

		nice_address_to_string(&cand->addr, ip);
		printf("candidate type %d %s:%u\n", cand->type, ip, nice_address_get_port(&cand->addr));
	}
	g_slist_free_full(c, (GDestroyNotify)nice_candidate_free);
	g_main_loop_quit(loop);
}

static void on_recv(NiceAgent *a, guint s, guint c, guint len, gchar *buf, gpointer d)
{
	(void)a; (void)s; (void)c; (void)len; (void)buf; (void)d;
}

static gboolean on_timeout(gpointer d)
{
	(void)d;
	g_main_loop_quit(loop);
	return FALSE;
}

int main(int argc, char **argv)
{
	NiceAgent *agent;
	NiceAddress base;
	guint sid;
	guint port = argc > 1 ? (guint)atoi(argv[1]) : 3478;

	loop = g_main_loop_new(NULL, FALSE);
	agent = nice_agent_new(g_main_loop_get_context(loop), NICE_COMPATIBILITY_RFC5245);
	g_object_set(agent, "stun-server", "127.0.0.77", "stun-server-port", port,
	             "upnp", FALSE, "ice-tcp", FALSE, NULL);
	nice_address_init(&base);
	nice_address_set_from_string(&base, "127.0.0.1");
	nice_agent_add_local_address(agent, &base);   /* loopback only */
	sid = nice_agent_add_stream(agent, 1);
	nice_agent_set_relay_info(agent, sid, 1, "127.0.0.77", port, "test", "secret",
	                          NICE_RELAY_TYPE_TURN_UDP);
	nice_agent_attach_recv(agent, sid, 1, g_main_loop_get_context(loop), on_recv, NULL);
	g_signal_connect(agent, "candidate-gathering-done", G_CALLBACK(on_done), NULL);
	nice_agent_gather_candidates(agent, sid);
	g_timeout_add_seconds(8, on_timeout, NULL);
	g_main_loop_run(loop);
	g_object_unref(agent);
	g_main_loop_unref(loop);
	return 0;
}
EOF
cc -O1 -o "$work/nicecap" "$work/nicecap.c" $(pkg-config --cflags --libs nice)

common=(-n --no-cli -L "$srv" -p "$port" -E "$srv" --min-port 35800 --max-port 35899
	--allow-loopback-peers --no-tcp --no-tls --no-dtls --no-tcp-relay --fingerprint
	--realm example.org --log-file stdout --simple-log --db "$work/turndb"
	--pidfile "$work/turnserver.pid")

capture_begin() { # capture_begin RUN
	start "tshark-$1" tshark -i lo -f "udp port $port and host $srv" -w "$work/$1.pcap"
	tshark_pid=${pids[-1]}
	sleep 3
}
capture_end() {
	sleep 1
	stop "$tshark_pid"
}
mark() { # a one-byte UDP datagram to port 34780 separates the clients in the capture
	python3 -c "import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.sendto(sys.argv[1].encode(),('$srv',$port))" "$1"
	sleep 0.5
}

start peer turnutils_peer -L 127.0.0.1 -p "$peerport"

# ---- run 1: long-term credentials
start turnserver-lt turnserver "${common[@]}" --lt-cred-mech --user test:secret
ts=${pids[-1]}
sleep 2
capture_begin lt
mark '@stunclient'
turnutils_stunclient -p "$port" "$srv" >"$work/stunclient.log" 2>&1 || true
# uclient picks channel numbers at random in 0x4000-0x7FFF (RFC 5766's range);
# RFC 8656 allows only 0x4000-0x4FFF. Run it a few times so that both kinds are
# captured (the writer keeps the first of each).
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	mark '@uclient-chan'
	turnutils_uclient -p "$port" -u test -w secret -e 127.0.0.1 -r "$peerport" -n 2 -c "$srv" \
		>>"$work/uclient-chan.log" 2>&1 || true
done
mark '@uclient-send'
turnutils_uclient -p "$port" -u test -w secret -e 127.0.0.1 -r "$peerport" -n 2 -c -s "$srv" \
	>"$work/uclient-send.log" 2>&1 || true
mark '@libnice'
"$work/nicecap" "$port" >"$work/libnice.log" 2>&1 || true
capture_end
stop "$ts" TERM

# ---- run 2: TURN REST API credentials
start turnserver-rest turnserver "${common[@]}" --use-auth-secret --static-auth-secret=restsecret
ts=${pids[-1]}
sleep 2
capture_begin rest
mark '@uclient-rest'
turnutils_uclient -p "$port" -u test -W restsecret -e 127.0.0.1 -r "$peerport" -n 2 -c "$srv" \
	>"$work/uclient-rest.log" 2>&1 || true
capture_end
stop "$ts" TERM

for run in lt rest; do
	tshark -r "$work/$run.pcap" -T fields -e frame.number -e ip.src -e udp.srcport -e ip.dst -e udp.dstport \
		-e udp.payload >"$work/$run.tsv"
done

# ---- write the fixtures
python3 - "$work" "$out" "$srv" "$port" <<'EOF'
import os, struct, sys

work, out, srv, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
METHODS = {1: "binding", 3: "allocate", 4: "refresh", 6: "send", 7: "data",
           8: "createpermission", 9: "channelbind"}
CLASSES = {0: "request", 1: "indication", 2: "success", 3: "error"}
HOW = {
    "stunclient": "turnutils_stunclient -p 34780 127.0.0.77",
    "uclient-chan": "turnutils_uclient -p 34780 -u test -w secret -e 127.0.0.1 -r 3480 -n 2 -c 127.0.0.77",
    "uclient-send": "turnutils_uclient -p 34780 -u test -w secret -e 127.0.0.1 -r 3480 -n 2 -c -s 127.0.0.77",
    "libnice": "libnice 0.1.21 NiceAgent (RFC5245 compatibility) gathering with stun-server and TURN-UDP relay test/secret",
    "uclient-rest": "turnutils_uclient -p 34780 -u test -W restsecret -e 127.0.0.1 -r 3480 -n 2 -c 127.0.0.77",
}
SERVER = {
    "lt": "coturn 4.6.1 turnserver --lt-cred-mech --user test:secret --realm example.org --fingerprint",
    "rest": "coturn 4.6.1 turnserver --use-auth-secret --static-auth-secret=restsecret --realm example.org --fingerprint",
}

def attrs(p):
    i, res = 20, []
    while i + 4 <= len(p):
        t, l = struct.unpack("!HH", p[i:i + 4])
        res.append((t, p[i + 4:i + 4 + l]))
        i += 4 + ((l + 3) & ~3)
    return res

def chan_suffix(c):
    # RFC 8656 channels are 0x4000-0x4FFF; RFC 5766 allowed up to 0x7FFE
    return "" if 0x4000 <= c <= 0x4FFF else "-rfc5766range"

def kind(p):
    if p[0] & 0xC0 == 0x40:
        return "channeldata" + chan_suffix(struct.unpack("!H", p[:2])[0])
    t = struct.unpack("!H", p[:2])[0]
    m = (t & 0xF) | ((t & 0xE0) >> 1) | ((t & 0x3E00) >> 2)
    c = ((t >> 4) & 1) | ((t >> 7) & 2)
    name = METHODS.get(m, "method%03x" % m) + "-" + CLASSES[c]
    if c == 3:
        for at, v in attrs(p):
            if at == 0x0009 and len(v) >= 4:
                name += "-%d" % ((v[2] & 7) * 100 + v[3])
    elif c == 0 and not any(at == 0x0008 for at, v in attrs(p)) and m in (3,):
        name += "-noauth"
    if m == 9 and c == 0:
        for at, v in attrs(p):
            if at == 0x000C and len(v) >= 2:
                name += chan_suffix(struct.unpack("!H", v[:2])[0])
    if p[4:8] != b"\x21\x12\xa4\x42":
        name += "-classic"
    return name

os.makedirs(out, exist_ok=True)
seen = set()
count = 0
for run in ("lt", "rest"):
    client = None
    for line in open(os.path.join(work, run + ".tsv")):
        f = line.rstrip("\n").split("\t")
        if len(f) < 6 or not f[5]:
            continue
        num, src, dst, payload = int(f[0]), (f[1], int(f[2])), (f[3], int(f[4])), bytes.fromhex(f[5].replace(":", ""))
        if payload.startswith(b"@"):
            client = payload[1:].decode()
            continue
        if client is None or len(payload) < 4:
            continue
        if dst == (srv, port):
            direction = "c2s"
        elif src == (srv, port):
            direction = "s2c"
        else:
            continue
        k = kind(payload)
        key = (run, client, k, direction)
        if key in seen:
            continue
        seen.add(key)
        name = "%s-%s-%s-%s.hex" % (run, client, k, direction)
        who = "server" if direction == "s2c" else client
        with open(os.path.join(out, name), "w") as fh:
            fh.write("# %s %s, %d bytes, sent by %s (frame %d of %s.pcap)\n" % (k, direction, len(payload), who, num, run))
            fh.write("# server: %s on 127.0.0.77:34780; client: %s\n" % (SERVER[run], HOW[client]))
            fh.write("# captured with tshark -i lo -f 'udp port 34780 and host 127.0.0.77' by tools/capture-vectors.sh\n")
            h = payload.hex()
            for i in range(0, len(h), 64):
                fh.write(h[i:i + 64] + "\n")
        count += 1
print("wrote %d fixtures to %s" % (count, out))
EOF
echo "logs and pcaps in $work"
