/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench.h - tp-bench, the Turnpike load generator: shared declarations.
 *
 * Every loop in the bench is bounded by a count and by a deadline; all traffic
 * goes to 127.0.0.0/8.
 */
#ifndef TP_BENCH_H
#define TP_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <netinet/in.h>

#include "proto.h"

/* ------------------------------------------------------------------ */
/* Clock, sockets, addresses (net.c)                                  */
/* ------------------------------------------------------------------ */

uint64_t tp_bench_now(void);                      /* CLOCK_MONOTONIC, ns */
void tp_bench_sleep_ms(unsigned ms);
/* The i-th source address of a block: 127.<block>.x.y, y never 0 or 255. */
void tp_bench_src_addr(struct sockaddr_in *sa, uint8_t block, uint32_t i, uint16_t port);
/* A non-blocking UDP socket bound to src (NULL: 127.0.0.1:0), connected to dst if
 * dst is non-NULL, with large buffers. Returns the fd or a negative errno. */
int tp_bench_udp(const struct sockaddr_in *src, const struct sockaddr_in *dst);
/* A port on 127.0.0.1 that was free a moment ago. */
int tp_bench_free_port(void);
int tp_bench_local_port(int fd);

/* ------------------------------------------------------------------ */
/* Latency samples (lat.c)                                            */
/* ------------------------------------------------------------------ */

struct tp_lat {
	uint32_t *ns;       /* samples in ns (saturated at ~4.29 s) */
	size_t n, cap;
	bool sorted;
};
int tp_lat_init(struct tp_lat *l, size_t cap);
void tp_lat_free(struct tp_lat *l);
void tp_lat_add(struct tp_lat *l, uint64_t ns);
/* The q-quantile (0..1) in microseconds; NaN when empty. */
double tp_lat_us(struct tp_lat *l, double q);

/* ------------------------------------------------------------------ */
/* Server process statistics (procstat.c)                             */
/* ------------------------------------------------------------------ */

struct tp_procstat {
	uint64_t cpu_ns;    /* utime + stime of all threads */
	uint64_t rss_kb;    /* VmRSS */
	bool ok;
};
int tp_procstat_read(pid_t pid, struct tp_procstat *ps);

/* ------------------------------------------------------------------ */
/* Targets: the servers under test (target.c, coturn.c)               */
/* ------------------------------------------------------------------ */

enum tp_target_kind { TP_T_TURNPIKE, TP_T_COTURN, TP_T_FORWARDER, TP_T__COUNT };

struct tp_target {
	enum tp_target_kind kind;
	const char *name;
	struct sockaddr_in addr;  /* where clients send */
	pid_t pid;                /* 0: unknown (no CPU/RSS figures) */
	bool started;             /* we started it: we stop it */
	char dir[64];             /* temp dir with config and log */
	/* forwarder only: channel i goes to peer i % npeers */
	unsigned fwd_pairs;
};

struct tp_bench_opts;
struct tp_echo;

int tp_target_turnpike(struct tp_target *t, const char *path, const struct tp_bench_opts *o);
int tp_target_coturn(struct tp_target *t, const char *path, const struct tp_bench_opts *o);
int tp_target_forwarder(struct tp_target *t, const char *path, const struct tp_echo *e,
                        unsigned pairs);
int tp_target_external(struct tp_target *t, const char *hostport, pid_t pid);
void tp_target_stop(struct tp_target *t);
/* Shared by the starters: fork+exec argv with stdout/stderr to log; 0 or -errno. */
int tp_target_spawn(struct tp_target *t, char *const argv[], const char *log);
/* Wait until a Binding request is answered, up to ms. 0 or -ETIMEDOUT. */
int tp_target_wait_ready(struct tp_target *t, unsigned ms);
int tp_target_mkdir(struct tp_target *t);

/* ------------------------------------------------------------------ */
/* STUN client helpers (client.c)                                     */
/* ------------------------------------------------------------------ */

/*
 * A session is proto's TURN client (struct tp_tc, proto/turn_client.h) with
 * the bench's user, signing as the bench always has: MD5 key, no
 * PASSWORD-ALGORITHM(S), MESSAGE-INTEGRITY, FINGERPRINT, so that the figures
 * stay comparable across servers and releases.
 */
void tp_sess_init(struct tp_tc *s);

struct tp_req {
	uint16_t method;
	int64_t lifetime;         /* < 0: no LIFETIME */
	const struct tp_addr *peer;
	uint16_t chan;            /* 0: no CHANNEL-NUMBER */
	bool auth;                /* add credentials if the session has a nonce */
};

extern const char *tp_bench_user, *tp_bench_pass;

/* Build a request into buf (pending in s); returns its length or a negative errno. */
long tp_req_build(uint8_t *buf, size_t cap, const struct tp_req *r, const uint8_t tid[12],
                  struct tp_tc *s);
/*
 * Read a datagram for session s: what the client made of it (TP_TC_*), and for
 * an answer (tp_resp_is_answer) its code in *code (0: success) and, on
 * success, the XOR-RELAYED-ADDRESS in *relayed if asked. A 401/438 updates the
 * session (TP_TC_RETRY: send the request again). A response without integrity
 * counts as the server's answer (the bench measures, it does not trust).
 */
enum tp_tc_res tp_resp_read(const uint8_t *b, size_t n, struct tp_tc *s, uint16_t *code,
                            struct tp_addr *relayed);
bool tp_resp_is_answer(enum tp_tc_res res);
void tp_tid_make(uint8_t tid[12], uint64_t a, uint32_t b);
/* A Send indication to peer carrying len bytes; *data_off receives the offset of the
 * data in buf. Returns the length or a negative errno. */
long tp_send_ind_build(uint8_t *buf, size_t cap, const struct tp_addr *peer, size_t len,
                       size_t *data_off);
/* A blocking transaction on a connected fd (retransmits, follows 401/438 twice).
 * Returns 0, the STUN error code, or a negative errno (-ETIMEDOUT). */
int tp_transact(int fd, struct tp_tc *s, const struct tp_req *r, struct tp_addr *relayed);

/* ------------------------------------------------------------------ */
/* The packet engine (engine.c): timestamped probes over connected    */
/* sockets, closed loop (a window per flow) or open loop (a rate).    */
/* ------------------------------------------------------------------ */

enum tp_flow_kind { TP_F_BINDING, TP_F_CHANDATA, TP_F_SEND };

struct tp_flow {
	int fd;
	enum tp_flow_kind kind;
	uint8_t tmpl[1600];
	size_t len;
	size_t ts_off;            /* 8-byte send time (ns) written here */
	unsigned out;             /* in flight */
	uint64_t last_rx;
};

struct tp_eng_cfg {
	double rate;              /* datagrams/s sent in all; 0: closed loop */
	unsigned window;          /* closed loop: in flight per flow */
	double secs;
};

struct tp_eng_res {
	uint64_t sent, recv;
	double secs;
	struct tp_lat lat;
};

int tp_engine_run(struct tp_flow *f, size_t n, const struct tp_eng_cfg *c,
                  struct tp_eng_res *r);

/* ------------------------------------------------------------------ */
/* Echo peers (echo.c): a thread answering every datagram to its source */
/* ------------------------------------------------------------------ */

struct tp_echo {
	unsigned n;
	int fd[16];
	struct tp_addr addr[16];
	struct tp_echo_priv *priv;
};
int tp_echo_start(struct tp_echo *e, unsigned n);
void tp_echo_stop(struct tp_echo *e);

/* ------------------------------------------------------------------ */
/* Scripted clients (script.c): many concurrent sessions stepping      */
/* through a list of requests, each from its own source address.      */
/* ------------------------------------------------------------------ */

enum tp_step {
	TP_S_BINDING,         /* Binding: success */
	TP_S_ALLOC_401,       /* Allocate without credentials: expects 401 */
	TP_S_ALLOC,           /* Allocate (credentials after the 401) */
	TP_S_PERM,            /* CreatePermission to the session's peer */
	TP_S_CHAN,            /* ChannelBind 0x4000 to the peer */
	TP_S_REFRESH0,        /* Refresh LIFETIME=0 */
};

struct tp_script {
	const enum tp_step *steps;
	size_t nsteps;
	uint8_t block;            /* source addresses 127.<block>.x.y */
	uint32_t first;           /* index of the first source */
	uint64_t count;           /* scripts to run (bounded) */
	double secs;              /* and a deadline */
	unsigned conc;            /* sessions at once */
	uint16_t *ports;          /* if non-NULL: [count] source ports, 0 = choose and store */
	struct tp_addr peer;
};

struct tp_script_res {
	uint64_t done, failed;
	double secs;
	uint16_t last_err;
};

int tp_script_run(const struct tp_target *t, const struct tp_script *s, struct tp_script_res *r);

/* ------------------------------------------------------------------ */
/* Measurements (load_*.c) and the table (report.c)                   */
/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* A set of allocations with a permission (and a channel) each to one  */
/* of the echo peers, from 127.<block>.x.y (load_relay.c).            */
/* ------------------------------------------------------------------ */

#define TP_RELAY_SET_MAX 256

struct tp_relay_set {
	struct tp_target *t;
	struct tp_echo *e;
	unsigned n;
	int fd[TP_RELAY_SET_MAX];
	uint16_t chan[TP_RELAY_SET_MAX];
	struct tp_tc sess[TP_RELAY_SET_MAX];
};

/* n allocations (at most TP_RELAY_SET_MAX) with permissions. 0 or an error. */
int tp_relay_set_open(struct tp_relay_set *rs, struct tp_target *t, struct tp_echo *e,
                      unsigned n, uint8_t block);
/* A channel per allocation (0x4000 to its peer). */
int tp_relay_set_channels(struct tp_relay_set *rs);
/* Refresh(0) and close every allocation. */
void tp_relay_set_close(struct tp_relay_set *rs);

struct tp_bench_opts {
	double secs;              /* per throughput measurement */
	double bind_rate;         /* fixed-rate Binding, requests/s */
	double relay_rate;        /* fixed-rate relaying, packets/s through the server */
	unsigned relay_allocs;
	unsigned window;
	unsigned conc;
	uint32_t mem_allocs[4];
	unsigned nmem_allocs;
	uint32_t unauth;
	unsigned coturn_threads;
	unsigned burst_allocs;    /* allocations bursting at once */
	const char *turnpike_extra; /* configuration lines appended for turnpike */
	bool quick, markdown;
	unsigned what;            /* TP_M_* */
	/* --soak: secs is the duration of the traffic */
	uint32_t soak_allocs;
	double soak_rate;         /* datagrams/s sent over all allocations */
	double soak_churn;        /* % of the allocations churned every soak_every */
	double soak_every;        /* seconds between samples */
	uint32_t soak_leave;      /* allocations not deleted at the end (tests the check) */
	bool soak_fresh;          /* each churn from a source address never used before */
};

#define TP_SOAK_MAX 30000

enum {
	TP_M_BINDING = 1 << 0,
	TP_M_ALLOC = 1 << 1,
	TP_M_RELAY = 1 << 2,
	TP_M_MEM = 1 << 3,
	TP_M_FWD = 1 << 4,
	TP_M_BURST = 1 << 5,
};

/* A row of the table: one value per target, NaN where not measured. */
enum tp_row_flags { TP_R_LOWER = 1, TP_R_HIGHER = 2, TP_R_INT = 4 };

void tp_report_set(const char *metric, const char *unit, unsigned flags,
                   enum tp_target_kind k, double v);
void tp_report_print(bool markdown);
void tp_report_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void tp_load_binding(struct tp_target *t, const struct tp_bench_opts *o);
void tp_load_alloc(struct tp_target *t, const struct tp_bench_opts *o);
void tp_load_relay(struct tp_target *t, const struct tp_bench_opts *o, struct tp_echo *e);
void tp_load_mem(struct tp_target *t, const struct tp_bench_opts *o);
/* label: "" for the server's own buffer settings, or a note for the row */
void tp_load_burst(struct tp_target *t, const struct tp_bench_opts *o, struct tp_echo *e,
                   const char *label);

/*
 * The soak (load_soak.c): o->soak_allocs allocations held for o->secs with
 * traffic, churn and refreshes; samples the server's RSS, descriptors, CPU and
 * (from its /metrics listener at metrics, if any) allocation count. Prints the
 * samples and a summary; returns 0, 1 for a leak, or a negative errno.
 */
int tp_load_soak(struct tp_target *t, const struct tp_bench_opts *o, struct tp_echo *e,
                 const struct sockaddr_in *metrics);

#endif
