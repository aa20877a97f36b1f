# SPDX-License-Identifier: BSD-3-Clause
# Turnpike: a multi-stage Debian 12 build. The build stage mirrors
# tools/deps.sh (BUILD_PKGS) and the README's cmake commands; the runtime stage
# has only the shared libraries the server and the probe link. turnpikectl
# (the admin CLI; Kubernetes' preStop hook runs `turnpikectl drain --wait`) is
# built and installed when the tree has its target.
#
#   docker build -t turnpike .
#   docker run -d --network host -v /srv/turnpike:/etc/turnpike:ro turnpike
#
# The image's own configuration (conf/docker/turnpike.conf) serves STUN/TURN on
# UDP and TCP 3478, has no demo credential and no users: allocations are
# refused until a configuration with users or static-auth-secret is mounted at
# /etc/turnpike (see that file, and "Docker" in the README).

FROM debian:bookworm-slim AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      libevent-dev libssl-dev libconfig-dev libsodium-dev libhiredis-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The kernel offload (clang, bpftool, libbpf) stays out of the image: it needs
# privileges the image's user does not have (docs/OFFLOAD.md).
RUN cmake -S . -B build -DTP_TESTS=OFF -DTP_OFFLOAD=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && cmake --build build -j2 --target turnpike turnpike-probe \
 && install -D -m 0755 -s build/server/turnpike /out/usr/local/bin/turnpike \
 && install -D -m 0755 -s build/tools/probe/turnpike-probe /out/usr/local/bin/turnpike-probe \
 && install -D -m 0644 conf/docker/turnpike.conf /out/etc/turnpike/turnpike.conf \
 && if cmake --build build --target help | grep -qw turnpikectl; then \
      cmake --build build -j2 --target turnpikectl \
      && install -D -m 0755 -s "$(find build -type f -name turnpikectl -perm -u+x | head -n 1)" \
           /out/usr/local/bin/turnpikectl; \
    fi

FROM debian:bookworm-slim
ENV DEBIAN_FRONTEND=noninteractive
# libcap2-bin only for the setcap below, then purged.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libevent-2.1-7 libevent-core-2.1-7 libevent-extra-2.1-7 libevent-openssl-2.1-7 \
      libevent-pthreads-2.1-7 libssl3 libconfig9 libsodium23 libhiredis0.14 libcap2-bin \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 turnpike \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin turnpike \
 && install -d -o 10001 -g 10001 -m 0750 /run/turnpike
COPY --from=build /out/ /
# Port 443 for an unprivileged user: a file capability on the binary. Set here,
# in the final stage, because COPY --from drops extended attributes in some
# builders (kaniko, older Docker, BuildKit without xattr support). It takes
# effect only without no_new_privs (Kubernetes: allowPrivilegeEscalation: true)
# and with NET_BIND_SERVICE in the container's bounding set (Docker's default).
RUN setcap cap_net_bind_service=+ep /usr/local/bin/turnpike \
 && getcap /usr/local/bin/turnpike | grep -q cap_net_bind_service \
 && apt-get purge -y --auto-remove libcap2-bin
# Configuration and certificates: mount your own directory here. The admin
# socket is /run/turnpike/admin.sock (made above for uid 10001).
VOLUME ["/etc/turnpike"]
# STUN/TURN over UDP and TCP: the listeners of the image's configuration.
EXPOSE 3478/udp 3478/tcp
USER 10001:10001
# A STUN Binding to the image's UDP listener (TURN needs credentials the check
# does not have). With another port in your configuration, override it:
#   docker run --health-cmd '...127.0.0.1:PORT...'
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
  CMD turnpike-probe --json --ports 3478 --skip-lifetime --timeout 2 127.0.0.1:3478 \
      | grep -q '"stun":{"ok":true' || exit 1
ENTRYPOINT ["turnpike"]
CMD ["-c", "/etc/turnpike/turnpike.conf"]
