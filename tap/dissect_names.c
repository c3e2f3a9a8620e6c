/*
 * dissect_names: the names of the numbers TLS puts on the wire, in one place: versions,
 * handshake messages, alerts, cipher suites (with what it takes to decrypt each), key
 * exchange groups and signature schemes. IANA's registries and the RFCs give the names.
 */
#include <stdio.h>

#include "dissect_int.h"

struct name {
	unsigned code;
	const char *text;
};

#define LOOKUP(table, code, dflt) lookup(table, sizeof(table) / sizeof(table[0]), code, dflt)

static const char *
lookup(const struct name *table, size_t n, unsigned code, const char *dflt)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].code == code)
			return table[i].text;
	return dflt;
}

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
	static const struct name versions[] = {
		{0x0300, "SSL 3.0"}, {0x0301, "TLS 1.0"}, {0x0302, "TLS 1.1"},
		{0x0303, "TLS 1.2"}, {0x0304, "TLS 1.3"},
	};

	return name_or_hex(LOOKUP(versions, v, NULL), v, buf, cap);
}

/* RFC 8446 §4 and RFC 5246 §7.4; Wireshark's names without spaces. */
static const struct name handshake_names[] = {
	{0, "HelloRequest"},        {1, "ClientHello"},      {2, "ServerHello"},
	{3, "HelloVerifyRequest"},  {4, "NewSessionTicket"}, {5, "EndOfEarlyData"},
	{8, "EncryptedExtensions"}, {11, "Certificate"},     {12, "ServerKeyExchange"},
	{13, "CertificateRequest"}, {14, "ServerHelloDone"}, {15, "CertificateVerify"},
	{16, "ClientKeyExchange"},  {20, "Finished"},        {21, "CertificateURL"},
	{22, "CertificateStatus"},  {24, "KeyUpdate"},       {254, "MessageHash"},
};

const char *
dis_handshake_name(unsigned type)
{
	return LOOKUP(handshake_names, type, NULL);
}

/* RFC 8446 §6. */
static const struct name alert_names[] = {
	{0, "close_notify"},
	{10, "unexpected_message"},
	{20, "bad_record_mac"},
	{22, "record_overflow"},
	{40, "handshake_failure"},
	{42, "bad_certificate"},
	{43, "unsupported_certificate"},
	{44, "certificate_revoked"},
	{45, "certificate_expired"},
	{46, "certificate_unknown"},
	{47, "illegal_parameter"},
	{48, "unknown_ca"},
	{49, "access_denied"},
	{50, "decode_error"},
	{51, "decrypt_error"},
	{70, "protocol_version"},
	{71, "insufficient_security"},
	{80, "internal_error"},
	{86, "inappropriate_fallback"},
	{90, "user_canceled"},
	{109, "missing_extension"},
	{110, "unsupported_extension"},
	{112, "unrecognized_name"},
	{116, "certificate_required"},
	{120, "no_application_protocol"},
};

const char *
dis_alert_name(unsigned code)
{
	return LOOKUP(alert_names, code, "unknown");
}

/*
 * The suites wolfSSL, OpenSSL, Python, curl and the browsers offer by default, with what
 * decrypting them takes: the AEAD (RFC 5288 GCM, RFC 7905 ChaCha20-Poly1305, RFC 8446 §B.4)
 * and the SHA-2 of the TLS 1.2 PRF (RFC 5246 §5, "_SHA384" suites) or TLS 1.3 HKDF.
 */
static const struct dis_suite suites[] = {
	{0x1301, "TLS_AES_128_GCM_SHA256", DIS_KX_TLS13, DIS_AEAD_AES_128_GCM, 32},
	{0x1302, "TLS_AES_256_GCM_SHA384", DIS_KX_TLS13, DIS_AEAD_AES_256_GCM, 48},
	{0x1303, "TLS_CHACHA20_POLY1305_SHA256", DIS_KX_TLS13, DIS_AEAD_CHACHA20_POLY1305, 32},
	{0x1304, "TLS_AES_128_CCM_SHA256", DIS_KX_TLS13, DIS_AEAD_NONE, 32},
	{0x1305, "TLS_AES_128_CCM_8_SHA256", DIS_KX_TLS13, DIS_AEAD_NONE, 32},
	{0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", DIS_KX_ECDHE, DIS_AEAD_AES_128_GCM, 32},
	{0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", DIS_KX_ECDHE, DIS_AEAD_AES_256_GCM, 48},
	{0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", DIS_KX_ECDHE, DIS_AEAD_AES_128_GCM, 32},
	{0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", DIS_KX_ECDHE, DIS_AEAD_AES_256_GCM, 48},
	{0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", DIS_KX_ECDHE,
	 DIS_AEAD_CHACHA20_POLY1305, 32},
	{0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", DIS_KX_ECDHE,
	 DIS_AEAD_CHACHA20_POLY1305, 32},
	{0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", DIS_KX_DHE,
	 DIS_AEAD_CHACHA20_POLY1305, 32},
	{0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", DIS_KX_DHE, DIS_AEAD_AES_128_GCM, 32},
	{0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", DIS_KX_DHE, DIS_AEAD_AES_256_GCM, 48},
	{0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256", DIS_KX_RSA, DIS_AEAD_AES_128_GCM, 32},
	{0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384", DIS_KX_RSA, DIS_AEAD_AES_256_GCM, 48},
	{0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", DIS_KX_ECDHE, DIS_AEAD_NONE, 32},
	{0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", DIS_KX_ECDHE, DIS_AEAD_NONE, 32},
	{0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", DIS_KX_ECDHE, DIS_AEAD_NONE, 32},
	{0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", DIS_KX_ECDHE, DIS_AEAD_NONE, 32},
	{0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", DIS_KX_ECDHE, DIS_AEAD_NONE, 32},
	{0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", DIS_KX_ECDHE, DIS_AEAD_NONE, 48},
	{0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", DIS_KX_ECDHE, DIS_AEAD_NONE, 32},
	{0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", DIS_KX_ECDHE, DIS_AEAD_NONE, 48},
	{0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", DIS_KX_RSA, DIS_AEAD_NONE, 32},
	{0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", DIS_KX_RSA, DIS_AEAD_NONE, 32},
	{0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256", DIS_KX_RSA, DIS_AEAD_NONE, 32},
	{0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256", DIS_KX_RSA, DIS_AEAD_NONE, 32},
};

const struct dis_suite *
dis_suite_find(unsigned code)
{
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (suites[i].code == code)
			return &suites[i];
	return NULL;
}

const char *
dis_suite_name(unsigned code)
{
	const struct dis_suite *s = dis_suite_find(code);

	if (s != NULL)
		return s->name;
	if (code == 0x00ff)
		return "TLS_EMPTY_RENEGOTIATION_INFO_SCSV";
	return dis_is_grease(code) ? "GREASE" : "unknown suite";
}

/* RFC 8446 §4.2.7 and the TLS Supported Groups registry, with the post-quantum hybrids of
 * draft-ietf-tls-ecdhe-mlkem (X25519MLKEM768 is what current browsers offer first). */
static const struct name groups[] = {
	{0x001d, "X25519"},
	{0x0017, "secp256r1"},
	{0x0018, "secp384r1"},
	{0x0019, "secp521r1"},
	{0x001e, "X448"},
	{0x0016, "secp256k1"},
	{0x001a, "brainpoolP256r1"},
	{0x001b, "brainpoolP384r1"},
	{0x001c, "brainpoolP512r1"},
	{0x001f, "brainpoolP256r1tls13"},
	{0x0020, "brainpoolP384r1tls13"},
	{0x0021, "brainpoolP512r1tls13"},
	{0x0100, "ffdhe2048"},
	{0x0101, "ffdhe3072"},
	{0x0102, "ffdhe4096"},
	{0x0103, "ffdhe6144"},
	{0x0104, "ffdhe8192"},
	{0x0200, "MLKEM512"},
	{0x0201, "MLKEM768"},
	{0x0202, "MLKEM1024"},
	{0x11eb, "SecP256r1MLKEM768"},
	{0x11ec, "X25519MLKEM768"},
	{0x11ed, "SecP384r1MLKEM1024"},
	{0x6399, "X25519Kyber768Draft00"},
};

const char *
dis_group_name(unsigned code, char *buf, size_t cap)
{
	return name_or_hex(LOOKUP(groups, code, NULL), code, buf, cap);
}

/* RFC 8446 §4.2.3 (and RFC 5246 §7.4.1.4.1's TLS 1.2 pairs still offered for legacy). */
static const struct name sigalgs[] = {
	{0x0403, "ecdsa_secp256r1_sha256"},
	{0x0503, "ecdsa_secp384r1_sha384"},
	{0x0603, "ecdsa_secp521r1_sha512"},
	{0x0804, "rsa_pss_rsae_sha256"},
	{0x0805, "rsa_pss_rsae_sha384"},
	{0x0806, "rsa_pss_rsae_sha512"},
	{0x0807, "ed25519"},
	{0x0808, "ed448"},
	{0x0809, "rsa_pss_pss_sha256"},
	{0x080a, "rsa_pss_pss_sha384"},
	{0x080b, "rsa_pss_pss_sha512"},
	{0x0401, "rsa_pkcs1_sha256"},
	{0x0501, "rsa_pkcs1_sha384"},
	{0x0601, "rsa_pkcs1_sha512"},
	{0x0201, "rsa_pkcs1_sha1"},
	{0x0203, "ecdsa_sha1"},
	{0x0301, "rsa_pkcs1_sha224"},
	{0x0303, "ecdsa_sha224"},
	{0x0202, "dsa_sha1"},
	{0x0302, "dsa_sha224"},
	{0x0402, "dsa_sha256"},
	{0x0502, "dsa_sha384"},
	{0x0602, "dsa_sha512"},
	{0x081a, "ecdsa_brainpoolP256r1tls13_sha256"},
	{0x081b, "ecdsa_brainpoolP384r1tls13_sha384"},
	{0x081c, "ecdsa_brainpoolP512r1tls13_sha512"},
	{0x0904, "mldsa44"},
	{0x0905, "mldsa65"},
	{0x0906, "mldsa87"},
};

const char *
dis_sigalg_name(unsigned code, char *buf, size_t cap)
{
	return name_or_hex(LOOKUP(sigalgs, code, NULL), code, buf, cap);
}
