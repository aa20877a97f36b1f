/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dc.h - dc-client: a WebRTC data-channel peer (libnice ICE, OpenSSL DTLS 1.2,
 * usrsctp SCTP over DTLS, DCEP) on a GLib main loop, with WebSocket signaling.
 *
 * Everything runs on the main loop except usrsctp's callbacks (its own timer
 * thread): those take dc->ssl_lock to write DTLS records and hand received
 * messages to the loop through dc->inbox.
 */
#ifndef DC_H
#define DC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>
#include <nice/agent.h>
#include <openssl/ssl.h>

enum dc_path { DC_PATH_NONE, DC_PATH_DIRECT, DC_PATH_RELAY };
enum dc_cand { DC_HOST, DC_SRFLX, DC_PRFLX, DC_RELAY, DC_NCAND };

struct dc_opts {
	bool offer;
	const char *signal_url;
	char *stun_host;
	unsigned stun_port;
	char *turn_host;
	unsigned turn_port;
	const char *turn_transport;     /* "udp", "tcp", "tls" */
	const char *user, *pass, *turn_secret;
	const char *turn_ca;            /* CA file for TURN over TLS */
	bool turn_insecure;             /* do not check the TURN server's certificate */
	bool force_relay;
	enum dc_path expect;
	unsigned pings;
	unsigned ping_interval_ms;
	unsigned long bulk;
	unsigned timeout_s;
	unsigned pause_ms;              /* wait after channel open before pinging */
	bool json;
	const char *bind_ip;
	const char *label;
	const char *report_path;        /* --report FILE.html */
};

struct dc_sdp {
	char ufrag[257], pwd[257];
	char fingerprint[200];          /* "AB:CD:..." (sha-256) */
	char setup[16];                 /* actpass, active, passive */
	unsigned sctp_port;
	unsigned long max_message_size;
	GPtrArray *candidates;          /* owned strings "candidate:..." */
	bool end_of_candidates;
};

struct dc_side {
	char type[8];                   /* host srflx prflx relay */
	char transport[8];              /* udp tcp */
	char addr[64];
};

/* A candidate, ours or the peer's, as the report shows it. */
struct dc_candidate {
	char type[8];                   /* host srflx prflx relay */
	char transport[8];              /* udp tcp */
	char addr[64];
	guint32 priority;
	gint64 t;                       /* us: gathered (ours) or received (the peer's) */
	char origin[300];               /* ours: the STUN/TURN server (srflx, relay), "";
	                                 * the peer's: "sdp", "trickle", or "check" (prflx) */
};

/* One request dc-client's ICE agent made to a STUN/TURN server, and its answer,
 * as the tap (tap.c) read them on libnice's sockets. */
struct dc_turn_tx {
	unsigned method;                /* TP_METHOD_* */
	char server[300];               /* the server as given (--turn/--stun) */
	char peer[64];                  /* XOR-PEER-ADDRESS of the request, "" */
	bool auth;                      /* the request carried MESSAGE-INTEGRITY */
	unsigned sent;                  /* transmissions, retransmissions included */
	gint64 t_req, t_res;            /* us since start; t_res 0: no answer */
	int code;                       /* -1 no answer, 0 success, else ERROR-CODE */
	char reason[128];               /* the server's reason phrase */
	char result[64];                /* success: relayed (Allocate) or mapped address */
};

/* One event of the run (timeline.c). */
struct dc_ev {
	gint64 t;                       /* us since start, when it happened here */
	unsigned seq;                   /* recording order, for equal times */
	char kind[24];                  /* stable name: "offer-sent", "check", ... */
	char path[40];                  /* lanes crossed: "A>signaling>B"; one lane: a note */
	bool remote;                    /* the peer's doing, seen when it reached us */
	char label[300];
};

/* A candidate pair as the tap sees it. */
struct dc_pair_id {
	char ltype[8];                  /* our side: "host" (the socket) or "relay" */
	char laddr[64], raddr[64];      /* our candidate, the peer's address */
	char via[300];                  /* relay: the TURN server as given, else "" */
};

/* The connectivity checks on one pair (checks.c). */
struct dc_check {
	struct dc_pair_id id;
	unsigned requests, sent;        /* transactions, datagrams (retransmissions too) */
	gint64 t_first, t_last;         /* us: first and last check sent */
	gint64 t_answer;                /* the answer that decided code; 0: none */
	int code;                       /* -1 no answer, 0 success, -2 success from another
	                                 * address (answer_from), else the ERROR-CODE */
	char reason[128];
	char answer_from[64];
	unsigned answers;
	double rtt_ms;                  /* from the answered check's last transmission */
	bool nominated;                 /* we sent USE-CANDIDATE on it */
	unsigned peer_checks;           /* checks the peer sent us on it */
	gint64 t_peer;                  /* the first of them */
	bool peer_nominated;
};
#define DC_MAX_CHECKS 128

struct dc_msg {                         /* one SCTP message handed to the loop */
	uint16_t sid;
	uint32_t ppid;
	size_t len;
	uint8_t data[];
};

struct dc {
	struct dc_opts o;
	GMainLoop *loop;
	int exit_code;
	bool finished;
	const char *stage;              /* what we are waiting for now */
	char err[1200];

	/* times, microseconds since t0 (0: not reached) */
	gint64 t0, t_gathered, t_selected, t_connected, t_dtls_start, t_dtls, t_sctp, t_open;

	/* signaling */
	void *sig;                      /* struct sig (signal.c) */
	bool sig_lost_after_open;

	/* ICE */
	NiceAgent *agent;
	guint stream;
	bool gathering_done, remote_set, dtls_started;
	GPtrArray *pending_cands;       /* remote candidates before credentials */
	unsigned ncand[DC_NCAND];
	GArray *lcands, *rcands;        /* struct dc_candidate: ours as gathered, the peer's */
	unsigned rcand[DC_NCAND];       /* the peer's candidates by type */
	unsigned r_sdp, r_trickle, r_unusable;
	bool r_end;                     /* the peer signalled end-of-candidates */
	struct dc_sdp remote;
	struct dc_side sel_local, sel_remote;
	enum dc_path path;

	/* DTLS */
	SSL_CTX *ctx;
	SSL *ssl;
	GRecMutex ssl_lock;
	GQueue rx_dgrams;               /* GBytes, fed by ICE, read by the BIO */
	char fingerprint[200];
	bool dtls_client, dtls_done;
	guint dtls_timer;

	/* SCTP and DCEP */
	struct socket *sock;
	bool sctp_up, chan_open, peer_done;
	uint16_t sid;
	unsigned long max_msg;
	GMutex inbox_lock;
	GQueue inbox;                   /* struct dc_msg *, from usrsctp's thread */
	bool inbox_scheduled, writable_scheduled;
	GByteArray *partial;            /* message being reassembled (usrsctp thread) */
	uint32_t partial_ppid;

	/* bench */
	void *bench;                    /* struct bench (bench.c) */

	/* reports */
	GArray *events;                 /* struct dc_ev, as they happened */
	FILE *report_html;              /* --report */
};

/* cli.c */
gint64 dc_now(const struct dc *dc);
void dc_fail(struct dc *dc, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void dc_progress(struct dc *dc, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void dc_finish(struct dc *dc);

/* signal.c */
int dc_signal_start(struct dc *dc);
void dc_signal_send(struct dc *dc, const char *type, const char *key, const char *val);
void dc_signal_send_candidate(struct dc *dc, const char *cand);
void dc_signal_close(struct dc *dc);
/* The signaling URL without its query (the room token): for reports. */
const char *dc_signal_url_public(const struct dc *dc);
/* minimal JSON: one string member of a flat object; NULL if absent (caller frees) */
char *dc_json_get(const char *json, const char *key);
void dc_json_str(GString *s, const char *v);

/* sdp.c */
char *dc_sdp_build(struct dc *dc, const char *ufrag, const char *pwd);
int dc_sdp_parse(struct dc_sdp *s, const char *sdp);
void dc_sdp_clear(struct dc_sdp *s);

/* ice.c */
int dc_ice_start(struct dc *dc);
void dc_ice_remote_description(struct dc *dc);
void dc_ice_remote_candidate(struct dc *dc, const char *cand);
void dc_ice_send(struct dc *dc, const void *buf, size_t len);
void dc_ice_close(struct dc *dc);
/* Appends what both sides had and what the TURN server refused, and a hint. */
void dc_ice_explain(struct dc *dc, GString *s);

/* dtls.c */
int dc_dtls_init(struct dc *dc);
void dc_dtls_start(struct dc *dc);
void dc_dtls_input(struct dc *dc, const void *buf, size_t len);
int dc_dtls_write(struct dc *dc, const void *buf, size_t len);   /* any thread */
void dc_dtls_close(struct dc *dc);

/* sctp.c */
int dc_sctp_start(struct dc *dc);
void dc_sctp_input(struct dc *dc, const void *buf, size_t len);
int dc_sctp_send(struct dc *dc, uint32_t ppid, const void *buf, size_t len); /* 0, -EAGAIN */
int dc_sctp_shutdown(struct dc *dc); /* 0: an association-down event follows */
void dc_sctp_close(struct dc *dc);

/* dcep.c */
#define DC_PPID_DCEP 50
#define DC_PPID_STRING 51
#define DC_PPID_BINARY 53
#define DC_PPID_STRING_EMPTY 56
#define DC_PPID_BINARY_EMPTY 57
void dc_dcep_sctp_up(struct dc *dc);
void dc_dcep_input(struct dc *dc, const struct dc_msg *m);

/* bench.c */
void dc_bench_start(struct dc *dc);
void dc_bench_message(struct dc *dc, bool text, const uint8_t *buf, size_t len);
void dc_bench_writable(struct dc *dc);
void dc_bench_free(struct dc *dc);
struct dc_bench_stats {
	unsigned pings_sent, pongs;
	double rtt_min, rtt_avg, rtt_p95;  /* ms */
	unsigned long bulk_bytes;
	double bulk_secs;                  /* 0: not measured */
};
void dc_bench_stats(struct dc *dc, struct dc_bench_stats *st);

/* tls.c */
int dc_tls_bridge_start(struct dc *dc, const char *host, const char *ip, unsigned port,
                        unsigned *local_port);
const char *dc_tls_error(void);     /* the last TLS failure, or NULL */

/* tap.c: the STUN messages on libnice's sockets (see there) */
void dc_tap_start(struct dc *dc);
/* gio.c hands over what libnice's sockets sent (out) or received; peer is the
 * datagram's address, NULL on a stream. wanted: a cheap first look, unlocked. */
bool dc_tap_wanted(GSocket *s, const uint8_t *b, size_t n);
void dc_tap_bytes(GSocket *s, GSocketAddress *peer, bool out, const uint8_t *b, size_t n);
/* Messages to and from ip:port are the STUN/TURN server's, shown as name. */
int dc_tap_server(const char *ip, unsigned port, const char *name);
size_t dc_tap_turn(struct dc_turn_tx *out, size_t cap);  /* a copy, in request order */
unsigned long dc_tap_seen(void);    /* STUN messages the tap decoded */
const char *dc_stun_method_name(unsigned method);
/* A real failure: not the 401 challenge to an unauthenticated request, nor a 438. */
bool dc_turn_tx_is_error(const struct dc_turn_tx *t);
#define DC_MAX_TX 256

/* checks.c: called by the tap, any thread */
void dc_checks_sent(const struct dc_pair_id *id, const uint8_t *tid, bool nominate, gint64 t);
void dc_checks_answer(const uint8_t *tid, const char *from, int code, const char *reason,
                      gint64 t);
void dc_checks_peer(const struct dc_pair_id *id, bool nominate, gint64 t);
size_t dc_checks_get(struct dc_check *out, size_t cap);   /* a copy, in first-seen order */

/* trace.c */
struct dc_turn_err {                /* distinct TURN errors, for the reports */
	struct dc_turn_tx tx;           /* the first of its kind */
	unsigned count;                 /* how many times */
	char candidate[112];            /* what the request's peer address is, "" */
};
void dc_trace_init(struct dc *dc);
void dc_trace_local(struct dc *dc, const struct dc_candidate *c);   /* stamps the time */
void dc_trace_remote(struct dc *dc, const struct dc_candidate *c);
unsigned dc_trace_remote_total(const struct dc *dc);
const struct dc_candidate *dc_trace_find(GArray *cands, const char *addr);
void dc_trace_peer_name(const struct dc *dc, const char *peer, char *buf, size_t cap);
size_t dc_trace_turn_errors(const struct dc *dc, struct dc_turn_err *out, size_t cap);
void dc_trace_turn_error_text(const struct dc_turn_err *e, char *buf, size_t cap);
struct dc_pair_view {               /* a pair as the reports show it */
	struct dc_check c;
	char rtype[8];                  /* the peer's candidate type (prflx if not signalled) */
	guint64 priority;               /* RFC 8445 pair priority; 0 unknown */
	bool selected;
	char outcome[16];               /* succeeded no-answer error wrong-source peer-only */
	char how[400];                  /* how it succeeded or failed, in words */
};
size_t dc_trace_pairs(const struct dc *dc, struct dc_pair_view *out, size_t cap);
/* Which pair won and why, and how the others failed. */
void dc_trace_why(const struct dc *dc, const struct dc_pair_view *v, size_t n, char *buf,
                  size_t cap);

/* timeline.c */
void dc_event(struct dc *dc, const char *kind, const char *path, bool remote,
              const char *fmt, ...) G_GNUC_PRINTF(5, 6);
const char *dc_event_data_path(const struct dc *dc, bool to_peer);
/* Every event, recorded and derived, in time order (caller frees). */
GArray *dc_timeline(struct dc *dc, const struct dc_pair_view *pairs, size_t npairs);

/* report.c */
#define DC_SCHEMA "dc-client/1"
void dc_report(struct dc *dc);

/* html.c: --report, one self-contained HTML file */
struct dc_report_data {             /* what the report is drawn from, as the JSON is */
	const char *json;               /* the JSON document (DC_SCHEMA) */
	GArray *events;                 /* struct dc_ev, time order */
	const struct dc_pair_view *pairs;
	size_t npairs;
	const char *why;
	const struct dc_bench_stats *bench;
};
/* Writes and closes f; 0 or -1. */
int dc_html_write(struct dc *dc, FILE *f, const struct dc_report_data *r);
/* Lanes 0..3: "A", "signaling", "server", "B", and their names for this run. */
const char *dc_lane_id(int i);
void dc_lane_name(const struct dc *dc, int i, char *buf, size_t cap);

#endif
