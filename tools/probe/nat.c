/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat.c - RFC 5780 behaviour discovery from the probe's side: filtering (§4.4)
 * on a fresh socket that has talked only to the primary address, mapping
 * (§4.3) on another, hairpinning (§4.5), and the binding lifetime (§4.6,
 * bounded: sockets mapped at once and checked at growing ages through
 * RESPONSE-PORT, so the whole test lasts at most its bound).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"

#define TEST_MS 1500     /* per RFC 5780 test */
#define MAX_AGES 8

static int sock_on(const struct tp_addr *local_ip, struct tp_addr *bound)
{
	struct tp_addr a = *local_ip;
	int fd;

	a.port = 0;
	fd = probe_udp_socket(&a);
	if (fd >= 0 && probe_sockname(fd, bound) != 0)
		*bound = a;
	return fd;
}

static int test_ms(int64_t deadline)
{
	int left = probe_left(deadline);

	return left < TEST_MS ? left : TEST_MS;
}

/* An answer that must come from the address the CHANGE-REQUEST asked for. */
static int changed_answer(int fd, const struct tp_addr *srv, uint32_t change,
                          const struct tp_addr *expect_ip, uint16_t expect_port, int ms)
{
	struct bind_req rq = { .change = change };
	struct bind_res res;

	if (stun_binding(fd, srv, &rq, ms, &res) != 0 || res.code != 0)
		return 0;
	return tp_addr_ip_eq(&res.from, expect_ip) && res.from.port == expect_port;
}

static void filtering(struct r_nat *n, const struct tp_addr *srv, const struct tp_addr *local_ip,
                      int64_t deadline)
{
	struct bind_res res;
	struct tp_addr bound;
	bool t1;
	int fd = sock_on(local_ip, &bound);

	n->filt_t2 = n->filt_t3 = -1;
	if (fd < 0) {
		snprintf(n->filt_evidence, sizeof(n->filt_evidence), "socket: %s", strerror(-fd));
		return;
	}
	t1 = stun_binding(fd, srv, NULL, test_ms(deadline), &res) == 0 && res.code == 0;
	if (t1 && probe_left(deadline)) {
		n->filt_t2 = changed_answer(fd, srv, TP_CHANGE_IP | TP_CHANGE_PORT, &n->other,
		                            n->other.port, test_ms(deadline));
		if (!n->filt_t2 && probe_left(deadline))
			n->filt_t3 = changed_answer(fd, srv, TP_CHANGE_PORT, srv, n->other.port,
			                            test_ms(deadline));
	}
	n->filtering = classify_filtering(t1, n->filt_t2, n->filt_t3, n->filt_evidence,
	                                  sizeof(n->filt_evidence));
	close(fd);
}

static void hairpin(struct r_nat *n, int fd_m, const struct tp_addr *local_ip, int64_t deadline)
{
	struct tp_addr bound;
	char a[64];
	int fd = sock_on(local_ip, &bound);

	if (fd < 0 || !n->has_m[0]) {
		n->hairpin = -1;
		snprintf(n->hairpin_evidence, sizeof(n->hairpin_evidence), "not tested");
		if (fd >= 0)
			close(fd);
		return;
	}
	tp_addr_fmt(&n->m[0], a, sizeof(a));
	n->hairpin = stun_hairpin(fd, fd_m, &n->m[0], test_ms(deadline));
	snprintf(n->hairpin_evidence, sizeof(n->hairpin_evidence),
	         n->hairpin ? "a packet sent from a second local socket to the mapped address %s "
	                      "came back to the first socket"
	                    : "a packet sent from a second local socket to the mapped address %s "
	                      "never arrived: the NAT does not loop packets back",
	         a);
	close(fd);
}

static void mapping(struct r_nat *n, const struct tp_addr *srv, const struct tp_addr *local_ip,
                    int64_t deadline)
{
	struct tp_addr to[3], bound;
	struct bind_res res;
	int fd = sock_on(local_ip, &bound);

	if (fd < 0) {
		snprintf(n->map_evidence, sizeof(n->map_evidence), "socket: %s", strerror(-fd));
		return;
	}
	n->local = bound;
	to[0] = *srv;
	to[1] = n->other;
	to[1].port = srv->port;     /* test II: other IP, primary port */
	to[2] = n->other;           /* test III: other IP, other port */
	for (int i = 0; i < 3 && probe_left(deadline); i++) {
		if (stun_binding(fd, &to[i], NULL, test_ms(deadline), &res) == 0 && res.code == 0 &&
		    res.has_mapped) {
			n->m[i] = res.mapped;
			n->has_m[i] = true;
		}
		if (!n->has_m[i] || (i == 0 && tp_addr_eq(&res.mapped, &bound)))
			break;
		if (i == 1 && tp_addr_eq(&n->m[0], &n->m[1]))
			break;
	}
	n->mapping = classify_mapping(&bound, n->has_m[0] ? &n->m[0] : NULL,
	                              n->has_m[1] ? &n->m[1] : NULL,
	                              n->has_m[2] ? &n->m[2] : NULL, n->map_evidence,
	                              sizeof(n->map_evidence));
	hairpin(n, fd, local_ip, deadline);
	close(fd);
}

void nat_run(struct probe_result *r, const struct tp_addr *srv, const struct tp_addr *local_ip,
             int64_t deadline)
{
	struct r_nat *n = &r->nat;
	struct tp_addr bound;
	struct bind_res res;
	struct bind_req rq = { .change = TP_CHANGE_PORT };
	int fd, rc;

	n->ran = true;
	n->hairpin = -1;
	n->filt_t2 = n->filt_t3 = -1;
	fd = sock_on(local_ip, &bound);
	if (fd < 0) {
		snprintf(n->why_not, sizeof(n->why_not), "socket: %s", strerror(-fd));
		return;
	}
	rc = stun_binding(fd, srv, NULL, test_ms(deadline), &res);
	if (rc != 0 || res.code) {
		snprintf(n->why_not, sizeof(n->why_not), "the server did not answer a Binding request");
		close(fd);
		return;
	}
	if (!res.has_other) {
		bool nat = !(res.has_mapped && tp_addr_eq(&res.mapped, &bound));
		int rc420 = stun_binding(fd, srv, &rq, test_ms(deadline), &res);

		snprintf(n->why_not, sizeof(n->why_not),
		         "the server does not support RFC 5780 (no OTHER-ADDRESS%s): %s",
		         rc420 == 0 && res.code == 420 ? "; CHANGE-REQUEST answered with 420" : "",
		         nat ? "a NAT is present, its type cannot be measured against this server"
		             : "no NAT (the mapped address is the local one)");
		n->mapping = nat ? MAP_UNKNOWN : MAP_NONE;
		snprintf(n->map_evidence, sizeof(n->map_evidence), "%s", n->why_not);
		close(fd);
		return;
	}
	close(fd);
	n->rfc5780 = true;
	n->other = res.other;
	filtering(n, srv, local_ip, deadline);
	mapping(n, srv, local_ip, deadline);
}

void nat_lifetime(struct probe_result *r, const struct tp_addr *srv,
                  const struct tp_addr *local_ip, int max_s)
{
	static const int ages[MAX_AGES] = { 5, 10, 20, 40, 80, 160, 320, 600 };
	struct r_nat *n = &r->nat;
	int fds[MAX_AGES], k = 0, probe_fd = -1;
	struct tp_addr mapped[MAX_AGES], bound;
	struct bind_res res;
	int64_t t0;

	n->lifetime_state = -1;
	if (!n->rfc5780) {
		snprintf(n->lifetime_evidence, sizeof(n->lifetime_evidence),
		         "not measured: needs RESPONSE-PORT (RFC 5780) on the server");
		return;
	}
	if (n->mapping == MAP_NONE) {
		n->lifetime_state = 1;
		snprintf(n->lifetime_evidence, sizeof(n->lifetime_evidence),
		         "no NAT: nothing expires");
		return;
	}
	t0 = probe_now_ms();
	for (; k < MAX_AGES && ages[k] <= max_s; k++) {
		fds[k] = sock_on(local_ip, &bound);
		if (fds[k] < 0 || stun_binding(fds[k], srv, NULL, 1000, &res) != 0 || !res.has_mapped) {
			if (fds[k] >= 0)
				close(fds[k]);
			break;
		}
		mapped[k] = res.mapped;
	}
	probe_fd = sock_on(local_ip, &bound);
	n->alive_s = 0;
	n->expired_s = 0;
	for (int i = 0; i < k && probe_fd >= 0; i++) {
		struct bind_req rq = { .response_port = mapped[i].port };
		int64_t at = t0 + (int64_t)ages[i] * 1000;

		while (probe_now_ms() < at)
			usleep(100000);
		/* Sent from a fresh socket; the answer goes to our NAT address at the old
		 * mapping's port, from the address that mapping last talked to. */
		if (stun_binding_via(probe_fd, fds[i], srv, &rq, 1000, &res) == 0 && res.code == 0) {
			n->alive_s = ages[i];
		} else {
			n->expired_s = ages[i];
			break;
		}
	}
	for (int i = 0; i < k; i++)
		close(fds[i]);
	if (probe_fd >= 0)
		close(probe_fd);
	if (!k) {
		snprintf(n->lifetime_evidence, sizeof(n->lifetime_evidence), "not measured");
		return;
	}
	n->lifetime_state = 1;
	if (n->expired_s)
		snprintf(n->lifetime_evidence, sizeof(n->lifetime_evidence),
		         "an idle mapping still worked after %d s and was gone after %d s",
		         n->alive_s, n->expired_s);
	else
		snprintf(n->lifetime_evidence, sizeof(n->lifetime_evidence),
		         "an idle mapping still worked after %d s (the longest tested, bound %d s)",
		         n->alive_s, max_s);
}
