/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_classify.c - the probe's decisions on canned answers: RFC 5780 mapping
 * and filtering classification, TURN failure hints, the audit verdict, p95, and
 * the parsing of a Binding answer with OTHER-ADDRESS / RESPONSE-ORIGIN built with
 * the codec.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "probe.h"
#include "tp_test.h"

static struct tp_addr A(const char *s)
{
	struct tp_addr a;

	memset(&a, 0, sizeof(a));
	tp_addr_parse(&a, s, 0);
	return a;
}

static void mapping(void)
{
	struct tp_addr local = A("10.0.1.2:5000"), pub = A("198.51.100.2:5000"),
	               pub2 = A("198.51.100.2:6001"), pub3 = A("198.51.100.2:6002"),
	               other_ip = A("198.51.100.3:5000");
	char ev[512];

	CHECK_EQ(classify_mapping(&local, NULL, NULL, NULL, ev, sizeof(ev)), MAP_UNKNOWN);
	CHECK_EQ(classify_mapping(&local, &local, NULL, NULL, ev, sizeof(ev)), MAP_NONE);
	CHECK(strstr(ev, "no NAT") != NULL);
	CHECK_EQ(classify_mapping(&local, &pub, NULL, NULL, ev, sizeof(ev)), MAP_UNKNOWN);
	CHECK_EQ(classify_mapping(&local, &pub, &pub, NULL, ev, sizeof(ev)), MAP_EI);
	CHECK(strstr(ev, "198.51.100.2:5000") != NULL);
	/* address-dependent: a new mapping for the other IP, kept for its other port */
	CHECK_EQ(classify_mapping(&local, &pub, &pub2, &pub2, ev, sizeof(ev)), MAP_AD);
	/* ... also when the NAT picks another public address for the other IP */
	CHECK_EQ(classify_mapping(&local, &pub, &other_ip, &other_ip, ev, sizeof(ev)), MAP_AD);
	CHECK_EQ(classify_mapping(&local, &pub, &pub2, &pub3, ev, sizeof(ev)), MAP_APD);
	CHECK(strstr(ev, "198.51.100.2:6002") != NULL);
	CHECK_EQ(classify_mapping(&local, &pub, &pub2, NULL, ev, sizeof(ev)), MAP_UNKNOWN);
	/* IPv6 */
	struct tp_addr l6 = A("[2001:db8::1]:4000");
	CHECK_EQ(classify_mapping(&l6, &l6, NULL, NULL, ev, sizeof(ev)), MAP_NONE);
	CHECK(strstr(ev, "[2001:db8::1]:4000") != NULL);
	CHECK(!strcmp(nat_map_name(MAP_APD), "address-and-port-dependent"));
	CHECK(!strcmp(nat_map_name(MAP_EI), "endpoint-independent"));
}

static void filtering(void)
{
	char ev[512];

	CHECK_EQ(classify_filtering(false, -1, -1, ev, sizeof(ev)), FILT_UNKNOWN);
	CHECK_EQ(classify_filtering(true, 1, -1, ev, sizeof(ev)), FILT_EI);
	CHECK_EQ(classify_filtering(true, 0, 1, ev, sizeof(ev)), FILT_AD);
	CHECK_EQ(classify_filtering(true, 0, 0, ev, sizeof(ev)), FILT_APD);
	CHECK_EQ(classify_filtering(true, 0, -1, ev, sizeof(ev)), FILT_UNKNOWN);
	CHECK_EQ(classify_filtering(true, -1, -1, ev, sizeof(ev)), FILT_UNKNOWN);
	CHECK(!strcmp(nat_filter_name(FILT_AD), "address-dependent"));
}

static void hints(void)
{
	struct turn_fail f;

	f = (struct turn_fail){ .code = 401, .had_realm = false, .had_creds = true };
	CHECK(strstr(turn_hint(&f), "STUN-only") != NULL);
	f = (struct turn_fail){ .code = 401, .had_realm = true, .had_creds = false };
	CHECK(strstr(turn_hint(&f), "credentials needed") != NULL);
	f = (struct turn_fail){ .code = 438, .had_realm = true, .rest = true, .n438 = 3 };
	CHECK(strstr(turn_hint(&f), "clock skew on REST") != NULL);
	f = (struct turn_fail){ .code = 438, .n438 = 1 };
	CHECK(strstr(turn_hint(&f), "stale nonce") != NULL);
	f = (struct turn_fail){ .code = 442 };
	CHECK(strstr(turn_hint(&f), "does not offer that relay transport") != NULL);
	f = (struct turn_fail){ .code = 403, .method = TP_METHOD_CREATE_PERMISSION };
	CHECK(strstr(turn_hint(&f), "403 on CreatePermission: the server's peer policy") != NULL);
	f = (struct turn_fail){ .errno_ = -ETIMEDOUT, .xport = PX_UDP };
	CHECK(strstr(turn_hint(&f), "UDP blocked") != NULL);
	f = (struct turn_fail){ .errno_ = -ETIMEDOUT, .xport = PX_TCP };
	CHECK(strstr(turn_hint(&f), "filtered") != NULL);
	f = (struct turn_fail){ .errno_ = -ECONNREFUSED, .xport = PX_TLS };
	CHECK(strstr(turn_hint(&f), "not reachable") != NULL);
	f = (struct turn_fail){ 0 };
	CHECK(turn_hint(&f) == NULL);
}

static void audit(void)
{
	int none[3] = { -1, -1, -1 }, ok[3] = { 0, 0, -1 }, bad[3] = { 0, 1, -1 };

	CHECK(!strcmp(audit_verdict(none, 3), "incomplete"));
	CHECK(!strcmp(audit_verdict(ok, 3), "secure"));
	CHECK(!strcmp(audit_verdict(bad, 3), "insecure"));
	/* every case parses, and the list covers the categories the issue names */
	bool lo = false, priv = false, ll = false, meta = false, mapped = false;
	for (size_t i = 0; i < probe_audit_ncases; i++) {
		struct tp_addr a;
		const char *c = probe_audit_cases[i].category;

		CHECK_EQ(tp_addr_parse(&a, probe_audit_cases[i].addr, 9), 0);
		lo |= !strcmp(c, "loopback");
		priv |= strstr(c, "private") != NULL;
		ll |= !strcmp(c, "link-local");
		meta |= !strcmp(probe_audit_cases[i].addr, "169.254.169.254");
		mapped |= !strcmp(probe_audit_cases[i].addr, "::ffff:169.254.169.254");
	}
	CHECK(lo && priv && ll && meta && mapped);
	CHECK(probe_audit_ncases <= PROBE_MAX_AUDIT);
}

static void p95(void)
{
	double v[20];

	for (int i = 0; i < 20; i++)
		v[i] = 20 - i;         /* 20..1 */
	CHECK(probe_p95(v, 20) == 19.0);
	double one[1] = { 3.5 };
	CHECK(probe_p95(one, 1) == 3.5);
	CHECK(probe_p95(v, 0) == 0.0);
}

static void parse_answer(void)
{
	uint8_t tid[TP_STUN_TID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 }, buf[512];
	struct tp_addr mapped = A("198.51.100.2:40000"), other = A("203.0.113.2:3479"),
	               origin = A("203.0.113.1:3478");
	struct tp_stun_wr w;
	struct bind_res res;
	long n;

	tp_stun_wr_init(&w, buf, sizeof(buf), TP_METHOD_BINDING, TP_CLASS_SUCCESS, tid);
	tp_stun_put_addr(&w, TP_ATTR_XOR_MAPPED_ADDRESS, &mapped);
	tp_stun_put_addr(&w, TP_ATTR_RESPONSE_ORIGIN, &origin);
	tp_stun_put_addr(&w, TP_ATTR_OTHER_ADDRESS, &other);
	tp_stun_put_str(&w, TP_ATTR_SOFTWARE, "x\x01y", 3);
	tp_stun_put_fingerprint(&w);
	n = tp_stun_wr_finish(&w);
	CHECK(n > 0);
	CHECK_EQ(stun_parse_binding(buf, (size_t)n, &res), 0);
	CHECK_EQ(res.code, 0);
	CHECK(res.has_mapped && tp_addr_eq(&res.mapped, &mapped));
	CHECK(res.has_other && tp_addr_eq(&res.other, &other));
	CHECK(res.has_origin && tp_addr_eq(&res.origin, &origin));
	CHECK(!strcmp(res.software, "x?y"));

	/* a 420 to CHANGE-REQUEST from a server without RFC 5780 */
	uint16_t unk = TP_ATTR_CHANGE_REQUEST;
	tp_stun_wr_init(&w, buf, sizeof(buf), TP_METHOD_BINDING, TP_CLASS_ERROR, tid);
	tp_stun_put_error(&w, 420, "Unknown Attribute");
	tp_stun_put_unknown(&w, &unk, 1);
	n = tp_stun_wr_finish(&w);
	CHECK_EQ(stun_parse_binding(buf, (size_t)n, &res), 0);
	CHECK_EQ(res.code, 420);
	CHECK_EQ(res.nunknown, 1);
	CHECK_EQ(res.unknown[0], TP_ATTR_CHANGE_REQUEST);
	CHECK(!res.has_other);
	/* garbage and requests are refused */
	CHECK(stun_parse_binding(buf, 10, &res) < 0);
	tp_stun_wr_init(&w, buf, sizeof(buf), TP_METHOD_BINDING, TP_CLASS_REQUEST, tid);
	n = tp_stun_wr_finish(&w);
	CHECK(stun_parse_binding(buf, (size_t)n, &res) < 0);
}

int main(void)
{
	mapping();
	filtering();
	hints();
	audit();
	p95();
	parse_answer();
	TP_TEST_END();
}
