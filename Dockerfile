# Turnpike: a multi-stage Debian 12 build. The build stage mirrors
# tools/deps.sh (BUILD_PKGS) and the README's cmake commands; the runtime stage
# has only the shared libraries the server links.

FROM debian:bookworm-slim AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      libevent-dev libssl-dev libconfig-dev libsodium-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -DTP_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && cmake --build build -j2 --target turnpike \
 && install -D -m 0755 build/server/turnpike /out/usr/local/bin/turnpike \
 && install -D -m 0644 conf/turnpike.conf /out/etc/turnpike/turnpike.conf

FROM debian:bookworm-slim
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libevent-2.1-7 libevent-core-2.1-7 libevent-openssl-2.1-7 \
      libevent-pthreads-2.1-7 libssl3 libconfig9 libsodium23 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin turnpike
COPY --from=build /out/ /
USER turnpike
# STUN/TURN (UDP, TCP), over TLS/DTLS, and TURN over TLS on 443.
EXPOSE 3478/udp 3478/tcp 5349/tcp 5349/udp 443/tcp
CMD ["turnpike", "-c", "/etc/turnpike/turnpike.conf"]
