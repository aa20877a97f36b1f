/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * harness.h - integration tests over real sockets on loopback: start the
 * turnpike binary with a generated configuration, talk STUN/TURN to it with a
 * small client built on proto/, and stop it checking that it exited cleanly.
 *
 * Every test program takes the server binary as argv[1].
 */
#ifndef TH_HARNESS_H
#define TH_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto.h"

/* ---- the server under test ---- */

struct th_server {
	pid_t pid;
	char dir[256];            /* temp dir: config and log */
	char conf_path[300];
	char log_path[300];
	char extra[8192];         /* the test's own config lines */
	uint16_t port;            /* UDP listening port on 127.0.0.1 */
	uint16_t min_port, max_port;
	struct tp_addr addr;      /* 127.0.0.1:port */
};

/* The binary (argv[1]); exits with a usage message when absent. */
void th_init(int argc, char **argv);

/*
 * Start the server on 127.0.0.1:<free port> with the config lines in extra
 * (libconfig syntax). Defaults are added for every option extra does not name:
 * realm "test", relay-ip 127.0.0.1, a random relay range of nports ports in
 * 20000-28999 (nports 0: 40), log-level debug, unauth-rate 0 (no cap), users
 * alice/alicepw and bob/bobpw. Waits up to 5 s for a Binding answer.
 * Returns 0, or -1 (and prints the log).
 */
int th_server_start(struct th_server *s, const char *extra, unsigned nports);
/* Rewrite the config with new extra lines and send SIGHUP; waits until the log
 * says it reloaded (max 5 s). */
int th_server_reload(struct th_server *s, const char *extra);
/* SIGTERM, wait (max 10 s), exit status must be 0 and the log free of sanitizer
 * reports. Returns 0 or -1. Removes the temp dir. */
int th_server_stop(struct th_server *s);
/* Does the server log contain this text? */
bool th_server_log_has(const struct th_server *s, const char *text);
void th_server_dump_log(const struct th_server *s);

/* ---- UDP sockets ---- */

/* A UDP socket bound to ip ("127.0.0.1", "::1") port 0; local address in *local. */
int th_udp_open(const char *ip, struct tp_addr *local);
/* ... bound to ip:port exactly; -1 if the port is taken. */
int th_udp_open_port(const char *ip, uint16_t port);
int th_udp_send(int fd, const struct tp_addr *to, const void *b, size_t n);
/* Wait up to timeout_ms; returns bytes, 0 on timeout, -1 on error. */
long th_udp_recv(int fd, void *b, size_t cap, int timeout_ms, struct tp_addr *from);
/* A port on 127.0.0.1 where nothing listens (bound then closed). */
uint16_t th_free_port(void);

/* ---- attribute lists for requests ---- */

enum th_kind { TH_RAW, TH_ADDR, TH_U32, TH_U64, TH_EMPTY, TH_TRANSPORT, TH_FAMILY,
	       TH_EVEN, TH_CHAN };

struct th_item {
	uint16_t type;
	uint8_t kind;
	uint32_t u32;
	uint64_t u64;
	struct tp_addr addr;
	const void *raw;
	size_t len;
};

struct th_attrs {
	struct th_item it[40];
	int n;
};

void th_a_raw(struct th_attrs *a, uint16_t type, const void *v, size_t len);
void th_a_addr(struct th_attrs *a, uint16_t type, const struct tp_addr *addr);
void th_a_u32(struct th_attrs *a, uint16_t type, uint32_t v);
void th_a_u64(struct th_attrs *a, uint16_t type, uint64_t v);
void th_a_empty(struct th_attrs *a, uint16_t type);
void th_a_transport(struct th_attrs *a, uint8_t proto);
void th_a_family(struct th_attrs *a, uint16_t type, uint8_t family);
void th_a_even(struct th_attrs *a, bool r);
void th_a_chan(struct th_attrs *a, uint16_t chan);

/* ---- the client ---- */

struct th_resp {
	uint8_t buf[2048];
	size_t len;
	struct tp_stun_msg m;
	int code;                 /* 0: success response; 300-699: error; -1: no answer */
};

struct th_client {
	int fd;
	struct tp_addr local;
	struct tp_addr server;
	char user[600];
	char pass[256];
	const uint8_t *rawkey;    /* precomputed MD5 key instead of pass (16 bytes) */
	uint16_t alg;             /* 0: legacy (no PASSWORD-ALGORITHM); MD5; SHA256 */
	bool use_mi256;           /* MESSAGE-INTEGRITY-SHA256 instead of MI */
	bool userhash;            /* USERHASH instead of USERNAME */
	bool fingerprint;         /* add FINGERPRINT */
	bool no_retry;            /* do not answer 401/438 by retrying */
	char realm[800];
	char nonce[800];
	uint8_t pw_algs[64];      /* PASSWORD-ALGORITHMS value as received */
	size_t pw_algs_len;
	const uint8_t *tid;       /* fixed transaction ID for the next request (or NULL) */
	uint8_t last_tid[TP_STUN_TID_LEN];
	int rto_ms;               /* first retransmission timeout (default 200) */
	int tries;                /* transmissions per request (default 5) */
};

/* A client on a new socket bound to local_ip, talking to server s. */
int th_client_open(struct th_client *c, const struct th_server *s, const char *local_ip,
                   const char *user, const char *pass);
void th_client_close(struct th_client *c);

/*
 * Send a request (authenticated when user is set: the 401 challenge and a 438
 * stale nonce are handled by retrying once with what they gave) and wait for the
 * response with retransmissions. Returns r->code.
 */
int th_request(struct th_client *c, uint16_t method, const struct th_attrs *at,
               struct th_resp *r);
/* One transaction exactly as given (with MI when auth and a nonce is known). */
int th_transact(struct th_client *c, uint16_t method, const struct th_attrs *at, bool auth,
                struct th_resp *r);

/* Allocate UDP (extra attributes optional); relayed address in *relay. */
int th_allocate(struct th_client *c, const struct th_attrs *extra, struct th_resp *r,
                struct tp_addr *relay);
int th_refresh(struct th_client *c, int lifetime, struct th_resp *r); /* -1: no LIFETIME */
int th_permit(struct th_client *c, const struct tp_addr *peers, int n, struct th_resp *r);
int th_chanbind(struct th_client *c, uint16_t chan, const struct tp_addr *peer,
                struct th_resp *r);
int th_send_ind(struct th_client *c, const struct tp_addr *peer, const void *d, size_t n);
int th_chandata(struct th_client *c, uint16_t chan, const void *d, size_t n);

/* Data received by the client from the relay. */
struct th_data {
	bool is_chan;
	uint16_t chan;
	struct tp_addr peer;      /* Data indication */
	bool has_icmp;
	struct tp_icmp icmp;
	uint8_t data[1600];
	size_t len;
};
/* Wait for a Data indication or ChannelData; 1 got one, 0 timeout. Other
 * messages are skipped. */
int th_recv_data(struct th_client *c, struct th_data *d, int timeout_ms);

/* Helpers on responses. */
bool th_get_addr(const struct th_resp *r, uint16_t type, int nth, struct tp_addr *out);
bool th_has(const struct th_resp *r, uint16_t type);
uint32_t th_get_u32(const struct th_resp *r, uint16_t type);
const char *th_fmt(const struct tp_addr *a);   /* static buffer, rotating */
struct tp_addr th_addr(const char *s);       /* parse or abort */

/* Exit 77 with a message (ctest SKIP_RETURN_CODE). */
void th_skip(const char *why);
uint32_t th_rand(void);

#endif
