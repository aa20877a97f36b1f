/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * addr.c - struct tp_addr: conversion to and from sockaddr, comparison,
 * formatting and parsing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "proto.h"

int tp_addr_from_sa(struct tp_addr *a, const struct sockaddr *sa)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		a->family = AF_INET;
		a->port = ntohs(s4->sin_port);
		memcpy(a->ip, &s4->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		a->family = AF_INET6;
		a->port = ntohs(s6->sin6_port);
		memcpy(a->ip, &s6->sin6_addr, 16);
		return 0;
	}
	return -EAFNOSUPPORT;
}

unsigned tp_addr_to_sa(const struct tp_addr *a, void *ss)
{
	if (a->family == AF_INET) {
		struct sockaddr_in *s4 = ss;

		memset(s4, 0, sizeof(*s4));
		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		memcpy(&s4->sin_addr, a->ip, 4);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = ss;

	memset(s6, 0, sizeof(*s6));
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(a->port);
	memcpy(&s6->sin6_addr, a->ip, 16);
	return sizeof(*s6);
}

static size_t ip_len(const struct tp_addr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

bool tp_addr_ip_eq(const struct tp_addr *a, const struct tp_addr *b)
{
	return a->family == b->family && memcmp(a->ip, b->ip, ip_len(a)) == 0;
}

bool tp_addr_eq(const struct tp_addr *a, const struct tp_addr *b)
{
	return a->port == b->port && tp_addr_ip_eq(a, b);
}

int tp_addr_fmt(const struct tp_addr *a, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	if ((a->family != AF_INET && a->family != AF_INET6) ||
	    !inet_ntop(a->family, a->ip, ip, sizeof(ip)))
		return snprintf(buf, cap, "?");
	if (a->family == AF_INET)
		return snprintf(buf, cap, "%s:%u", ip, a->port);
	return snprintf(buf, cap, "[%s]:%u", ip, a->port);
}

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int tp_addr_parse(struct tp_addr *a, const char *s, uint16_t def_port)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL, *colon;
	size_t hlen;

	memset(a, 0, sizeof(*a));
	a->port = def_port;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close)
			return -EINVAL;
		hlen = (size_t)(close - s - 1);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return -EINVAL;
		s++;
	} else if ((colon = strchr(s, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
		hlen = (size_t)(colon - s);  /* exactly one colon: IPv4 with a port */
		port = colon + 1;
	} else {
		hlen = strlen(s);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (port && parse_port(port, &a->port) != 0)
		return -EINVAL;
	if (inet_pton(AF_INET, host, a->ip) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, host, a->ip) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}
