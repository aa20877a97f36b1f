/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_captured.c - decode packets captured from real clients and servers.
 *
 * the files in tests/vectors/captured/ are UDP payloads that coturn 4.6.1's turnserver,
 * turnutils_stunclient, turnutils_uclient and libnice 0.1.21 exchanged on
 * loopback (tools/capture-vectors.sh made them; each file's header says how).
 * Every file must decode; every MESSAGE-INTEGRITY must verify with the known
 * key (long-term "test"/"secret"/"example.org", or the TURN REST API key derived
 * from the shared secret "restsecret"), and fail with a wrong one; every
 * response of the server (run with --fingerprint) carries a valid FINGERPRINT.
 * A table then checks method, class and the key attributes of the ones that
 * matter for the server.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "proto.h"
#include "tp_test.h"

#define DIR_CAPTURED TP_VECTORS_DIR "/captured"
#define MAX_MSG 2048

static uint8_t key_lt[TP_KEY_MAX], key_rest[TP_KEY_MAX];
static size_t key_lt_len, key_rest_len;

/* Reads a .hex fixture: '#' starts a comment, whitespace is ignored. */
static long load_hex(const char *name, uint8_t *out, size_t cap)
{
	char path[512], line[512];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", DIR_CAPTURED, name);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#');
		int hi = -1;

		if (hash)
			*hash = '\0';
		for (char *p = line; *p; p++) {
			int v;

			if (*p >= '0' && *p <= '9')
				v = *p - '0';
			else if (*p >= 'a' && *p <= 'f')
				v = *p - 'a' + 10;
			else if (*p >= 'A' && *p <= 'F')
				v = *p - 'A' + 10;
			else
				continue;
			if (hi < 0) {
				hi = v;
				continue;
			}
			if (n == cap) {
				fclose(f);
				return -ENOBUFS;
			}
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	fclose(f);
	return (long)n;
}

static bool has(const char *s, const char *sub)
{
	return strstr(s, sub) != NULL;
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool str_eq(const struct tp_stun_attr *a, const char *s)
{
	const char *v;
	size_t len;

	if (!a)
		return false;
	tp_attr_str(a, &v, &len);
	return len == strlen(s) && memcmp(v, s, len) == 0;
}

/* TURN REST API: password = base64(HMAC-SHA1(secret, username)), then the usual
 * long-term key MD5(username:realm:password). */
static void rest_key(const char *user, size_t user_len)
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;
	char pass[64];
	int pass_len;

	HMAC(EVP_sha1(), "restsecret", 10, (const uint8_t *)user, user_len, mac, &mac_len);
	pass_len = EVP_EncodeBlock((unsigned char *)pass, mac, (int)mac_len);
	CHECK_EQ(pass_len, 28);
	CHECK_EQ(tp_key_long_term(TP_PWALG_MD5, user, user_len, "example.org", 11, pass,
	                          (size_t)pass_len, key_rest, &key_rest_len), TP_P_OK);
}

static void make_keys(void)
{
	static uint8_t b[MAX_MSG];
	struct tp_stun_msg m;
	const struct tp_stun_attr *u;
	const char *s;
	size_t len;
	long n;

	CHECK_EQ(tp_key_long_term(TP_PWALG_MD5, "test", 4, "example.org", 11, "secret", 6,
	                          key_lt, &key_lt_len), TP_P_OK);
	CHECK_EQ(key_lt_len, 16);

	/* the REST username ("<expiry>:test") is in the captured request */
	n = load_hex("rest-uclient-rest-allocate-request-c2s.hex", b, sizeof(b));
	CHECK(n > 0);
	if (n <= 0 || tp_stun_decode(&m, b, (size_t)n, NULL) != TP_P_OK)
		return;
	u = tp_stun_find(&m, TP_ATTR_USERNAME);
	CHECK(u != NULL);
	if (!u)
		return;
	tp_attr_str(u, &s, &len);
	CHECK(len > 5 && memcmp(s + len - 5, ":test", 5) == 0);
	rest_key(s, len);
}

static void check_chandata(const char *name, const uint8_t *b, size_t n)
{
	const uint8_t *data;
	size_t len;
	uint16_t chan;
	enum tp_perr e = tp_chan_decode(b, n, &chan, &data, &len);

	if (has(name, "rfc5766range")) {
		/* coturn draws channels from RFC 5766's 0x4000-0x7FFF */
		CHECK_EQ(e, TP_P_CHAN_RANGE);
		e = tp_chan_decode_max(b, n, TP_CHAN_MAX_RFC5766, &chan, &data, &len);
		CHECK_EQ(e, TP_P_OK);
		CHECK(chan > TP_CHAN_MAX && chan <= TP_CHAN_MAX_RFC5766);
	} else {
		CHECK_EQ(e, TP_P_OK);
		CHECK(tp_chan_valid(chan));
	}
	if (e != TP_P_OK)
		return;
	CHECK_EQ(len, 100);          /* turnutils_uclient's default -l 100 */
	CHECK(data == b + TP_CHAN_HDR_LEN);
}

/* The checks every STUN fixture gets. */
static void check_stun(const char *name, const struct tp_stun_msg *m)
{
	const uint8_t *key = starts(name, "rest-") ? key_rest : key_lt;
	size_t key_len = starts(name, "rest-") ? key_rest_len : key_lt_len;
	uint8_t bad[TP_KEY_MAX];

	if (has(name, "-s2c") && !m->classic)
		CHECK(m->has_fingerprint);
	if (m->mi < 0) {
		CHECK_EQ(tp_stun_verify_mi(m, key, key_len), TP_P_NO_INTEGRITY);
		return;
	}
	if (tp_stun_verify_mi(m, key, key_len) != TP_P_OK)
		fprintf(stderr, "%s: MESSAGE-INTEGRITY does not verify\n", name);
	CHECK_EQ(tp_stun_verify_mi(m, key, key_len), TP_P_OK);
	memcpy(bad, key, key_len);
	bad[0] ^= 1;
	CHECK_EQ(tp_stun_verify_mi(m, bad, key_len), TP_P_INTEGRITY_BAD);
	/* requests carry the credentials */
	if (m->cls == TP_CLASS_REQUEST) {
		CHECK(tp_stun_find(m, TP_ATTR_USERNAME) != NULL);
		CHECK(str_eq(tp_stun_find(m, TP_ATTR_REALM), "example.org"));
		CHECK(tp_stun_find(m, TP_ATTR_NONCE) != NULL);
	}
}

struct expect {
	const char *file;
	uint16_t method;
	uint8_t cls;
	bool classic;
	bool mi;                 /* MESSAGE-INTEGRITY present */
	uint16_t attrs[4];       /* must be present (0 ends) */
	uint16_t error;          /* ERROR-CODE, or 0 */
};

static const struct expect expects[] = {
	/* turnutils_stunclient: RFC 5389 Binding, no attributes */
	{ "lt-stunclient-binding-request-c2s.hex", TP_METHOD_BINDING, TP_CLASS_REQUEST, false, false, { 0 }, 0 },
	{ "lt-stunclient-binding-success-s2c.hex", TP_METHOD_BINDING, TP_CLASS_SUCCESS, false, false,
	  { TP_ATTR_XOR_MAPPED_ADDRESS, TP_ATTR_MAPPED_ADDRESS, TP_ATTR_RESPONSE_ORIGIN, 0 }, 0 },
	/* turnutils_uclient, long-term credentials, channels */
	{ "lt-uclient-chan-allocate-request-noauth-c2s.hex", TP_METHOD_ALLOCATE, TP_CLASS_REQUEST, false, false,
	  { TP_ATTR_REQUESTED_TRANSPORT, TP_ATTR_LIFETIME, TP_ATTR_REQUESTED_ADDRESS_FAMILY, 0 }, 0 },
	{ "lt-uclient-chan-allocate-error-401-s2c.hex", TP_METHOD_ALLOCATE, TP_CLASS_ERROR, false, false,
	  { TP_ATTR_REALM, TP_ATTR_NONCE, 0 }, 401 },
	{ "lt-uclient-chan-allocate-request-c2s.hex", TP_METHOD_ALLOCATE, TP_CLASS_REQUEST, false, true,
	  { TP_ATTR_REQUESTED_TRANSPORT, TP_ATTR_USERNAME, 0 }, 0 },
	{ "lt-uclient-chan-allocate-success-s2c.hex", TP_METHOD_ALLOCATE, TP_CLASS_SUCCESS, false, true,
	  { TP_ATTR_XOR_RELAYED_ADDRESS, TP_ATTR_XOR_MAPPED_ADDRESS, TP_ATTR_LIFETIME, 0 }, 0 },
	{ "lt-uclient-chan-refresh-request-c2s.hex", TP_METHOD_REFRESH, TP_CLASS_REQUEST, false, true,
	  { TP_ATTR_LIFETIME, 0 }, 0 },
	{ "lt-uclient-chan-refresh-success-s2c.hex", TP_METHOD_REFRESH, TP_CLASS_SUCCESS, false, true,
	  { TP_ATTR_LIFETIME, 0 }, 0 },
	{ "lt-uclient-chan-createpermission-request-c2s.hex", TP_METHOD_CREATE_PERMISSION, TP_CLASS_REQUEST, false, true,
	  { TP_ATTR_XOR_PEER_ADDRESS, 0 }, 0 },
	{ "lt-uclient-chan-createpermission-success-s2c.hex", TP_METHOD_CREATE_PERMISSION, TP_CLASS_SUCCESS, false, true,
	  { 0 }, 0 },
	{ "lt-uclient-chan-channelbind-request-c2s.hex", TP_METHOD_CHANNEL_BIND, TP_CLASS_REQUEST, false, true,
	  { TP_ATTR_CHANNEL_NUMBER, TP_ATTR_XOR_PEER_ADDRESS, 0 }, 0 },
	{ "lt-uclient-chan-channelbind-request-rfc5766range-c2s.hex", TP_METHOD_CHANNEL_BIND, TP_CLASS_REQUEST, false, true,
	  { TP_ATTR_CHANNEL_NUMBER, TP_ATTR_XOR_PEER_ADDRESS, 0 }, 0 },
	{ "lt-uclient-chan-channelbind-success-s2c.hex", TP_METHOD_CHANNEL_BIND, TP_CLASS_SUCCESS, false, true,
	  { 0 }, 0 },
	/* turnutils_uclient -s: Send and Data indications */
	{ "lt-uclient-send-send-indication-c2s.hex", TP_METHOD_SEND, TP_CLASS_INDICATION, false, false,
	  { TP_ATTR_XOR_PEER_ADDRESS, TP_ATTR_DATA, 0 }, 0 },
	{ "lt-uclient-send-data-indication-s2c.hex", TP_METHOD_DATA, TP_CLASS_INDICATION, false, false,
	  { TP_ATTR_XOR_PEER_ADDRESS, TP_ATTR_DATA, 0 }, 0 },
	{ "lt-uclient-send-allocate-request-noauth-c2s.hex", TP_METHOD_ALLOCATE, TP_CLASS_REQUEST, false, false,
	  { TP_ATTR_REQUESTED_TRANSPORT, TP_ATTR_EVEN_PORT, 0 }, 0 },
	/* libnice: its server-reflexive discovery is a classic RFC 3489 Binding
	 * (no magic cookie, no attributes); its TURN Allocate is RFC 5389 style
	 * without FINGERPRINT */
	{ "lt-libnice-binding-request-classic-c2s.hex", TP_METHOD_BINDING, TP_CLASS_REQUEST, true, false, { 0 }, 0 },
	{ "lt-libnice-binding-success-classic-s2c.hex", TP_METHOD_BINDING, TP_CLASS_SUCCESS, true, false,
	  { TP_ATTR_MAPPED_ADDRESS, 0 }, 0 },
	{ "lt-libnice-allocate-request-noauth-c2s.hex", TP_METHOD_ALLOCATE, TP_CLASS_REQUEST, false, false,
	  { TP_ATTR_REQUESTED_TRANSPORT, TP_ATTR_SOFTWARE, 0 }, 0 },
	{ "lt-libnice-allocate-error-401-s2c.hex", TP_METHOD_ALLOCATE, TP_CLASS_ERROR, false, false,
	  { TP_ATTR_REALM, TP_ATTR_NONCE, 0 }, 401 },
	{ "lt-libnice-allocate-request-c2s.hex", TP_METHOD_ALLOCATE, TP_CLASS_REQUEST, false, true,
	  { TP_ATTR_REQUESTED_TRANSPORT, TP_ATTR_USERNAME, 0 }, 0 },
	{ "lt-libnice-allocate-success-s2c.hex", TP_METHOD_ALLOCATE, TP_CLASS_SUCCESS, false, true,
	  { TP_ATTR_XOR_RELAYED_ADDRESS, TP_ATTR_XOR_MAPPED_ADDRESS, 0 }, 0 },
	/* TURN REST API credentials */
	{ "rest-uclient-rest-allocate-error-401-s2c.hex", TP_METHOD_ALLOCATE, TP_CLASS_ERROR, false, false,
	  { TP_ATTR_REALM, TP_ATTR_NONCE, 0 }, 401 },
	{ "rest-uclient-rest-allocate-request-c2s.hex", TP_METHOD_ALLOCATE, TP_CLASS_REQUEST, false, true,
	  { TP_ATTR_REQUESTED_TRANSPORT, TP_ATTR_USERNAME, 0 }, 0 },
	{ "rest-uclient-rest-allocate-success-s2c.hex", TP_METHOD_ALLOCATE, TP_CLASS_SUCCESS, false, true,
	  { TP_ATTR_XOR_RELAYED_ADDRESS, 0 }, 0 },
	{ "rest-uclient-rest-channelbind-request-c2s.hex", TP_METHOD_CHANNEL_BIND, TP_CLASS_REQUEST, false, true,
	  { TP_ATTR_CHANNEL_NUMBER, TP_ATTR_XOR_PEER_ADDRESS, 0 }, 0 },
	{ "rest-uclient-rest-refresh-request-c2s.hex", TP_METHOD_REFRESH, TP_CLASS_REQUEST, false, true,
	  { TP_ATTR_LIFETIME, 0 }, 0 },
};

/* Addresses are on loopback: the server at 127.0.0.77, clients and the peer
 * (turnutils_peer on 3480/3481) at 127.0.0.1. */
static void check_addr_ip(const struct tp_stun_msg *m, uint16_t type, uint8_t last_octet)
{
	const struct tp_stun_attr *a = tp_stun_find(m, type);
	struct tp_addr ad;

	CHECK(a != NULL);
	if (!a)
		return;
	CHECK_EQ(tp_attr_addr(m, a, &ad), TP_P_OK);
	CHECK_EQ(ad.family, AF_INET);
	CHECK(ad.ip[0] == 127 && ad.ip[1] == 0 && ad.ip[2] == 0 && ad.ip[3] == last_octet);
	CHECK(ad.port != 0);
}

static void check_expect(const struct expect *x)
{
	static uint8_t b[MAX_MSG];
	struct tp_stun_msg m;
	const struct tp_stun_attr *a;
	const char *why = "";
	long n = load_hex(x->file, b, sizeof(b));

	if (n <= 0)
		fprintf(stderr, "%s: missing (%ld)\n", x->file, n);
	CHECK(n > 0);
	if (n <= 0)
		return;
	CHECK_EQ(tp_stun_decode(&m, b, (size_t)n, &why), TP_P_OK);
	CHECK_EQ(m.method, x->method);
	CHECK_EQ(m.cls, x->cls);
	CHECK_EQ(m.classic, x->classic);
	CHECK_EQ(m.mi >= 0, x->mi);
	for (size_t i = 0; i < 4 && x->attrs[i]; i++) {
		if (!tp_stun_find(&m, x->attrs[i]))
			fprintf(stderr, "%s: no %s\n", x->file, tp_attr_name(x->attrs[i]));
		CHECK(tp_stun_find(&m, x->attrs[i]) != NULL);
	}
	a = tp_stun_find(&m, TP_ATTR_ERROR_CODE);
	CHECK_EQ(a != NULL, x->error != 0);
	if (a) {
		struct tp_error_code ec;

		tp_attr_error_code(a, &ec);
		CHECK_EQ(ec.code, x->error);
	}

	if ((a = tp_stun_find(&m, TP_ATTR_REQUESTED_TRANSPORT)))
		CHECK_EQ(tp_attr_transport(a), TP_TRANSPORT_UDP);
	if ((a = tp_stun_find(&m, TP_ATTR_REQUESTED_ADDRESS_FAMILY)))
		CHECK_EQ(tp_attr_family(a), TP_STUN_FAMILY_IPV4);
	if ((a = tp_stun_find(&m, TP_ATTR_USERNAME)) && starts(x->file, "lt-"))
		CHECK(str_eq(a, "test"));
	if ((a = tp_stun_find(&m, TP_ATTR_CHANNEL_NUMBER))) {
		uint16_t c = tp_attr_channel(a);

		if (has(x->file, "rfc5766range"))
			CHECK(c > TP_CHAN_MAX && c <= TP_CHAN_MAX_RFC5766);
		else
			CHECK(tp_chan_valid(c));
	}
	if ((a = tp_stun_find(&m, TP_ATTR_DATA)))
		CHECK_EQ(a->len, 100);
	if (tp_stun_find(&m, TP_ATTR_XOR_PEER_ADDRESS))
		check_addr_ip(&m, TP_ATTR_XOR_PEER_ADDRESS, 1);
	if (tp_stun_find(&m, TP_ATTR_XOR_RELAYED_ADDRESS))
		check_addr_ip(&m, TP_ATTR_XOR_RELAYED_ADDRESS, 77);
	if (tp_stun_find(&m, TP_ATTR_XOR_MAPPED_ADDRESS))
		check_addr_ip(&m, TP_ATTR_XOR_MAPPED_ADDRESS, 1);
	if (tp_stun_find(&m, TP_ATTR_MAPPED_ADDRESS))
		check_addr_ip(&m, TP_ATTR_MAPPED_ADDRESS, 1);
	if (tp_stun_find(&m, TP_ATTR_RESPONSE_ORIGIN))
		check_addr_ip(&m, TP_ATTR_RESPONSE_ORIGIN, 77);

	/* stunclient's response: MAPPED-ADDRESS and XOR-MAPPED-ADDRESS agree */
	if (tp_stun_find(&m, TP_ATTR_MAPPED_ADDRESS) && tp_stun_find(&m, TP_ATTR_XOR_MAPPED_ADDRESS)) {
		struct tp_addr p, q;

		tp_attr_addr(&m, tp_stun_find(&m, TP_ATTR_MAPPED_ADDRESS), &p);
		tp_attr_addr(&m, tp_stun_find(&m, TP_ATTR_XOR_MAPPED_ADDRESS), &q);
		CHECK(tp_addr_eq(&p, &q));
	}
}

int main(void)
{
	static uint8_t b[MAX_MSG];
	struct dirent *de;
	unsigned nfiles = 0, nstun = 0, nchan = 0;
	DIR *d;

	make_keys();

	d = opendir(DIR_CAPTURED);
	CHECK(d != NULL);
	while (d && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		struct tp_stun_msg m;
		const char *why = "";
		enum tp_perr e;
		long n;

		if (len < 5 || strcmp(de->d_name + len - 4, ".hex") != 0)
			continue;
		nfiles++;
		n = load_hex(de->d_name, b, sizeof(b));
		CHECK(n > 0);
		if (n <= 0)
			continue;
		if (has(de->d_name, "channeldata")) {
			nchan++;
			check_chandata(de->d_name, b, (size_t)n);
			continue;
		}
		nstun++;
		e = tp_stun_decode(&m, b, (size_t)n, &why);
		if (e != TP_P_OK)
			fprintf(stderr, "%s: %s (%s)\n", de->d_name, tp_perr_str(e), why);
		CHECK_EQ(e, TP_P_OK);
		if (e == TP_P_OK)
			check_stun(de->d_name, &m);
	}
	if (d)
		closedir(d);
	printf("%u captured files: %u STUN, %u ChannelData\n", nfiles, nstun, nchan);
	CHECK(nfiles >= 40);
	CHECK(nchan >= 2);

	for (size_t i = 0; i < sizeof(expects) / sizeof(expects[0]); i++)
		check_expect(&expects[i]);
	TP_TEST_END();
}
