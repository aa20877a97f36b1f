/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stun.c - Binding transactions for the probe (RFC 8489 §6.2.1 retransmission,
 * shortened to the probe's budget) with the RFC 5780 attributes: CHANGE-REQUEST,
 * RESPONSE-PORT, PADDING; answers read for XOR-MAPPED-ADDRESS, OTHER-ADDRESS and
 * RESPONSE-ORIGIN. The socket is unconnected, because RFC 5780 answers come from
 * the server's other addresses.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"

#define RTO_MS 250

static long build(uint8_t *buf, size_t cap, const uint8_t tid[TP_STUN_TID_LEN],
                  const struct bind_req *rq)
{
	struct tp_stun_wr w;

	tp_stun_wr_init(&w, buf, cap, TP_METHOD_BINDING, TP_CLASS_REQUEST, tid);
	if (rq && rq->change)
		tp_stun_put_change(&w, rq->change);
	if (rq && rq->response_port)
		tp_stun_put_response_port(&w, rq->response_port);
	if (rq && rq->padding)
		tp_stun_put_padding(&w, rq->padding);
	tp_stun_put_fingerprint(&w);
	return tp_stun_wr_finish(&w);
}

static void copy_str(const struct tp_stun_attr *a, char *out, size_t cap)
{
	const char *s;
	size_t len;

	tp_attr_str(a, &s, &len);
	if (len >= cap)
		len = cap - 1;
	for (size_t i = 0; i < len; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[len] = '\0';
}

static int parse(const struct tp_stun_msg *m, struct bind_res *res)
{
	const struct tp_stun_attr *a;

	res->code = 0;
	res->reason[0] = '\0';
	res->has_mapped = res->has_other = res->has_origin = false;
	res->nunknown = 0;
	if (m->cls == TP_CLASS_ERROR) {
		struct tp_error_code ec = { 0 };

		a = tp_stun_find(m, TP_ATTR_ERROR_CODE);
		if (a) {
			tp_attr_error_code(a, &ec);
			snprintf(res->reason, sizeof(res->reason), "%.*s",
			         (int)(ec.reason_len > 100 ? 100 : ec.reason_len), ec.reason);
		}
		res->code = a ? ec.code : 500;
		a = tp_stun_find(m, TP_ATTR_UNKNOWN_ATTRIBUTES);
		if (a)
			res->nunknown = tp_attr_unknown_list(a, res->unknown, 4);
		if (res->nunknown > 4)
			res->nunknown = 4;
	}
	a = tp_stun_find(m, TP_ATTR_XOR_MAPPED_ADDRESS);
	if (!a)
		a = tp_stun_find(m, TP_ATTR_MAPPED_ADDRESS);
	res->has_mapped = a && tp_attr_addr(m, a, &res->mapped) == TP_P_OK;
	a = tp_stun_find(m, TP_ATTR_OTHER_ADDRESS);
	res->has_other = a && tp_attr_addr(m, a, &res->other) == TP_P_OK;
	a = tp_stun_find(m, TP_ATTR_RESPONSE_ORIGIN);
	res->has_origin = a && tp_attr_addr(m, a, &res->origin) == TP_P_OK;
	a = tp_stun_find(m, TP_ATTR_SOFTWARE);
	if (a)
		copy_str(a, res->software, sizeof(res->software));
	return 0;
}

int stun_parse_binding(const uint8_t *b, size_t n, struct bind_res *res)
{
	struct tp_stun_msg m;

	memset(res, 0, sizeof(*res));
	if (tp_stun_decode(&m, b, n, NULL) != TP_P_OK || m.method != TP_METHOD_BINDING ||
	    (m.cls != TP_CLASS_SUCCESS && m.cls != TP_CLASS_ERROR))
		return -EPROTO;
	return parse(&m, res);
}

/* Wait for a message with tid on fd until deadline; classes accepted by mask
 * (1 << class). The datagram stays in buf. Returns its length, 0, or <0. */
static long wait_tid(int fd, const uint8_t *tid, unsigned mask, uint8_t *buf, size_t cap,
                     struct tp_addr *from, int64_t deadline, struct tp_stun_msg *m)
{
	for (;;) {
		int left = probe_left(deadline);
		long n;

		if (left == 0)
			return 0;
		n = probe_recvfrom(fd, buf, cap, from, left);
		if (n == 0)
			return 0;
		if (n == -EAGAIN)
			continue;
		if (n < 0)
			return n;
		if (tp_stun_decode(m, buf, (size_t)n, NULL) != TP_P_OK || m->classic ||
		    memcmp(m->tid, tid, TP_STUN_TID_LEN) != 0 || !(mask & (1u << m->cls)))
			continue;
		return n;
	}
}

int stun_binding(int fd, const struct tp_addr *to, const struct bind_req *rq, int ms,
                 struct bind_res *res)
{
	return stun_binding_via(fd, fd, to, rq, ms, res);
}

int stun_binding_via(int fd, int fd_rx, const struct tp_addr *to, const struct bind_req *rq,
                     int ms, struct bind_res *res)
{
	uint8_t tid[TP_STUN_TID_LEN], req[1400], buf[2048];
	int64_t end = probe_now_ms() + ms, next;
	double t0 = probe_now_msf();
	struct tp_stun_msg m;
	int rto = RTO_MS;
	long len;

	memset(res, 0, sizeof(*res));
	if (tp_stun_new_tid(tid) != 0)
		return -EIO;
	len = build(req, sizeof(req), tid, rq);
	if (len < 0)
		return (int)len;
	for (;;) {
		long n;
		int rc = probe_sendto(fd, to, req, (size_t)len);

		if (rc == -ECONNREFUSED || rc == -ENETUNREACH || rc == -EHOSTUNREACH)
			return rc;
		next = probe_now_ms() + rto;
		if (next > end)
			next = end;
		n = wait_tid(fd_rx, tid, 1u << TP_CLASS_SUCCESS | 1u << TP_CLASS_ERROR, buf, sizeof(buf),
		             &res->from, next, &m);
		if (n < 0 && n != -ECONNREFUSED)
			return (int)n;
		if (n > 0) {
			res->rtt_ms = probe_now_msf() - t0;
			return parse(&m, res);
		}
		if (probe_left(end) == 0)
			return n == -ECONNREFUSED ? -ECONNREFUSED : -ETIMEDOUT;
		rto *= 2;
	}
}

int stun_hairpin(int fd_tx, int fd_rx, const struct tp_addr *to, int ms)
{
	uint8_t tid[TP_STUN_TID_LEN], req[256], buf[2048];
	int64_t end = probe_now_ms() + ms;
	struct tp_stun_msg m;
	struct tp_addr from;
	long len;

	if (tp_stun_new_tid(tid) != 0)
		return 0;
	len = build(req, sizeof(req), tid, NULL);
	if (len < 0)
		return 0;
	for (int i = 0; i < 3 && probe_left(end); i++) {
		int64_t next = probe_now_ms() + ms / 3;

		probe_sendto(fd_tx, to, req, (size_t)len);
		if (wait_tid(fd_rx, tid, 1u << TP_CLASS_REQUEST, buf, sizeof(buf), &from,
		             next < end ? next : end, &m) > 0)
			return 1;
	}
	return 0;
}
