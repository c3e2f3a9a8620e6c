/*
 * dissect_names: the numbers TLS puts on the wire, as the tap shows them. The names are
 * common/tls_names.c's, the one table the client and server name suites and groups from too;
 * here a code without a name shows as GREASE (RFC 8701) or in hex, and each AEAD suite says
 * what decrypting it takes.
 */
#include <stdio.h>
#include <string.h>

#include "dissect_int.h"
#include "tls_names.h"

int
dis_is_grease(unsigned v)
{
	/* RFC 8701: 0x0a0a, 0x1a1a, ... 0xfafa, in versions, groups, suites and schemes. */
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* The name, GREASE, or the number in hex. */
static const char *
name_or_hex(const char *name, unsigned code, char *buf, size_t cap)
{
	if (name != NULL)
		return name;
	if (dis_is_grease(code))
		return "GREASE";
	snprintf(buf, cap, "0x%04x", code);
	return buf;
}

const char *
dis_version_name(unsigned v, char *buf, size_t cap)
{
	return name_or_hex(tls_version_name(v), v, buf, cap);
}

const char *
dis_handshake_name(unsigned type)
{
	return tls_handshake_name(type);
}

const char *
dis_alert_name(unsigned code)
{
	const char *name = tls_alert_name(code);

	return name != NULL ? name : "unknown";
}

const char *
dis_suite_name(unsigned code)
{
	const char *name = tls_suite_name(code);

	if (name != NULL)
		return name;
	return dis_is_grease(code) ? "GREASE" : "unknown suite";
}

const char *
dis_group_name(unsigned code, char *buf, size_t cap)
{
	return name_or_hex(tls_group_name(code), code, buf, cap);
}

const char *
dis_sigalg_name(unsigned code, char *buf, size_t cap)
{
	return name_or_hex(tls_sigalg_name(code), code, buf, cap);
}

/*
 * The suites the tap can decrypt, and what that takes: the AEAD (RFC 5288 AES-GCM, RFC 7905
 * ChaCha20-Poly1305, RFC 8446 §B.4) and the SHA-2 of the TLS 1.2 PRF (RFC 5246 §5; the
 * "_SHA384" suites) or of TLS 1.3's HKDF. Any other suite is named, not decrypted.
 */
static const struct dis_suite suites[] = {
	{.code = 0x1301, .kx = DIS_KX_TLS13, .aead = DIS_AEAD_AES_128_GCM, .hash_len = 32},
	{.code = 0x1302, .kx = DIS_KX_TLS13, .aead = DIS_AEAD_AES_256_GCM, .hash_len = 48},
	{.code = 0x1303, .kx = DIS_KX_TLS13, .aead = DIS_AEAD_CHACHA20_POLY1305, .hash_len = 32},
	{.code = 0xc02b, .kx = DIS_KX_ECDHE, .aead = DIS_AEAD_AES_128_GCM, .hash_len = 32},
	{.code = 0xc02c, .kx = DIS_KX_ECDHE, .aead = DIS_AEAD_AES_256_GCM, .hash_len = 48},
	{.code = 0xc02f, .kx = DIS_KX_ECDHE, .aead = DIS_AEAD_AES_128_GCM, .hash_len = 32},
	{.code = 0xc030, .kx = DIS_KX_ECDHE, .aead = DIS_AEAD_AES_256_GCM, .hash_len = 48},
	{.code = 0xcca8, .kx = DIS_KX_ECDHE, .aead = DIS_AEAD_CHACHA20_POLY1305, .hash_len = 32},
	{.code = 0xcca9, .kx = DIS_KX_ECDHE, .aead = DIS_AEAD_CHACHA20_POLY1305, .hash_len = 32},
	{.code = 0xccaa, .kx = DIS_KX_DHE, .aead = DIS_AEAD_CHACHA20_POLY1305, .hash_len = 32},
	{.code = 0x009e, .kx = DIS_KX_DHE, .aead = DIS_AEAD_AES_128_GCM, .hash_len = 32},
	{.code = 0x009f, .kx = DIS_KX_DHE, .aead = DIS_AEAD_AES_256_GCM, .hash_len = 48},
	{.code = 0x009c, .kx = DIS_KX_RSA, .aead = DIS_AEAD_AES_128_GCM, .hash_len = 32},
	{.code = 0x009d, .kx = DIS_KX_RSA, .aead = DIS_AEAD_AES_256_GCM, .hash_len = 48},
};

const struct dis_suite *
dis_suite_find(unsigned code)
{
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (suites[i].code == code)
			return &suites[i];
	return NULL;
}

enum dis_kx
dis_suite_kx(unsigned code)
{
	const struct dis_suite *s = dis_suite_find(code);
	const char *name = tls_suite_name(code);

	if (s != NULL)
		return s->kx;
	/* Suites not decrypted still tell how their keys were agreed, for ServerKeyExchange. */
	if (name != NULL && strncmp(name, "TLS_ECDHE_", 10) == 0)
		return DIS_KX_ECDHE;
	if (name != NULL && strncmp(name, "TLS_DHE_", 8) == 0)
		return DIS_KX_DHE;
	return DIS_KX_RSA;
}
