/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * client.c - the bench's TURN requests over connected UDP sockets. The
 * protocol (credentials, challenges, matching answers) is proto's tp_tc; this
 * file keeps the bench's choices and the blocking transaction (retransmission
 * every 500 ms, 4 transmissions, 3 rounds).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "bench.h"

const char *tp_bench_user = "bench", *tp_bench_pass = "bench";

/* The bench's sessions all live on its main thread: one HMAC cache for all
 * (OpenSSL 3 would otherwise fetch and allocate for every MAC), kept until exit. */
static struct tp_crypto *crypto;

void tp_sess_init(struct tp_tc *s)
{
	if (!crypto)
		crypto = tp_crypto_new();
	tp_tc_init(s, &(struct tp_tc_opts){ .alg = TP_TC_ALG_RFC5389, .mi = TP_TC_MI_SHA1,
	                                    .fingerprint = true, .crypto = crypto });
	tp_tc_set_password(s, tp_bench_user, strlen(tp_bench_user), tp_bench_pass,
	                   strlen(tp_bench_pass));
}

void tp_tid_make(uint8_t tid[12], uint64_t a, uint32_t b)
{
	memcpy(tid, &a, 8);
	memcpy(tid + 8, &b, 4);
}

long tp_req_build(uint8_t *buf, size_t cap, const struct tp_req *r, const uint8_t tid[12],
                  struct tp_tc *s)
{
	struct tp_stun_wr w;
	int rc = tp_tc_begin(s, &w, buf, cap, r->method, tid);

	if (rc)
		return rc;
	if (r->method == TP_METHOD_ALLOCATE)
		tp_stun_put_transport(&w, TP_TRANSPORT_UDP);
	if (r->lifetime >= 0)
		tp_stun_put_u32(&w, TP_ATTR_LIFETIME, (uint32_t)r->lifetime);
	if (r->chan)
		tp_stun_put_channel(&w, r->chan);
	if (r->peer)
		tp_stun_put_addr(&w, TP_ATTR_XOR_PEER_ADDRESS, r->peer);
	return tp_tc_finish(s, &w, r->auth ? 0 : TP_TC_NOAUTH);
}

bool tp_resp_is_answer(enum tp_tc_res res)
{
	return res != TP_TC_NOT_RESPONSE && res != TP_TC_NOT_OURS && res != TP_TC_MALFORMED &&
	       res != TP_TC_INTEGRITY_BAD;
}

enum tp_tc_res tp_resp_read(const uint8_t *b, size_t n, struct tp_tc *s, uint16_t *code,
                            struct tp_addr *relayed)
{
	struct tp_tc_resp r;
	enum tp_tc_res res = tp_tc_recv(s, b, n, &r);

	if (!tp_resp_is_answer(res))
		return res;
	if (res == TP_TC_UNAUTHENTICATED)
		tp_tc_cancel(s, r.m.tid);   /* taken as the answer: nothing waits any more */
	*code = r.code;
	if (r.code == 0 && relayed && r.nrelayed)
		*relayed = r.relayed[0];
	return res;
}

long tp_send_ind_build(uint8_t *buf, size_t cap, const struct tp_addr *peer, size_t len,
                       size_t *data_off)
{
	static const uint8_t zero[1500];
	uint8_t tid[12];
	struct tp_stun_wr w;
	long n;

	if (len > sizeof(zero))
		return -EINVAL;
	tp_tid_make(tid, 0x5345ull, 0);
	tp_stun_wr_init(&w, buf, cap, TP_METHOD_SEND, TP_CLASS_INDICATION, tid);
	tp_stun_put_addr(&w, TP_ATTR_XOR_PEER_ADDRESS, peer);
	tp_stun_put(&w, TP_ATTR_DATA, zero, len);
	n = tp_stun_wr_finish(&w);
	if (n < 0)
		return n;
	/* DATA is the last attribute: its value ends where the padding begins */
	*data_off = (size_t)n - ((len + 3) & ~(size_t)3);
	return n;
}

int tp_transact(int fd, struct tp_tc *s, const struct tp_req *r, struct tp_addr *relayed)
{
	static uint32_t seq;
	uint8_t req[1024], resp[2048], tid[12];
	int rc = -ETIMEDOUT;

	for (int round = 0; round < 3; round++) {
		enum tp_tc_res res = TP_TC_NOT_OURS;
		long len;

		tp_tid_make(tid, tp_bench_now(), ++seq);
		len = tp_req_build(req, sizeof(req), r, tid, s);
		if (len < 0)
			return (int)len;
		rc = -ETIMEDOUT;
		for (int tx = 0; tx < 4 && rc == -ETIMEDOUT; tx++) {
			struct pollfd pfd = { fd, POLLIN, 0 };
			uint64_t until = tp_bench_now() + 500000000ull;

			if (send(fd, req, (size_t)len, 0) < 0) {
				int err = -errno;

				tp_tc_cancel(s, tid);
				return err;
			}
			while (rc == -ETIMEDOUT) {
				uint64_t now = tp_bench_now();
				uint16_t code = 0;
				ssize_t n;

				if (now >= until ||
				    poll(&pfd, 1, (int)((until - now) / 1000000) + 1) <= 0)
					break;
				n = recv(fd, resp, sizeof(resp), 0);
				if (n <= 0)
					continue;
				res = tp_resp_read(resp, (size_t)n, s, &code, relayed);
				if (tp_resp_is_answer(res))
					rc = code;
			}
		}
		if (rc == -ETIMEDOUT)
			tp_tc_cancel(s, tid);
		if (res != TP_TC_RETRY || !r->auth)
			break;   /* TP_TC_RETRY: the session took the new nonce: try again */
	}
	return rc;
}
