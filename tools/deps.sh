#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tools/deps.sh - install the Debian 12 packages Turnpike needs (run as root).
#
#   tools/deps.sh            what building and running the server needs
#   tools/deps.sh --offload  also what building the kernel offload needs (the
#                            BPF datapath, server/bpf; optional at build time)
#   tools/deps.sh --test     also what the test suite needs (clang + libFuzzer,
#                            coturn's client utilities, libnice, netns tooling;
#                            the offload packages included)
#
# Idempotent: when every package is already installed it only checks and exits,
# without touching the network. The package lists live here and nowhere else
# (the Dockerfile mirrors BUILD_PKGS; keep them in step).
set -euo pipefail

# Building and running the server.
BUILD_PKGS=(
	build-essential   # gcc, make, libc headers
	cmake
	pkg-config
	libevent-dev      # event loop, listeners, timers
	libssl-dev        # libcrypto (HMAC, hashes, RAND) and TLS/DTLS
	libconfig-dev     # configuration file parser
	libsodium-dev     # nonce MACs, constant-time helpers, randomness
	libhiredis-dev    # the cluster store (redis = ...): hiredis 0.14 and its libevent adapter
)

# The kernel offload (issue 15), on top of BUILD_PKGS. Optional: CMake builds
# it when all three are present (TP_OFFLOAD=AUTO) and the server reports "not
# built in" otherwise. Not in BUILD_PKGS because the feature is off by
# default, needs root or CAP_BPF + CAP_NET_ADMIN at run time (the Docker image
# runs unprivileged), and clang/LLVM would multiply the size of a plain build.
OFFLOAD_PKGS=(
	clang             # compiles server/bpf/relay.bpf.c (clang -target bpf)
	bpftool           # bpftool gen skeleton: embeds the BPF object in the server
	libbpf-dev        # loads and attaches it (libbpf 1.1; brings libelf-dev, zlib1g-dev)
)

# The test suite, on top of BUILD_PKGS and OFFLOAD_PKGS.
TEST_PKGS=(
	clang             # tests/run.sh builds with clang; libFuzzer for tests/fuzz
	libclang-rt-14-dev # the libFuzzer/ASan/UBSan runtimes (only recommended by clang)
	llvm              # llvm-symbolizer, so sanitizer reports have line numbers
	coturn            # turnutils_uclient/_stunclient/_peer for interop tests; turnserver only as the comparison row of tools/bench (tp-bench --compare, machcpu.sh), never in tests
	libnice-dev       # ICE agent for interop tests and tools/dc-client
	libglib2.0-dev    # libnice's main loop
	iproute2          # ip netns / veth for the NAT lab
	nftables          # NAT rules in the lab
	iptables
	python3           # test helpers
	procps            # ps, pgrep for test scripts
	openssl           # the openssl command: test certificates are made at test time
	libusrsctp-dev    # tools/dc-client (SCTP over DTLS); its tests need it built
	libsoup-3.0-dev   # tools/dc-client signaling (WebSocket)
	python3-aiortc    # an independent WebRTC peer for tests/integration-dc
	chromium          # headless browser for tests/browser and integration-dc
	nodejs            # drives chromium through playwright-core (npm ci in the test)
	qemu-system-x86   # boots Debian 12's 6.1 kernel for netns/offload-6.1 (tools/old-kernel.sh fetches it)
	systemd           # systemd-analyze verify/security on conf/turnpike.service (tests/packaging)
	groff-base        # renders the manual pages with every warning on (tests/packaging/man)
	man-db            # man -l, and systemd-analyze verify opens the unit's man: pages
	libcap2-bin       # setcap: the Docker image's file capability, tried on the host
	python3-yaml      # tests/packaging: loads the rendered Kubernetes manifests
	redis-server      # tests/redis: a real Redis the module's tests start and stop by PID
	haproxy           # stream/haproxy, netns/cluster: a real HAProxy (send-proxy-v2) started by PID
)

usage() {
	echo "usage: $0 [--offload] [--test]" >&2
	exit 2
}

pkgs=("${BUILD_PKGS[@]}")
with_test=false
for a in "$@"; do
	case "$a" in
	--offload) pkgs+=("${OFFLOAD_PKGS[@]}") ;;
	--test) pkgs+=("${OFFLOAD_PKGS[@]}" "${TEST_PKGS[@]}"); with_test=true ;;
	*) usage ;;
	esac
done
# each package once, first mention wins
mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | awk '!seen[$0]++')

if [ "$(id -u)" -ne 0 ]; then
	echo "$0: run as root (it uses apt-get)" >&2
	exit 1
fi

# Which of them are not installed yet?
missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done

# npm ships inside some nodejs builds (NodeSource); Debian's comes separately.
if $with_test && ! command -v npm >/dev/null 2>&1; then
	missing+=(npm)
fi

# kubectl for `kubectl kustomize` in tests/packaging: Debian's kubernetes-client,
# unless a kubectl is already installed (another package of it would conflict
# on /usr/bin/kubectl).
if [ "${1:-}" = --test ] && ! command -v kubectl >/dev/null 2>&1; then
	missing+=(kubernetes-client)
fi

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} packages already installed"
else
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The oldest kernel the offload claims, for its test under qemu (downloaded,
# not installed; offline when already there).
if $with_test; then
	"$(dirname "$0")/old-kernel.sh"
fi
