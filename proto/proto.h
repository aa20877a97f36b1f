/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * proto.h - the Turnpike STUN/TURN codec.
 *
 * Pure: no I/O, no heap, no globals, no logging. Links libc and libcrypto only,
 * so it can be fuzzed on its own and shared by the server, the probe, the
 * benchmark and the data-channel client.
 *
 * Decoding validates a message once, fully (tp_stun_decode); afterwards the
 * typed getters read attribute views that are already known to be well formed.
 * Encoding writes into a caller-provided buffer through a writer with a sticky
 * error (tp_stun_wr_*): check the result once, at tp_stun_wr_finish().
 *
 * Errors: decoders return enum tp_perr (tp_perr_str() names it); encoders and
 * helpers return 0 or a negative errno.
 *
 * RFCs: 8489 (STUN), 8656 (TURN), 6062 (TCP relay), 6156 (IPv6), 5780 (NAT
 * behaviour discovery), 8445 (ICE attributes), 8016 (mobility), 7983 (demux),
 * 8265 (OpaqueString), 5769 (test vectors), 3489 (classic STUN).
 */
#ifndef TP_PROTO_H
#define TP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

/* ------------------------------------------------------------------ */
/* Constants                                                          */
/* ------------------------------------------------------------------ */

#define TP_STUN_MAGIC        0x2112A442u
#define TP_STUN_HDR_LEN      20
#define TP_STUN_TID_LEN      12
#define TP_STUN_MAX_ATTRS    64  /* attributes kept per message */
#define TP_STUN_MAX_UNKNOWN  16  /* unknown comprehension-required types kept */
#define TP_FINGERPRINT_XOR   0x5354554eu

/* Bounds from RFC 8489 §14 (bytes of the UTF-8 encoding). */
#define TP_MAX_USERNAME      513
#define TP_MAX_REALM         763
#define TP_MAX_NONCE         763
#define TP_MAX_SOFTWARE      763
#define TP_MAX_REASON        763
#define TP_MAX_DOMAIN        255

/* Classes (RFC 8489 §5). */
enum tp_stun_class {
	TP_CLASS_REQUEST = 0,
	TP_CLASS_INDICATION = 1,
	TP_CLASS_SUCCESS = 2,
	TP_CLASS_ERROR = 3,
};

/* Methods (RFC 8489, 8656, 6062). */
enum tp_stun_method {
	TP_METHOD_BINDING = 0x001,
	TP_METHOD_ALLOCATE = 0x003,
	TP_METHOD_REFRESH = 0x004,
	TP_METHOD_SEND = 0x006,
	TP_METHOD_DATA = 0x007,
	TP_METHOD_CREATE_PERMISSION = 0x008,
	TP_METHOD_CHANNEL_BIND = 0x009,
	TP_METHOD_CONNECT = 0x00A,
	TP_METHOD_CONNECTION_BIND = 0x00B,
	TP_METHOD_CONNECTION_ATTEMPT = 0x00C,
};

/* Attribute types. */
enum tp_attr_type {
	/* RFC 8489 comprehension-required */
	TP_ATTR_MAPPED_ADDRESS = 0x0001,
	TP_ATTR_CHANGE_REQUEST = 0x0003,        /* RFC 5780 */
	TP_ATTR_USERNAME = 0x0006,
	TP_ATTR_MESSAGE_INTEGRITY = 0x0008,
	TP_ATTR_ERROR_CODE = 0x0009,
	TP_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
	TP_ATTR_CHANNEL_NUMBER = 0x000C,        /* RFC 8656 */
	TP_ATTR_LIFETIME = 0x000D,
	TP_ATTR_XOR_PEER_ADDRESS = 0x0012,
	TP_ATTR_DATA = 0x0013,
	TP_ATTR_REALM = 0x0014,
	TP_ATTR_NONCE = 0x0015,
	TP_ATTR_XOR_RELAYED_ADDRESS = 0x0016,
	TP_ATTR_REQUESTED_ADDRESS_FAMILY = 0x0017, /* RFC 8656 / 6156 */
	TP_ATTR_EVEN_PORT = 0x0018,
	TP_ATTR_REQUESTED_TRANSPORT = 0x0019,
	TP_ATTR_DONT_FRAGMENT = 0x001A,
	TP_ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C,
	TP_ATTR_PASSWORD_ALGORITHM = 0x001D,
	TP_ATTR_USERHASH = 0x001E,
	TP_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
	TP_ATTR_RESERVATION_TOKEN = 0x0022,
	TP_ATTR_PRIORITY = 0x0024,              /* RFC 8445 */
	TP_ATTR_USE_CANDIDATE = 0x0025,
	TP_ATTR_PADDING = 0x0026,               /* RFC 5780 */
	TP_ATTR_RESPONSE_PORT = 0x0027,
	TP_ATTR_CONNECTION_ID = 0x002A,         /* RFC 6062 */
	/* comprehension-optional */
	TP_ATTR_ADDITIONAL_ADDRESS_FAMILY = 0x8000,
	TP_ATTR_ADDRESS_ERROR_CODE = 0x8001,
	TP_ATTR_PASSWORD_ALGORITHMS = 0x8002,
	TP_ATTR_ALTERNATE_DOMAIN = 0x8003,
	TP_ATTR_ICMP = 0x8004,
	TP_ATTR_SOFTWARE = 0x8022,
	TP_ATTR_ALTERNATE_SERVER = 0x8023,
	TP_ATTR_FINGERPRINT = 0x8028,
	TP_ATTR_ICE_CONTROLLED = 0x8029,
	TP_ATTR_ICE_CONTROLLING = 0x802A,
	TP_ATTR_RESPONSE_ORIGIN = 0x802B,       /* RFC 5780 */
	TP_ATTR_OTHER_ADDRESS = 0x802C,
	TP_ATTR_MOBILITY_TICKET = 0x8030,       /* RFC 8016 */
};

/* Password algorithms (RFC 8489 §18.5). */
enum tp_pw_alg {
	TP_PWALG_MD5 = 0x0001,
	TP_PWALG_SHA256 = 0x0002,
};

/* Address families as STUN encodes them (RFC 8489 §14.1, RFC 8656 §18.8). */
#define TP_STUN_FAMILY_IPV4  0x01
#define TP_STUN_FAMILY_IPV6  0x02

/* REQUESTED-TRANSPORT protocol numbers. */
#define TP_TRANSPORT_UDP 17
#define TP_TRANSPORT_TCP 6

/* CHANGE-REQUEST flags (RFC 5780 §7.2). */
#define TP_CHANGE_IP   0x04u
#define TP_CHANGE_PORT 0x02u

/* ChannelData (RFC 8656 §12). */
#define TP_CHAN_MIN 0x4000u
#define TP_CHAN_MAX 0x4FFFu
/* RFC 5766 allowed 0x4000-0x7FFF; RFC 8656 took 0x5000-0x7FFF back for RFC 7983
 * demultiplexing. Some clients (coturn's turnutils_uclient) still draw channel
 * numbers from the old range: a server may accept it as an option. */
#define TP_CHAN_MAX_RFC5766 0x7FFFu
#define TP_CHAN_HDR_LEN 4

/* ------------------------------------------------------------------ */
/* Errors                                                             */
/* ------------------------------------------------------------------ */

/*
 * One value per distinct reason a decoder rejects its input, so tests and logs
 * can tell them apart. TP_P_OK is 0.
 */
enum tp_perr {
	TP_P_OK = 0,
	TP_P_NEED_MORE,          /* stream: not enough bytes yet */
	TP_P_SHORT_HEADER,       /* fewer than 20 bytes */
	TP_P_NOT_STUN,           /* top two bits set, or not a STUN/ChannelData first byte */
	TP_P_BAD_LENGTH,         /* message length not a multiple of 4 */
	TP_P_LENGTH_MISMATCH,    /* message length != bytes after the header */
	TP_P_ATTR_TRUNCATED,     /* fewer than 4 bytes left for an attribute header */
	TP_P_ATTR_OVERRUN,       /* attribute value (or its padding) runs past the end */
	TP_P_TOO_MANY_ATTRS,     /* more than TP_STUN_MAX_ATTRS */
	TP_P_FINGERPRINT_NOT_LAST,
	TP_P_FINGERPRINT_BAD,    /* CRC mismatch */
	TP_P_BAD_ATTR_LEN,       /* a known attribute with a length its RFC forbids */
	TP_P_BAD_FAMILY,         /* address attribute with an unknown family */
	TP_P_BAD_VALUE,          /* a known attribute with a value its RFC forbids */
	TP_P_BAD_CLASS,          /* e.g. an indication of a method that has none */
	TP_P_INTEGRITY_ORDER,    /* MESSAGE-INTEGRITY after MESSAGE-INTEGRITY-SHA256 */
	TP_P_NO_INTEGRITY,       /* verify asked but the attribute is absent */
	TP_P_INTEGRITY_BAD,      /* HMAC mismatch */
	TP_P_CHAN_RANGE,         /* channel number outside 0x4000-0x4FFF */
	TP_P_CHAN_TRUNCATED,     /* ChannelData shorter than its declared length */
	TP_P_FRAME_TOO_LONG,     /* stream frame longer than the cap */
	TP_P_BAD_UTF8,           /* text attribute / password not valid UTF-8 */
	TP_P_PRECIS_DISALLOWED,  /* OpaqueString forbids a code point */
	TP_P_EMPTY,              /* empty string where one is required */
	TP_P_NOT_PROXY,          /* not a PROXY protocol signature (proxy.h) */
	TP_P__COUNT
};

const char *tp_perr_str(enum tp_perr e);

/* ------------------------------------------------------------------ */
/* Addresses                                                          */
/* ------------------------------------------------------------------ */

/* A compact transport address: family is AF_INET or AF_INET6; port in host order;
 * ip holds 4 or 16 bytes in network order. */
struct tp_addr {
	uint16_t family;
	uint16_t port;
	uint8_t ip[16];
};

int tp_addr_from_sa(struct tp_addr *a, const struct sockaddr *sa); /* 0 or -EAFNOSUPPORT */
/* Fills a sockaddr_in / sockaddr_in6 into *ss (size >= sizeof(struct sockaddr_in6));
 * returns its length. */
unsigned tp_addr_to_sa(const struct tp_addr *a, void *ss);
bool tp_addr_eq(const struct tp_addr *a, const struct tp_addr *b);     /* family, ip, port */
bool tp_addr_ip_eq(const struct tp_addr *a, const struct tp_addr *b);  /* family, ip */
/* "1.2.3.4:5" or "[::1]:5"; returns chars written (snprintf semantics). */
int tp_addr_fmt(const struct tp_addr *a, char *buf, size_t cap);
/* Parses "1.2.3.4", "1.2.3.4:5", "::1", "[::1]:5". Port defaults to def_port. */
int tp_addr_parse(struct tp_addr *a, const char *s, uint16_t def_port);

/* ------------------------------------------------------------------ */
/* Decoding                                                           */
/* ------------------------------------------------------------------ */

/* A view of one attribute: val points into the decoded buffer. */
struct tp_stun_attr {
	uint16_t type;
	uint16_t len;       /* value length, without padding */
	uint16_t off;       /* offset of the attribute header from the message start */
	const uint8_t *val;
};

struct tp_stun_msg {
	const uint8_t *buf;         /* borrowed: the whole message */
	size_t len;                 /* header + body */
	uint16_t method;
	uint8_t cls;                /* enum tp_stun_class */
	bool classic;               /* RFC 3489: no magic cookie */
	const uint8_t *tid;         /* 12 bytes (16 for classic, starting at buf+4) */
	bool has_fingerprint;
	int16_t mi;                 /* index in attrs of MESSAGE-INTEGRITY, or -1 */
	int16_t mi256;              /* index of MESSAGE-INTEGRITY-SHA256, or -1 */
	uint16_t nattrs;
	uint16_t nunknown;          /* unknown comprehension-required types (first kept) */
	uint16_t unknown[TP_STUN_MAX_UNKNOWN];
	struct tp_stun_attr attrs[TP_STUN_MAX_ATTRS]; /* in order; FINGERPRINT included */
};

/*
 * Decode and validate one whole STUN message in b[0..n) (a datagram, or a frame
 * from tp_frame_peek). On success every attribute before MESSAGE-INTEGRITY(-SHA256)
 * is well formed for its type, FINGERPRINT (if any) is last and correct, and
 * attributes that RFC 8489 §14.5/§14.6 says to ignore are not in attrs[].
 * Duplicates are kept in order; the getters read the first (RFC 8489 §14).
 * Unknown comprehension-required types are collected in unknown[] for a 420.
 * Never reads outside b[0..n) and never writes outside *m.
 * why, if non-NULL, receives a static string with detail on failure.
 */
enum tp_perr tp_stun_decode(struct tp_stun_msg *m, const uint8_t *b, size_t n,
                            const char **why);

/* Quick check for demultiplexing (RFC 7983): could b be a STUN message? Looks at
 * the first byte, the length and the cookie only. */
bool tp_stun_is_stun(const uint8_t *b, size_t n);

/* The first attribute of this type, or NULL. */
const struct tp_stun_attr *tp_stun_find(const struct tp_stun_msg *m, uint16_t type);
/* The next attribute of this type after 'prev' (NULL: the first), or NULL. */
const struct tp_stun_attr *tp_stun_find_next(const struct tp_stun_msg *m, uint16_t type,
                                             const struct tp_stun_attr *prev);

/* Typed getters over views from tp_stun_find(): all values have already been
 * validated by tp_stun_decode, so they cannot fail on a view of the right type
 * (tp_attr_addr returns TP_P_BAD_FAMILY only for a view that is not an address). */

/* Any address attribute: XOR-* ones are un-XORed with the cookie and tid. */
enum tp_perr tp_attr_addr(const struct tp_stun_msg *m, const struct tp_stun_attr *a,
                          struct tp_addr *out);
/* Text attribute (USERNAME, REALM, NONCE, SOFTWARE, ALTERNATE-DOMAIN): pointer and
 * length into the message, not NUL-terminated. */
void tp_attr_str(const struct tp_stun_attr *a, const char **s, size_t *len);
uint32_t tp_attr_u32(const struct tp_stun_attr *a);   /* 4-byte attributes */
uint64_t tp_attr_u64(const struct tp_stun_attr *a);   /* 8-byte attributes */

struct tp_error_code {
	uint16_t code;        /* 300..699 */
	const char *reason;   /* not NUL-terminated */
	size_t reason_len;
};
void tp_attr_error_code(const struct tp_stun_attr *a, struct tp_error_code *e);

/* ADDRESS-ERROR-CODE (RFC 8656 §18.13): family, code, reason. */
struct tp_addr_error_code {
	uint8_t family;       /* TP_STUN_FAMILY_* */
	uint16_t code;
	const char *reason;
	size_t reason_len;
};
void tp_attr_addr_error_code(const struct tp_stun_attr *a, struct tp_addr_error_code *e);

/* UNKNOWN-ATTRIBUTES: up to cap types; returns how many there are in all. */
size_t tp_attr_unknown_list(const struct tp_stun_attr *a, uint16_t *types, size_t cap);

/* PASSWORD-ALGORITHMS / PASSWORD-ALGORITHM: algorithm numbers (parameters are
 * skipped, their lengths having been checked). Returns how many there are. */
size_t tp_attr_pw_algs(const struct tp_stun_attr *a, uint16_t *algs, size_t cap);
uint16_t tp_attr_pw_alg(const struct tp_stun_attr *a);

uint16_t tp_attr_channel(const struct tp_stun_attr *a);        /* CHANNEL-NUMBER */
uint8_t tp_attr_transport(const struct tp_stun_attr *a);       /* REQUESTED-TRANSPORT */
uint8_t tp_attr_family(const struct tp_stun_attr *a);          /* REQ/ADDITIONAL-ADDRESS-FAMILY */
bool tp_attr_even_port_r(const struct tp_stun_attr *a);        /* EVEN-PORT R bit */
uint32_t tp_attr_change_flags(const struct tp_stun_attr *a);   /* CHANGE-REQUEST */
uint16_t tp_attr_response_port(const struct tp_stun_attr *a);  /* RESPONSE-PORT */

struct tp_icmp {
	uint8_t type;
	uint8_t code;
	uint32_t data;        /* error data (RFC 8656 §18.12) */
};
void tp_attr_icmp(const struct tp_stun_attr *a, struct tp_icmp *out);

/* ------------------------------------------------------------------ */
/* Integrity and credentials                                          */
/* ------------------------------------------------------------------ */

#define TP_KEY_MAX 32   /* MD5: 16 bytes, SHA-256: 32 bytes */

/*
 * The length (1 to 4) of the well-formed UTF-8 sequence at s, n bytes left, or
 * 0 if none starts there (overlong, surrogate, above U+10FFFF, truncated, stray
 * continuation byte). JSON writers use it to pass UTF-8 through.
 */
size_t tp_utf8_len(const unsigned char *s, size_t n);

/*
 * Prepare a password with the OpaqueString profile (RFC 8265 §4.2): valid UTF-8,
 * non-ASCII spaces mapped to U+0020, NFC, code points of the FreeformClass only.
 * Writes at most cap bytes to out (the result is never longer than 3x the input).
 * Returns TP_P_OK, TP_P_EMPTY, TP_P_BAD_UTF8, TP_P_PRECIS_DISALLOWED or
 * TP_P_FRAME_TOO_LONG (cap too small).
 */
enum tp_perr tp_precis_opaque(const char *in, size_t in_len, char *out, size_t cap,
                              size_t *out_len);

/*
 * Long-term key (RFC 8489 §9.2.2): MD5 or SHA-256 of
 * username ":" realm ":" OpaqueString(password). The username and realm are
 * hashed as they appear in the message (the client prepared the username with
 * UsernameCasePreserved, the server chose the realm); only the password is
 * prepared here, and a password OpaqueString refuses returns that error
 * (TP_P_EMPTY, TP_P_BAD_UTF8, TP_P_PRECIS_DISALLOWED). TP_P_BAD_VALUE for an
 * unknown algorithm. out receives 16 (MD5) or 32 (SHA-256) bytes; *out_len is set.
 */
enum tp_perr tp_key_long_term(enum tp_pw_alg alg, const char *user, size_t user_len,
                              const char *realm, size_t realm_len,
                              const char *pass, size_t pass_len,
                              uint8_t out[TP_KEY_MAX], size_t *out_len);

/* Short-term key (RFC 8489 §9.1.2): OpaqueString(password). */
enum tp_perr tp_key_short_term(const char *pass, size_t pass_len, uint8_t *out,
                               size_t cap, size_t *out_len);

/* USERHASH (RFC 8489 §14.4): SHA-256(username ":" realm). */
void tp_userhash(const char *user, size_t user_len, const char *realm, size_t realm_len,
                 uint8_t out[32]);

/*
 * Verify MESSAGE-INTEGRITY (HMAC-SHA1) or MESSAGE-INTEGRITY-SHA256 with key,
 * without modifying the message: the HMAC runs over a patched copy of the header
 * and the body up to the attribute. Compared in constant time.
 * Returns TP_P_OK, TP_P_NO_INTEGRITY or TP_P_INTEGRITY_BAD.
 */
enum tp_perr tp_stun_verify_mi(const struct tp_stun_msg *m, const uint8_t *key, size_t key_len);
enum tp_perr tp_stun_verify_mi256(const struct tp_stun_msg *m, const uint8_t *key, size_t key_len);

/*
 * An optional cache for the hot path: HMAC contexts prepared once and re-keyed
 * per message (OpenSSL 3 otherwise fetches the algorithm and allocates on every
 * call). Not thread-safe: one per thread or event loop. The _with variants and
 * a writer whose 'crypto' field is set use it; NULL means no cache.
 */
struct tp_crypto;
struct tp_crypto *tp_crypto_new(void);
void tp_crypto_free(struct tp_crypto *c);
enum tp_perr tp_stun_verify_mi_with(struct tp_crypto *cc, const struct tp_stun_msg *m,
                                    const uint8_t *key, size_t key_len);
enum tp_perr tp_stun_verify_mi256_with(struct tp_crypto *cc, const struct tp_stun_msg *m,
                                       const uint8_t *key, size_t key_len);

/* CRC-32 (ISO-HDLC) as FINGERPRINT uses it, before the XOR. */
uint32_t tp_crc32(const uint8_t *b, size_t n);

/* Fill a transaction ID with cryptographic randomness (RAND_bytes). 0 or -EIO.
 * (Callers that link libsodium may use randombytes_buf instead; proto stays on
 * libcrypto only.) */
int tp_stun_new_tid(uint8_t tid[TP_STUN_TID_LEN]);

/* ------------------------------------------------------------------ */
/* Encoding                                                           */
/* ------------------------------------------------------------------ */

/*
 * A writer over a caller buffer. Every put returns 0 or a negative errno and,
 * on error, also records it in err so later calls do nothing; check once at
 * tp_stun_wr_finish(). Attributes are padded with zero bytes to 4.
 */
struct tp_stun_wr {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err;
	bool classic;     /* no cookie: XOR attributes are refused with -EINVAL */
	struct tp_crypto *crypto; /* optional HMAC cache (borrowed); NULL after init */
};

/* tid: 12 bytes. For classic (RFC 3489) replies use tp_stun_wr_init_classic with the
 * request's 16-byte ID. */
int tp_stun_wr_init(struct tp_stun_wr *w, uint8_t *buf, size_t cap, uint16_t method,
                    uint8_t cls, const uint8_t *tid);
int tp_stun_wr_init_classic(struct tp_stun_wr *w, uint8_t *buf, size_t cap,
                            uint16_t method, uint8_t cls, const uint8_t tid16[16]);
/* Start a response of the given class to request m (same method, same tid, and
 * classic if the request was). */
int tp_stun_wr_reply(struct tp_stun_wr *w, uint8_t *buf, size_t cap,
                     const struct tp_stun_msg *req, uint8_t cls);

int tp_stun_put(struct tp_stun_wr *w, uint16_t type, const void *val, size_t len);
int tp_stun_put_empty(struct tp_stun_wr *w, uint16_t type);     /* DONT-FRAGMENT, USE-CANDIDATE */
int tp_stun_put_u32(struct tp_stun_wr *w, uint16_t type, uint32_t v);
int tp_stun_put_u64(struct tp_stun_wr *w, uint16_t type, uint64_t v);
int tp_stun_put_str(struct tp_stun_wr *w, uint16_t type, const char *s, size_t len);
/* MAPPED-ADDRESS & co. plain, XOR-* XORed: chosen by the type. */
int tp_stun_put_addr(struct tp_stun_wr *w, uint16_t type, const struct tp_addr *a);
int tp_stun_put_error(struct tp_stun_wr *w, uint16_t code, const char *reason);
int tp_stun_put_addr_error(struct tp_stun_wr *w, uint8_t family, uint16_t code,
                           const char *reason);
int tp_stun_put_unknown(struct tp_stun_wr *w, const uint16_t *types, size_t n);
int tp_stun_put_pw_algs(struct tp_stun_wr *w, const uint16_t *algs, size_t n);
int tp_stun_put_pw_alg(struct tp_stun_wr *w, uint16_t alg);
int tp_stun_put_channel(struct tp_stun_wr *w, uint16_t chan);
int tp_stun_put_transport(struct tp_stun_wr *w, uint8_t proto);
int tp_stun_put_family(struct tp_stun_wr *w, uint16_t type, uint8_t family);
int tp_stun_put_even_port(struct tp_stun_wr *w, bool r);
int tp_stun_put_change(struct tp_stun_wr *w, uint32_t flags);
int tp_stun_put_response_port(struct tp_stun_wr *w, uint16_t port);
int tp_stun_put_icmp(struct tp_stun_wr *w, const struct tp_icmp *icmp);
/* PADDING of n zero bytes (RFC 5780 §7.6). */
int tp_stun_put_padding(struct tp_stun_wr *w, size_t n);

/* MESSAGE-INTEGRITY over everything written so far (length patched per §14.5). */
int tp_stun_put_mi(struct tp_stun_wr *w, const uint8_t *key, size_t key_len);
/* MESSAGE-INTEGRITY-SHA256, truncated to trunc bytes (16..32, multiple of 4). */
int tp_stun_put_mi256(struct tp_stun_wr *w, const uint8_t *key, size_t key_len, size_t trunc);
int tp_stun_put_fingerprint(struct tp_stun_wr *w);

/* Final length, or the first error: -ENOBUFS (buffer too small), -EINVAL (a value
 * the RFCs forbid, or an XOR attribute in classic mode), -EAFNOSUPPORT (address
 * family), -EMSGSIZE (message longer than 65535 bytes), -EIO (libcrypto failed). */
long tp_stun_wr_finish(struct tp_stun_wr *w);

/* ------------------------------------------------------------------ */
/* ChannelData and stream framing                                      */
/* ------------------------------------------------------------------ */

static inline bool tp_chan_valid(uint32_t c) { return c >= TP_CHAN_MIN && c <= TP_CHAN_MAX; }

/*
 * Decode one ChannelData message from a datagram (UDP: padding optional; bytes
 * beyond 4 + length are ignored, as RFC 8656 §12.5 allows for padding).
 */
enum tp_perr tp_chan_decode(const uint8_t *b, size_t n, uint16_t *chan,
                            const uint8_t **data, size_t *len);
/* The same with the highest channel number accepted given (TP_CHAN_MAX or
 * TP_CHAN_MAX_RFC5766). */
enum tp_perr tp_chan_decode_max(const uint8_t *b, size_t n, uint16_t max, uint16_t *chan,
                                const uint8_t **data, size_t *len);
/* Write the 4-byte ChannelData header. */
void tp_chan_put_header(uint8_t hdr[TP_CHAN_HDR_LEN], uint16_t chan, uint16_t len);
/* Encode header + data (+ zero padding to 4 if pad) into buf; returns the total
 * length or a negative errno (-ENOBUFS, -EINVAL for a bad channel). */
long tp_chan_encode(uint8_t *buf, size_t cap, uint16_t chan, const uint8_t *data,
                    size_t len, bool pad);

/*
 * RFC 7983 demultiplexing by the first byte of a datagram, or of a stream at
 * the start of a connection (and of each frame on a TURN stream).
 */
enum tp_demux {
	TP_DEMUX_OTHER = 0,   /* none of these: drop the datagram, close the stream */
	TP_DEMUX_STUN,        /* 0..3 */
	TP_DEMUX_ZRTP,        /* 16..19, datagrams */
	TP_DEMUX_DTLS,        /* 20..63, datagrams */
	TP_DEMUX_TLS,         /* 22, a stream: a TLS connection opens with a handshake
	                       * record; the other record types (20 ChangeCipherSpec,
	                       * 21 Alert, 23 ApplicationData) cannot open one */
	TP_DEMUX_CHANDATA,    /* TURN ChannelData: 64..79, or 64..127 with chan_max =
	                       * TP_CHAN_MAX_RFC5766 (RFC 7983 gives 80..127 to nobody) */
	TP_DEMUX_RTP,         /* 128..191, RTP and RTCP, datagrams */
};
/*
 * What a message starting with byte first is. stream: a TCP/TLS byte stream,
 * where only STUN, ChannelData and a TLS handshake can come (RFC 8656 §12.5);
 * else a datagram (UDP, or what DTLS carries). chan_max: the highest channel
 * number accepted, TP_CHAN_MAX or TP_CHAN_MAX_RFC5766: its high byte bounds
 * the ChannelData range.
 */
enum tp_demux tp_demux(uint8_t first, bool stream, uint16_t chan_max);
const char *tp_demux_name(enum tp_demux d);  /* "stun", "dtls", ... */

/* What a stream frame holds (RFC 7983 first-byte demultiplexing). */
enum tp_frame_kind {
	TP_FRAME_STUN = 1,      /* first byte 0..3 */
	TP_FRAME_CHANDATA = 2,  /* first byte 64..79 (64..127 with the RFC 5766 range) */
};

/*
 * The stateless step under tp_framer_next: look at the start of a stream
 * buffer (TURN over TCP/TLS, RFC 8656 §12.5) and tell the length of the first
 * frame: STUN = 20 + length; ChannelData = 4 +
 * length rounded up to 4. Returns TP_P_OK with *frame_len and *kind,
 * TP_P_NEED_MORE when fewer than 4 bytes are there (a bad first byte is reported
 * as TP_P_NOT_STUN as soon as it is there; the frame itself may be
 * incomplete: compare *frame_len with n), TP_P_NOT_STUN for a first byte that is
 * neither, TP_P_BAD_LENGTH for a STUN length not a multiple of 4,
 * TP_P_FRAME_TOO_LONG when the frame would exceed max.
 */
enum tp_perr tp_frame_peek(const uint8_t *b, size_t n, size_t max, size_t *frame_len,
                           enum tp_frame_kind *kind);
/* The same with the highest channel number accepted given (first bytes 64..79
 * for TP_CHAN_MAX, 64..127 for TP_CHAN_MAX_RFC5766). */
enum tp_perr tp_frame_peek_max(const uint8_t *b, size_t n, size_t max, uint16_t chan_max,
                               size_t *frame_len, enum tp_frame_kind *kind);

/*
 * The stream framer (TURN over TCP/TLS): a pull framer over the caller's own
 * buffer, which holds the stream's bytes not yet consumed, starting at a frame
 * boundary (an evbuffer, a read buffer). The framer keeps no bytes, only its
 * limits and its sticky error: a framing error means the stream has lost sync,
 * and every later call returns that error (close the connection).
 *
 *	tp_framer_init(&f, 4096, TP_CHAN_MAX);     (frames up to 4096 bytes)
 *	while ((e = tp_framer_next(&f, b, n, &len, &kind)) == TP_P_OK) {
 *		handle(kind, b, len);      (a whole STUN message or ChannelData)
 *		consume len bytes;
 *	}
 *	TP_P_NEED_MORE: read until the buffer holds len bytes, then call again.
 *	anything else: close.
 *
 * A buffer of max bytes always suffices: NEED_MORE never asks for more.
 */
struct tp_framer {
	size_t max;          /* the longest frame accepted, header included */
	uint16_t chan_max;   /* TP_CHAN_MAX, or TP_CHAN_MAX_RFC5766 for the legacy range */
	enum tp_perr err;    /* TP_P_OK while in sync, else the sticky error */
};
void tp_framer_init(struct tp_framer *f, size_t max, uint16_t chan_max);
/*
 * The first frame of b[0..n): TP_P_OK with its length in *frame_len and its
 * kind in *kind when it is all there (bytes after it are the next frames');
 * TP_P_NEED_MORE with *frame_len = how many bytes b must hold before the next
 * call can tell more (4 until the header is in, then the whole frame's
 * length, never over max); or a framing error, sticky: TP_P_NOT_STUN (a first
 * byte neither STUN nor ChannelData, seen as soon as it is there),
 * TP_P_BAD_LENGTH (a STUN length not a multiple of 4), TP_P_FRAME_TOO_LONG.
 * On a stream ChannelData is padded to 4: its frame is 4 + pad4(length).
 */
enum tp_perr tp_framer_next(struct tp_framer *f, const uint8_t *b, size_t n, size_t *frame_len,
                            enum tp_frame_kind *kind);

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

static inline uint16_t tp_stun_type(uint16_t method, uint8_t cls)
{
	return (uint16_t)((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) |
	                  ((cls & 1) << 4) | ((cls & 2) << 7));
}
static inline uint16_t tp_stun_type_method(uint16_t t)
{
	return (uint16_t)((t & 0x000F) | ((t & 0x00E0) >> 1) | ((t & 0x3E00) >> 2));
}
static inline uint8_t tp_stun_type_class(uint16_t t)
{
	return (uint8_t)(((t >> 4) & 1) | ((t >> 7) & 2));
}

/* Name of a method or attribute type, for logs and the probe ("ALLOCATE",
 * "XOR-PEER-ADDRESS"); "?" when unknown. */
const char *tp_method_name(uint16_t method);
const char *tp_attr_name(uint16_t type);
/* Standard reason phrase for an error code (RFC 8489 §14.8, RFC 8656 §19). */
const char *tp_error_reason(uint16_t code);

/* The TURN client without I/O: turn_client.h. */
#include "turn_client.h"
/* The PROXY protocol header (v1, v2): proxy.h. */
#include "proxy.h"

#endif
