/*
 * client.c - building TURN requests and reading their responses, for the bench.
 *
 * Long-term credentials with MD5 keys (RFC 8489 §9.2): the first request of a
 * session goes without credentials, the 401 names the realm and nonce, and
 * the request is sent again with USERNAME, REALM, NONCE and MESSAGE-INTEGRITY.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "bench.h"

const char *tp_bench_user = "bench", *tp_bench_pass = "bench";

void tp_tid_make(uint8_t tid[12], uint64_t a, uint32_t b)
{
	memcpy(tid, &a, 8);
	memcpy(tid + 8, &b, 4);
}

long tp_req_build(uint8_t *buf, size_t cap, const struct tp_req *r, const uint8_t tid[12],
                  const struct tp_sess *s)
{
	struct tp_stun_wr w;

	tp_stun_wr_init(&w, buf, cap, r->method, TP_CLASS_REQUEST, tid);
	if (r->method == TP_METHOD_ALLOCATE)
		tp_stun_put_transport(&w, TP_TRANSPORT_UDP);
	if (r->lifetime >= 0)
		tp_stun_put_u32(&w, TP_ATTR_LIFETIME, (uint32_t)r->lifetime);
	if (r->chan)
		tp_stun_put_channel(&w, r->chan);
	if (r->peer)
		tp_stun_put_addr(&w, TP_ATTR_XOR_PEER_ADDRESS, r->peer);
	if (r->auth && s->authed) {
		tp_stun_put_str(&w, TP_ATTR_USERNAME, tp_bench_user, strlen(tp_bench_user));
		tp_stun_put_str(&w, TP_ATTR_REALM, s->realm, s->realm_len);
		tp_stun_put_str(&w, TP_ATTR_NONCE, s->nonce, s->nonce_len);
		tp_stun_put_mi(&w, s->key, s->key_len);
	}
	tp_stun_put_fingerprint(&w);
	return tp_stun_wr_finish(&w);
}

static void take_challenge(const struct tp_stun_msg *m, struct tp_sess *s)
{
	const struct tp_stun_attr *realm = tp_stun_find(m, TP_ATTR_REALM);
	const struct tp_stun_attr *nonce = tp_stun_find(m, TP_ATTR_NONCE);
	const char *str;
	size_t len;

	if (!nonce)
		return;
	tp_attr_str(nonce, &str, &len);
	if (len > TP_MAX_NONCE)
		return;
	memcpy(s->nonce, str, len);
	s->nonce_len = len;
	if (realm) {
		tp_attr_str(realm, &str, &len);
		if (len <= TP_MAX_REALM && (len != s->realm_len || memcmp(str, s->realm, len) != 0 ||
		                            s->key_len == 0)) {
			memcpy(s->realm, str, len);
			s->realm_len = len;
			if (tp_key_long_term(TP_PWALG_MD5, tp_bench_user, strlen(tp_bench_user),
			                     s->realm, len, tp_bench_pass, strlen(tp_bench_pass),
			                     s->key, &s->key_len) != TP_P_OK)
				s->key_len = 0;
		}
	}
	s->authed = s->key_len > 0;
}

int tp_resp_read(const uint8_t *b, size_t n, const uint8_t tid[12], struct tp_sess *s,
                 struct tp_addr *relayed)
{
	struct tp_stun_msg m;
	const struct tp_stun_attr *a;
	struct tp_error_code ec;

	if (tp_stun_decode(&m, b, n, NULL) != TP_P_OK || m.classic ||
	    memcmp(m.tid, tid, TP_STUN_TID_LEN) != 0)
		return -1;
	if (m.cls == TP_CLASS_SUCCESS) {
		a = tp_stun_find(&m, TP_ATTR_XOR_RELAYED_ADDRESS);
		if (relayed && a && tp_attr_addr(&m, a, relayed) != TP_P_OK)
			memset(relayed, 0, sizeof(*relayed));
		return 0;
	}
	if (m.cls != TP_CLASS_ERROR)
		return -1;
	a = tp_stun_find(&m, TP_ATTR_ERROR_CODE);
	if (!a)
		return -1;
	tp_attr_error_code(a, &ec);
	if (ec.code == 401 || ec.code == 438)
		take_challenge(&m, s);
	return ec.code;
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

int tp_transact(int fd, struct tp_sess *s, const struct tp_req *r, struct tp_addr *relayed)
{
	static uint32_t seq;
	uint8_t req[1024], resp[2048], tid[12];
	int rc = -ETIMEDOUT;

	for (int round = 0; round < 3; round++) {
		long len;

		tp_tid_make(tid, tp_bench_now(), ++seq);
		len = tp_req_build(req, sizeof(req), r, tid, s);
		if (len < 0)
			return (int)len;
		rc = -ETIMEDOUT;
		for (int tx = 0; tx < 4 && rc == -ETIMEDOUT; tx++) {
			struct pollfd pfd = { fd, POLLIN, 0 };
			uint64_t until = tp_bench_now() + 500000000ull;

			if (send(fd, req, (size_t)len, 0) < 0)
				return -errno;
			while (rc == -ETIMEDOUT) {
				uint64_t now = tp_bench_now();
				ssize_t n;

				if (now >= until || poll(&pfd, 1, (int)((until - now) / 1000000) + 1) <= 0)
					break;
				n = recv(fd, resp, sizeof(resp), 0);
				if (n > 0) {
					int v = tp_resp_read(resp, (size_t)n, tid, s, relayed);

					if (v >= 0)
						rc = v;
				}
			}
		}
		if ((rc == 401 || rc == 438) && r->auth && s->authed)
			continue;   /* the session took the new nonce: try again */
		break;
	}
	return rc;
}
