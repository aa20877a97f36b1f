/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * names.c - names for logs and the probe: decoder errors, methods, attribute
 * types and the standard reason phrases of error codes.
 */
#include "proto.h"

static const char *const perr_names[TP_P__COUNT] = {
	[TP_P_OK] = "ok",
	[TP_P_NEED_MORE] = "need more bytes",
	[TP_P_SHORT_HEADER] = "shorter than a STUN header",
	[TP_P_NOT_STUN] = "not STUN",
	[TP_P_BAD_LENGTH] = "length not a multiple of 4",
	[TP_P_LENGTH_MISMATCH] = "length does not match the message",
	[TP_P_ATTR_TRUNCATED] = "attribute header truncated",
	[TP_P_ATTR_OVERRUN] = "attribute overruns the message",
	[TP_P_TOO_MANY_ATTRS] = "too many attributes",
	[TP_P_FINGERPRINT_NOT_LAST] = "FINGERPRINT not last",
	[TP_P_FINGERPRINT_BAD] = "FINGERPRINT mismatch",
	[TP_P_BAD_ATTR_LEN] = "bad attribute length",
	[TP_P_BAD_FAMILY] = "bad address family",
	[TP_P_BAD_VALUE] = "bad attribute value",
	[TP_P_BAD_CLASS] = "class not allowed for the method",
	[TP_P_INTEGRITY_ORDER] = "MESSAGE-INTEGRITY after MESSAGE-INTEGRITY-SHA256",
	[TP_P_NO_INTEGRITY] = "no message integrity",
	[TP_P_INTEGRITY_BAD] = "message integrity mismatch",
	[TP_P_CHAN_RANGE] = "channel number out of range",
	[TP_P_CHAN_TRUNCATED] = "ChannelData truncated",
	[TP_P_FRAME_TOO_LONG] = "frame too long",
	[TP_P_BAD_UTF8] = "invalid UTF-8",
	[TP_P_PRECIS_DISALLOWED] = "code point disallowed by OpaqueString",
	[TP_P_EMPTY] = "empty string",
	[TP_P_NOT_PROXY] = "not a PROXY protocol header",
};

const char *tp_perr_str(enum tp_perr e)
{
	if ((unsigned)e >= TP_P__COUNT || !perr_names[e])
		return "?";
	return perr_names[e];
}

static const char *const method_names[] = {
	[TP_METHOD_BINDING] = "BINDING",
	[TP_METHOD_ALLOCATE] = "ALLOCATE",
	[TP_METHOD_REFRESH] = "REFRESH",
	[TP_METHOD_SEND] = "SEND",
	[TP_METHOD_DATA] = "DATA",
	[TP_METHOD_CREATE_PERMISSION] = "CREATE-PERMISSION",
	[TP_METHOD_CHANNEL_BIND] = "CHANNEL-BIND",
	[TP_METHOD_CONNECT] = "CONNECT",
	[TP_METHOD_CONNECTION_BIND] = "CONNECTION-BIND",
	[TP_METHOD_CONNECTION_ATTEMPT] = "CONNECTION-ATTEMPT",
};

const char *tp_method_name(uint16_t method)
{
	if (method >= sizeof(method_names) / sizeof(method_names[0]) || !method_names[method])
		return "?";
	return method_names[method];
}

static const char *const attr_lo[0x30] = {
	[0x0001] = "MAPPED-ADDRESS",
	[0x0003] = "CHANGE-REQUEST",
	[0x0006] = "USERNAME",
	[0x0008] = "MESSAGE-INTEGRITY",
	[0x0009] = "ERROR-CODE",
	[0x000A] = "UNKNOWN-ATTRIBUTES",
	[0x000C] = "CHANNEL-NUMBER",
	[0x000D] = "LIFETIME",
	[0x0012] = "XOR-PEER-ADDRESS",
	[0x0013] = "DATA",
	[0x0014] = "REALM",
	[0x0015] = "NONCE",
	[0x0016] = "XOR-RELAYED-ADDRESS",
	[0x0017] = "REQUESTED-ADDRESS-FAMILY",
	[0x0018] = "EVEN-PORT",
	[0x0019] = "REQUESTED-TRANSPORT",
	[0x001A] = "DONT-FRAGMENT",
	[0x001C] = "MESSAGE-INTEGRITY-SHA256",
	[0x001D] = "PASSWORD-ALGORITHM",
	[0x001E] = "USERHASH",
	[0x0020] = "XOR-MAPPED-ADDRESS",
	[0x0022] = "RESERVATION-TOKEN",
	[0x0024] = "PRIORITY",
	[0x0025] = "USE-CANDIDATE",
	[0x0026] = "PADDING",
	[0x0027] = "RESPONSE-PORT",
	[0x002A] = "CONNECTION-ID",
};

static const char *const attr_hi[0x31] = {
	[0x00] = "ADDITIONAL-ADDRESS-FAMILY",
	[0x01] = "ADDRESS-ERROR-CODE",
	[0x02] = "PASSWORD-ALGORITHMS",
	[0x03] = "ALTERNATE-DOMAIN",
	[0x04] = "ICMP",
	[0x22] = "SOFTWARE",
	[0x23] = "ALTERNATE-SERVER",
	[0x28] = "FINGERPRINT",
	[0x29] = "ICE-CONTROLLED",
	[0x2A] = "ICE-CONTROLLING",
	[0x2B] = "RESPONSE-ORIGIN",
	[0x2C] = "OTHER-ADDRESS",
	[0x30] = "MOBILITY-TICKET",
};

const char *tp_attr_name(uint16_t type)
{
	const char *s = NULL;

	if (type < 0x30)
		s = attr_lo[type];
	else if (type >= 0x8000 && type <= 0x8030)
		s = attr_hi[type - 0x8000];
	return s ? s : "?";
}

const char *tp_error_reason(uint16_t code)
{
	switch (code) {
	case 300: return "Try Alternate";
	case 400: return "Bad Request";
	case 401: return "Unauthenticated";
	case 403: return "Forbidden";
	case 405: return "Mobility Forbidden";
	case 420: return "Unknown Attribute";
	case 437: return "Allocation Mismatch";
	case 438: return "Stale Nonce";
	case 440: return "Address Family not Supported";
	case 441: return "Wrong Credentials";
	case 442: return "Unsupported Transport Protocol";
	case 443: return "Peer Address Family Mismatch";
	case 446: return "Connection Already Exists";
	case 447: return "Connection Timeout or Failure";
	case 486: return "Allocation Quota Reached";
	case 487: return "Role Conflict";
	case 500: return "Server Error";
	case 508: return "Insufficient Capacity";
	default: return "?";
	}
}
