/*
 * stun_integrity.c - MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5),
 * MESSAGE-INTEGRITY-SHA256 (§14.6), FINGERPRINT (§14.7), key derivation (§9),
 * USERHASH (§14.4) and transaction IDs.
 *
 * Verification never modifies the message: the HMAC runs over a copy of the
 * 20-byte header whose length field is patched to end at the integrity
 * attribute, followed by the body slice up to that attribute; the result is
 * compared with CRYPTO_memcmp. The writer side patches its own buffer, which
 * it owns.
 *
 * HMAC uses the OpenSSL 3 EVP_MAC interface (HMAC() is deprecated in 3.0).
 * No state is cached between calls: proto keeps no globals.
 */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "proto.h"
#include "rd.h"

/* Longest OpaqueString output accepted for a password (3 bytes per input byte). */
#define PREP_MAX 3072

static const uint32_t crc_table[256] = {
	0x00000000u, 0x77073096u, 0xee0e612cu, 0x990951bau, 0x076dc419u, 0x706af48fu,
	0xe963a535u, 0x9e6495a3u, 0x0edb8832u, 0x79dcb8a4u, 0xe0d5e91eu, 0x97d2d988u,
	0x09b64c2bu, 0x7eb17cbdu, 0xe7b82d07u, 0x90bf1d91u, 0x1db71064u, 0x6ab020f2u,
	0xf3b97148u, 0x84be41deu, 0x1adad47du, 0x6ddde4ebu, 0xf4d4b551u, 0x83d385c7u,
	0x136c9856u, 0x646ba8c0u, 0xfd62f97au, 0x8a65c9ecu, 0x14015c4fu, 0x63066cd9u,
	0xfa0f3d63u, 0x8d080df5u, 0x3b6e20c8u, 0x4c69105eu, 0xd56041e4u, 0xa2677172u,
	0x3c03e4d1u, 0x4b04d447u, 0xd20d85fdu, 0xa50ab56bu, 0x35b5a8fau, 0x42b2986cu,
	0xdbbbc9d6u, 0xacbcf940u, 0x32d86ce3u, 0x45df5c75u, 0xdcd60dcfu, 0xabd13d59u,
	0x26d930acu, 0x51de003au, 0xc8d75180u, 0xbfd06116u, 0x21b4f4b5u, 0x56b3c423u,
	0xcfba9599u, 0xb8bda50fu, 0x2802b89eu, 0x5f058808u, 0xc60cd9b2u, 0xb10be924u,
	0x2f6f7c87u, 0x58684c11u, 0xc1611dabu, 0xb6662d3du, 0x76dc4190u, 0x01db7106u,
	0x98d220bcu, 0xefd5102au, 0x71b18589u, 0x06b6b51fu, 0x9fbfe4a5u, 0xe8b8d433u,
	0x7807c9a2u, 0x0f00f934u, 0x9609a88eu, 0xe10e9818u, 0x7f6a0dbbu, 0x086d3d2du,
	0x91646c97u, 0xe6635c01u, 0x6b6b51f4u, 0x1c6c6162u, 0x856530d8u, 0xf262004eu,
	0x6c0695edu, 0x1b01a57bu, 0x8208f4c1u, 0xf50fc457u, 0x65b0d9c6u, 0x12b7e950u,
	0x8bbeb8eau, 0xfcb9887cu, 0x62dd1ddfu, 0x15da2d49u, 0x8cd37cf3u, 0xfbd44c65u,
	0x4db26158u, 0x3ab551ceu, 0xa3bc0074u, 0xd4bb30e2u, 0x4adfa541u, 0x3dd895d7u,
	0xa4d1c46du, 0xd3d6f4fbu, 0x4369e96au, 0x346ed9fcu, 0xad678846u, 0xda60b8d0u,
	0x44042d73u, 0x33031de5u, 0xaa0a4c5fu, 0xdd0d7cc9u, 0x5005713cu, 0x270241aau,
	0xbe0b1010u, 0xc90c2086u, 0x5768b525u, 0x206f85b3u, 0xb966d409u, 0xce61e49fu,
	0x5edef90eu, 0x29d9c998u, 0xb0d09822u, 0xc7d7a8b4u, 0x59b33d17u, 0x2eb40d81u,
	0xb7bd5c3bu, 0xc0ba6cadu, 0xedb88320u, 0x9abfb3b6u, 0x03b6e20cu, 0x74b1d29au,
	0xead54739u, 0x9dd277afu, 0x04db2615u, 0x73dc1683u, 0xe3630b12u, 0x94643b84u,
	0x0d6d6a3eu, 0x7a6a5aa8u, 0xe40ecf0bu, 0x9309ff9du, 0x0a00ae27u, 0x7d079eb1u,
	0xf00f9344u, 0x8708a3d2u, 0x1e01f268u, 0x6906c2feu, 0xf762575du, 0x806567cbu,
	0x196c3671u, 0x6e6b06e7u, 0xfed41b76u, 0x89d32be0u, 0x10da7a5au, 0x67dd4accu,
	0xf9b9df6fu, 0x8ebeeff9u, 0x17b7be43u, 0x60b08ed5u, 0xd6d6a3e8u, 0xa1d1937eu,
	0x38d8c2c4u, 0x4fdff252u, 0xd1bb67f1u, 0xa6bc5767u, 0x3fb506ddu, 0x48b2364bu,
	0xd80d2bdau, 0xaf0a1b4cu, 0x36034af6u, 0x41047a60u, 0xdf60efc3u, 0xa867df55u,
	0x316e8eefu, 0x4669be79u, 0xcb61b38cu, 0xbc66831au, 0x256fd2a0u, 0x5268e236u,
	0xcc0c7795u, 0xbb0b4703u, 0x220216b9u, 0x5505262fu, 0xc5ba3bbeu, 0xb2bd0b28u,
	0x2bb45a92u, 0x5cb36a04u, 0xc2d7ffa7u, 0xb5d0cf31u, 0x2cd99e8bu, 0x5bdeae1du,
	0x9b64c2b0u, 0xec63f226u, 0x756aa39cu, 0x026d930au, 0x9c0906a9u, 0xeb0e363fu,
	0x72076785u, 0x05005713u, 0x95bf4a82u, 0xe2b87a14u, 0x7bb12baeu, 0x0cb61b38u,
	0x92d28e9bu, 0xe5d5be0du, 0x7cdcefb7u, 0x0bdbdf21u, 0x86d3d2d4u, 0xf1d4e242u,
	0x68ddb3f8u, 0x1fda836eu, 0x81be16cdu, 0xf6b9265bu, 0x6fb077e1u, 0x18b74777u,
	0x88085ae6u, 0xff0f6a70u, 0x66063bcau, 0x11010b5cu, 0x8f659effu, 0xf862ae69u,
	0x616bffd3u, 0x166ccf45u, 0xa00ae278u, 0xd70dd2eeu, 0x4e048354u, 0x3903b3c2u,
	0xa7672661u, 0xd06016f7u, 0x4969474du, 0x3e6e77dbu, 0xaed16a4au, 0xd9d65adcu,
	0x40df0b66u, 0x37d83bf0u, 0xa9bcae53u, 0xdebb9ec5u, 0x47b2cf7fu, 0x30b5ffe9u,
	0xbdbdf21cu, 0xcabac28au, 0x53b39330u, 0x24b4a3a6u, 0xbad03605u, 0xcdd70693u,
	0x54de5729u, 0x23d967bfu, 0xb3667a2eu, 0xc4614ab8u, 0x5d681b02u, 0x2a6f2b94u,
	0xb40bbe37u, 0xc30c8ea1u, 0x5a05df1bu, 0x2d02ef8du,
};

uint32_t tp_crc32(const uint8_t *b, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	for (size_t i = 0; i < n; i++)
		c = crc_table[(c ^ b[i]) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

/*
 * HMAC(key, a || b) with the named digest into out (outsz bytes of room).
 * Returns the MAC length, or 0 on a library failure.
 */
static size_t hmac2(const char *digest, const uint8_t *key, size_t key_len,
                    const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                    uint8_t *out, size_t outsz)
{
	static const uint8_t zero_key[1] = { 0 };
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	size_t n = 0;

	/* HMAC pads the key with zeros to the block size, so an empty key is the
	 * same as one zero byte; OpenSSL refuses a zero-length key. */
	if (key_len == 0) {
		key = zero_key;
		key_len = 1;
	}
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac)
		goto out;
	ctx = EVP_MAC_CTX_new(mac);
	if (!ctx)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, key, key_len, params) || !EVP_MAC_update(ctx, a, a_len) ||
	    (b_len && !EVP_MAC_update(ctx, b, b_len)) || !EVP_MAC_final(ctx, out, &n, outsz))
		n = 0;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return n;
}

/* HMAC over the message up to attribute a, with the length patched to end
 * after a (header copy + body slice). */
static size_t mac_upto(const struct tp_stun_msg *m, const struct tp_stun_attr *a,
                       const char *digest, const uint8_t *key, size_t key_len,
                       uint8_t out[32])
{
	uint8_t hdr[TP_STUN_HDR_LEN];

	memcpy(hdr, m->buf, TP_STUN_HDR_LEN);
	wr_u16(hdr + 2, (uint16_t)(a->off - TP_STUN_HDR_LEN + 4 + a->len));
	return hmac2(digest, key, key_len, hdr, TP_STUN_HDR_LEN, m->buf + TP_STUN_HDR_LEN,
	             a->off - (size_t)TP_STUN_HDR_LEN, out, 32);
}

enum tp_perr tp_stun_verify_mi(const struct tp_stun_msg *m, const uint8_t *key, size_t key_len)
{
	const struct tp_stun_attr *a;
	uint8_t mac[32];

	if (m->mi < 0)
		return TP_P_NO_INTEGRITY;
	a = &m->attrs[m->mi];
	if (mac_upto(m, a, "SHA1", key, key_len, mac) != 20 ||
	    CRYPTO_memcmp(mac, a->val, 20) != 0)
		return TP_P_INTEGRITY_BAD;
	return TP_P_OK;
}

enum tp_perr tp_stun_verify_mi256(const struct tp_stun_msg *m, const uint8_t *key, size_t key_len)
{
	const struct tp_stun_attr *a;
	uint8_t mac[32];

	if (m->mi256 < 0)
		return TP_P_NO_INTEGRITY;
	a = &m->attrs[m->mi256];
	/* the decoder guarantees 16 <= len <= 32 */
	if (mac_upto(m, a, "SHA256", key, key_len, mac) != 32 ||
	    CRYPTO_memcmp(mac, a->val, a->len) != 0)
		return TP_P_INTEGRITY_BAD;
	return TP_P_OK;
}

int tp_stun_put_mi(struct tp_stun_wr *w, const uint8_t *key, size_t key_len)
{
	uint8_t mac[20];
	uint8_t *p = tp_stun_wr_reserve(w, TP_ATTR_MESSAGE_INTEGRITY, 20);

	if (!p)
		return w->err;
	/* the length field already covers the MESSAGE-INTEGRITY attribute */
	if (hmac2("SHA1", key, key_len, w->buf, (size_t)(p - 4 - w->buf), NULL, 0, mac,
	          sizeof(mac)) != 20) {
		w->err = -EIO;
		return w->err;
	}
	memcpy(p, mac, 20);
	return 0;
}

int tp_stun_put_mi256(struct tp_stun_wr *w, const uint8_t *key, size_t key_len, size_t trunc)
{
	uint8_t mac[32];
	uint8_t *p;

	if (w->err)
		return w->err;
	if (trunc < 16 || trunc > 32 || (trunc & 3)) {
		w->err = -EINVAL;
		return w->err;
	}
	p = tp_stun_wr_reserve(w, TP_ATTR_MESSAGE_INTEGRITY_SHA256, trunc);
	if (!p)
		return w->err;
	if (hmac2("SHA256", key, key_len, w->buf, (size_t)(p - 4 - w->buf), NULL, 0, mac,
	          sizeof(mac)) != 32) {
		w->err = -EIO;
		return w->err;
	}
	memcpy(p, mac, trunc);
	return 0;
}

int tp_stun_put_fingerprint(struct tp_stun_wr *w)
{
	uint8_t *p = tp_stun_wr_reserve(w, TP_ATTR_FINGERPRINT, 4);

	if (!p)
		return w->err;
	wr_u32(p, tp_crc32(w->buf, (size_t)(p - 4 - w->buf)) ^ TP_FINGERPRINT_XOR);
	return 0;
}

/* H(part0 || part1 || ...) with the given digest; 0 on a library failure. */
static size_t digest_parts(const EVP_MD *md, const void *const *parts, const size_t *lens,
                           size_t nparts, uint8_t *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned n = 0;

	if (!ctx)
		return 0;
	if (!EVP_DigestInit_ex(ctx, md, NULL))
		goto out;
	for (size_t i = 0; i < nparts; i++)
		if (lens[i] && !EVP_DigestUpdate(ctx, parts[i], lens[i]))
			goto out;
	if (!EVP_DigestFinal_ex(ctx, out, &n))
		n = 0;
out:
	EVP_MD_CTX_free(ctx);
	return n;
}

/*
 * RFC 8489 §9.2.2: key = H(username ":" realm ":" OpaqueString(password)).
 * The username and realm are hashed as they appear in the message (they were
 * prepared by whoever sent them); the password is prepared here. A password
 * that OpaqueString refuses yields that error.
 */
enum tp_perr tp_key_long_term(enum tp_pw_alg alg, const char *user, size_t user_len,
                              const char *realm, size_t realm_len,
                              const char *pass, size_t pass_len,
                              uint8_t out[TP_KEY_MAX], size_t *out_len)
{
	char prep[PREP_MAX];
	size_t prep_len = 0;
	const EVP_MD *md;
	enum tp_perr e;

	if (alg == TP_PWALG_MD5)
		md = EVP_md5();
	else if (alg == TP_PWALG_SHA256)
		md = EVP_sha256();
	else
		return TP_P_BAD_VALUE;
	e = tp_precis_opaque(pass, pass_len, prep, sizeof(prep), &prep_len);
	if (e != TP_P_OK)
		goto out;
	{
		const void *parts[5] = { user, ":", realm, ":", prep };
		const size_t lens[5] = { user_len, 1, realm_len, 1, prep_len };

		*out_len = digest_parts(md, parts, lens, 5, out);
	}
	if (*out_len == 0)
		e = TP_P_BAD_VALUE;
out:
	OPENSSL_cleanse(prep, sizeof(prep));
	return e;
}

enum tp_perr tp_key_short_term(const char *pass, size_t pass_len, uint8_t *out,
                               size_t cap, size_t *out_len)
{
	return tp_precis_opaque(pass, pass_len, (char *)out, cap, out_len);
}

void tp_userhash(const char *user, size_t user_len, const char *realm, size_t realm_len,
                 uint8_t out[32])
{
	const void *parts[3] = { user, ":", realm };
	const size_t lens[3] = { user_len, 1, realm_len };

	if (digest_parts(EVP_sha256(), parts, lens, 3, out) != 32)
		memset(out, 0, 32);
}

int tp_stun_new_tid(uint8_t tid[TP_STUN_TID_LEN])
{
	return RAND_bytes(tid, TP_STUN_TID_LEN) == 1 ? 0 : -EIO;
}
