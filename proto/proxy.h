/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * proxy.h - the PROXY protocol header, versions 1 and 2 (HAProxy's
 * proxy-protocol.txt), as a load balancer sends it at the start of a TCP
 * connection to pass on the client's address. Included by proto.h.
 *
 * tp_proxy_parse reads a header from the first bytes of a connection. It is
 * strict: v1 is one line "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" (single
 * spaces, addresses of the named family, decimal ports 0-65535 without leading
 * zeros) or "PROXY UNKNOWN...\r\n", at most 107 bytes; v2 is the 12-byte
 * signature, version 2, command LOCAL or PROXY, family UNSPEC, TCP over IPv4
 * or TCP over IPv6, and a length that holds the addresses and well-formed
 * TLVs (skipped), at most TP_PROXY_V2_MAX bytes in all. UDP and UNIX
 * families are refused: a TURN stream's client is a TCP endpoint.
 *
 * Results:
 *   TP_P_OK         h is filled; h->len bytes are the header, the stream
 *                   (TLS or STUN) starts right after them.
 *   TP_P_NEED_MORE  no complete header yet and every byte given belongs to it
 *                   (so a reader may consume them all and read on).
 *   TP_P_NOT_PROXY  the first bytes are not a PROXY signature.
 *   other           a malformed header (*why says what): close the connection.
 */
#ifndef TP_PROXY_H
#define TP_PROXY_H

#define TP_PROXY_V1_MAX 107   /* the spec's bound, CRLF included */
#define TP_PROXY_V2_HDR 16    /* signature, ver/cmd, fam/proto, length */
#define TP_PROXY_V2_MAX 536   /* the spec's suggested receive bound */
#define TP_PROXY_MAX TP_PROXY_V2_MAX

enum tp_proxy_cmd {
	TP_PROXY_LOCAL = 0,   /* v2 LOCAL (health checks): use the connection's own addresses */
	TP_PROXY_PROXY = 1,   /* relayed on behalf of src */
};

struct tp_proxy_hdr {
	uint8_t version;      /* 1 or 2 */
	uint8_t command;      /* enum tp_proxy_cmd */
	uint16_t family;      /* AF_INET, AF_INET6; 0 (LOCAL, v1 UNKNOWN, v2 UNSPEC):
	                         use the connection's own addresses */
	struct tp_addr src;   /* the client, when family != 0 */
	struct tp_addr dst;   /* the address the client connected to */
	size_t len;           /* bytes of the header */
};

enum tp_perr tp_proxy_parse(struct tp_proxy_hdr *h, const uint8_t *b, size_t n,
                            const char **why);

#endif
