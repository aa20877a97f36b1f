# SPDX-License-Identifier: BSD-3-Clause
# tests/netns/lib.sh - a NAT lab in network namespaces, for any test that needs
# clients behind NATs of known behaviour. Source it from bash:
#
#   . "$(dirname "$0")/lib.sh"
#   lab_require_root                 # exit 77 (ctest SKIP) with a reason if not root
#   lab_init                         # namespaces "public" and "sink"; cleanup trap
#   lab_client 1 ei apd              # client 1 behind a NAT: mapping, filtering
#   lab_pub  turnpike -c ...         # run in "public" (the server side)
#   lab_cli 1 turnpike-probe ...     # run in client 1's namespace
#
# Topology (all addresses are documentation ranges or 10/8, inside the lab):
#
#   [sink] 192.0.2.2 ---- 192.0.2.1 [public] lo: 203.0.113.1, 203.0.113.2 (LAB_SRV1/2)
#     drops everything,         |  default route -> sink (like the internet)
#     answers nothing           |  forwarding on (clients can reach each other)
#                               +-- n<i>: 198.51.100.(8i+1)/29
#                                      |
#                     wan: 198.51.100.(8i+2) (+ .8i+3) [nat<i>] lan: 10.0.<i>.1/24
#                                                              |
#                                                    eth0: 10.0.<i>.2 [cli<i>]
#
# Mapping (RFC 4787 / RFC 5780 §4.3) of client i's NAT:
#   none  no translation: the client's 10.0.<i>.2 is routed as it is
#   ei    endpoint-independent: masquerade (keeps the source port)
#   ad    address-dependent: towards LAB_SRV2 the NAT uses its second public
#         address .8i+3 (port kept), towards anything else .8i+2. Linux picks
#         ports per 5-tuple, so a single-address ADM needs one SNAT port per
#         flow; two addresses give the same mapping behaviour with any number
#         of client sockets. (The NAT's address set thus depends on the peer.)
#   apd   address-and-port-dependent: masquerade fully-random (a new random
#         port for every destination address and port)
# Filtering (§4.4), inbound on wan to a NAT address:
#   ei    any host may send to a port the client has mapped (DNAT back to the
#         client: the port is kept by ei/ad mapping, so it is the client's)
#   ad    only hosts the client's endpoint (IP, port) has sent to, any port
#   apd   only replies to exactly what was sent (conntrack ESTABLISHED)
#   ei/ad filtering need a port-keeping mapping: with apd mapping they are
#   refused (lab_client fails), as the NAT's ports are not the client's.
# Everything else arriving on wan is dropped silently (no ICMP), as by a NAT.
#
# Namespaces are named "<tag>-pub", "<tag>-sink", "<tag>-nat<i>", "<tag>-cli<i>"
# with a tag unique to the run, so tests can run in parallel; the EXIT trap
# kills what lab_bg started and deletes every namespace, even on failure.

LAB_SRV1=203.0.113.1
LAB_SRV2=203.0.113.2
LAB_TAG=${LAB_TAG:-tp$$}
LAB_NS=()
LAB_PIDS=()

lab_log() { echo "lab: $*" >&2; }

lab_require_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: the NAT lab needs root (network namespaces, nftables); CI runs it as root"
		exit 77
	fi
	for t in ip nft; do
		if ! command -v "$t" >/dev/null; then
			echo "SKIP: $t not installed (apt-get install iproute2 nftables)"
			exit 77
		fi
	done
}

lab_cleanup() {
	local rc=$?
	for p in "${LAB_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${LAB_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	for ((i = ${#LAB_NS[@]} - 1; i >= 0; i--)); do
		ip netns del "${LAB_NS[i]}" 2>/dev/null
	done
	LAB_NS=()
	LAB_PIDS=()
	return $rc
}

lab_ns() { # lab_ns NAME: create namespace <tag>-NAME with lo up
	local ns="$LAB_TAG-$1"
	ip netns add "$ns" || return 1
	LAB_NS+=("$ns")
	ip -n "$ns" link set lo up
}

lab_exec() { # lab_exec NAME cmd...: run in namespace <tag>-NAME
	local ns="$LAB_TAG-$1"
	shift
	ip netns exec "$ns" "$@"
}
lab_pub() { lab_exec pub "$@"; }
lab_cli() { local i=$1; shift; lab_exec "cli$i" "$@"; }

lab_bg() { # lab_bg NAME LOG cmd...: start in the background; killed by the trap
	local name=$1 log=$2
	shift 2
	ip netns exec "$LAB_TAG-$name" "$@" >"$log" 2>&1 &
	LAB_PIDS+=($!)
	LAB_LAST_PID=$!
}

lab_sysctl() { lab_exec "$1" sysctl -qw "$2" >/dev/null; }

# lab_relay3: a relay between two links, in namespaces <tag>-cli, -srv, -peer:
#   cli c0 198.51.100.2/24 -- s0 198.51.100.1  srv  s1 203.0.113.1/24 -- p0 203.0.113.2 peer
# links up, the server namespace not forwarding; sets srv, cli and peer to the
# namespace names (the offload tests and tools/bench/machcpu.sh).
lab_relay3() {
	local l
	lab_ns srv && lab_ns cli && lab_ns peer || return 1
	srv=$LAB_TAG-srv cli=$LAB_TAG-cli peer=$LAB_TAG-peer
	ip link add c0 netns "$cli" type veth peer name s0 netns "$srv" &&
		ip link add p0 netns "$peer" type veth peer name s1 netns "$srv" &&
		ip -n "$cli" addr add 198.51.100.2/24 dev c0 &&
		ip -n "$srv" addr add 198.51.100.1/24 dev s0 &&
		ip -n "$srv" addr add 203.0.113.1/24 dev s1 &&
		ip -n "$peer" addr add 203.0.113.2/24 dev p0 || return 1
	for l in "$cli c0" "$srv s0" "$srv s1" "$peer p0"; do
		ip -n "${l% *}" link set "${l#* }" up || return 1
	done
	lab_sysctl srv net.ipv4.ip_forward=0
}

lab_init() {
	trap lab_cleanup EXIT
	trap 'exit 130' INT TERM
	lab_ns pub && lab_ns sink || return 1
	ip -n "$LAB_TAG-pub" addr add "$LAB_SRV1/32" dev lo
	ip -n "$LAB_TAG-pub" addr add "$LAB_SRV2/32" dev lo
	ip link add tosink netns "$LAB_TAG-pub" type veth peer name uplink netns "$LAB_TAG-sink"
	ip -n "$LAB_TAG-pub" addr add 192.0.2.1/30 dev tosink
	ip -n "$LAB_TAG-sink" addr add 192.0.2.2/30 dev uplink
	ip -n "$LAB_TAG-pub" link set tosink up
	ip -n "$LAB_TAG-sink" link set uplink up
	ip -n "$LAB_TAG-pub" route add default via 192.0.2.2
	lab_sysctl pub net.ipv4.ip_forward=1
	# The sink is the internet nobody answers from: drop in, out and through.
	lab_exec sink nft -f - <<-'NFT' || return 1
		table inet sink {
			chain c_in { type filter hook input priority 0; policy drop; }
			chain c_fwd { type filter hook forward priority 0; policy drop; }
			chain c_out { type filter hook output priority 0; policy drop; }
		}
	NFT
}

# lab_client I MAPPING FILTERING: client I (1..30) behind its own NAT.
lab_client() {
	local i=$1 map=$2 filt=$3
	local base=$((8 * i)) nat="nat$i" cli="cli$i"
	local pub1="198.51.100.$((base + 2))" pub2="198.51.100.$((base + 3))"
	local gw="198.51.100.$((base + 1))" lan="10.0.$i"
	local snat="" dnat="" fin=""

	case "$map/$filt" in
	none/*) ;;
	ei/* | ad/*) ;;
	apd/apd) ;;
	*) lab_log "unsupported NAT: mapping $map, filtering $filt"; return 1 ;;
	esac
	lab_ns "$nat" && lab_ns "$cli" || return 1
	ip link add "n$i" netns "$LAB_TAG-pub" type veth peer name wan netns "$LAB_TAG-$nat"
	ip link add lan netns "$LAB_TAG-$nat" type veth peer name eth0 netns "$LAB_TAG-$cli"
	ip -n "$LAB_TAG-pub" addr add "$gw/29" dev "n$i"
	ip -n "$LAB_TAG-$nat" addr add "$pub1/29" dev wan
	ip -n "$LAB_TAG-$nat" addr add "$pub2/29" dev wan
	ip -n "$LAB_TAG-$nat" addr add "$lan.1/24" dev lan
	ip -n "$LAB_TAG-$cli" addr add "$lan.2/24" dev eth0
	ip -n "$LAB_TAG-pub" link set "n$i" up
	ip -n "$LAB_TAG-$nat" link set wan up
	ip -n "$LAB_TAG-$nat" link set lan up
	ip -n "$LAB_TAG-$cli" link set eth0 up
	ip -n "$LAB_TAG-$nat" route add default via "$gw"
	ip -n "$LAB_TAG-$cli" route add default via "$lan.1"
	lab_sysctl "$nat" net.ipv4.ip_forward=1
	if [ "$map" = none ]; then
		# Routed, not translated: the client's address is public to the server.
		ip -n "$LAB_TAG-pub" route add "$lan.0/24" via "$pub1"
		lab_exec "$nat" nft -f - <<-NFT
			table ip lab {
				chain c_fwd { type filter hook forward priority 0; policy accept; }
			}
		NFT
		return
	fi
	case "$map" in
	ei) snat="oifname \"wan\" masquerade" ;;
	apd) snat="oifname \"wan\" masquerade fully-random" ;;
	ad) snat="oifname \"wan\" ip daddr $LAB_SRV2 snat to $pub2
		oifname \"wan\" snat to $pub1" ;;
	esac
	case "$filt" in
	ei)
		dnat="iifname \"wan\" udp dport @mapped dnat to $lan.2"
		fin="iifname \"wan\" ct status dnat accept" ;;
	ad)
		dnat="iifname \"wan\" udp dport @mapped dnat to $lan.2"
		fin="iifname \"wan\" ct status dnat ip daddr . udp dport . ip saddr @contacted accept" ;;
	apd) ;;
	*) lab_log "unknown filtering $filt"; return 1 ;;
	esac
	lab_exec "$nat" nft -f - <<-NFT || return 1
		table ip lab {
			set mapped { type inet_service; flags dynamic, timeout; timeout 10m; }
			set contacted {
				type ipv4_addr . inet_service . ipv4_addr; flags dynamic, timeout; timeout 10m;
			}
			chain c_pre {
				type nat hook prerouting priority dstnat; policy accept;
				$dnat
			}
			chain c_post {
				type nat hook postrouting priority srcnat; policy accept;
				$snat
			}
			chain c_fwd {
				type filter hook forward priority 0; policy drop;
				iifname "lan" oifname "wan" meta l4proto udp update @mapped { udp sport }
				iifname "lan" oifname "wan" meta l4proto udp update @contacted { ip saddr . udp sport . ip daddr }
				iifname "lan" oifname "wan" accept
				iifname "wan" ct state established,related accept
				$fin
			}
			chain c_in {
				type filter hook input priority 0; policy accept;
				iifname "wan" ct state established,related accept
				iifname "wan" drop
			}
		}
	NFT
}

# lab_wait_udp NS HOST PORT: wait (5 s) until a STUN server answers a Binding.
lab_wait_stun() {
	local ns=$1 host=$2 port=$3
	lab_exec "$ns" python3 - "$host" "$port" <<-'PY'
		import os, socket, struct, sys, time
		req = struct.pack("!HHI12s", 1, 0, 0x2112A442, os.urandom(12))
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.settimeout(0.2)
		end = time.time() + 5
		while time.time() < end:
		    try:
		        s.sendto(req, (sys.argv[1], int(sys.argv[2])))
		        s.recvfrom(2048)
		        sys.exit(0)
		    except OSError:
		        time.sleep(0.1)
		sys.exit(1)
	PY
}

# lab_nat_udp_timeout I SECONDS: how long client I's NAT keeps an idle UDP
# mapping (conntrack's timeouts are per namespace).
lab_nat_udp_timeout() {
	lab_sysctl "nat$1" "net.netfilter.nf_conntrack_udp_timeout=$2" &&
		lab_sysctl "nat$1" "net.netfilter.nf_conntrack_udp_timeout_stream=$2"
}
