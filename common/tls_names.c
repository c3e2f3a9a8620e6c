#include <stddef.h>

#include "tls_names.h"

struct tls_name {
	unsigned code;
	const char *name;
};

/*
 * The suites that wolfSSL, OpenSSL, Python, curl and the browsers offer by default, and the
 * signalling values they add; the TLS Cipher Suites registry has the rest.
 */
static const struct tls_name suites[] = {
	{0x1301, "TLS_AES_128_GCM_SHA256"},
	{0x1302, "TLS_AES_256_GCM_SHA384"},
	{0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
	{0x1304, "TLS_AES_128_CCM_SHA256"},
	{0x1305, "TLS_AES_128_CCM_8_SHA256"},
	{0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
	{0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
	{0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
	{0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
	{0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
	{0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
	{0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
	{0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
	{0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
	{0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"},
	{0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"},
	{0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
	{0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"},
	{0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"},
	{0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"},
	{0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"},
	{0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"},
	{0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"},
	{0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"},
	{0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"},
	{0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"},
	{0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256"},
	{0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256"},
	{0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
	{0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"},
	{0x5600, "TLS_FALLBACK_SCSV"},
};

/* The TLS Supported Groups registry: elliptic curves, finite fields, post-quantum hybrids. */
static const struct tls_name groups[] = {
	{0x001d, "X25519"},
	{0x0017, "secp256r1"},
	{0x0018, "secp384r1"},
	{0x0019, "secp521r1"},
	{0x001e, "X448"},
	{0x0016, "secp256k1"},
	{0x001a, "brainpoolP256r1"},
	{0x001b, "brainpoolP384r1"},
	{0x001c, "brainpoolP512r1"},
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

static const struct tls_name alerts[] = {
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
	{113, "bad_certificate_status_response"},
	{115, "unknown_psk_identity"},
	{116, "certificate_required"},
	{120, "no_application_protocol"},
};

/* RFC 8446 §4 and RFC 5246 §7.4; Wireshark's names without spaces. */
static const struct tls_name handshakes[] = {
	{0, "HelloRequest"},        {1, "ClientHello"},      {2, "ServerHello"},
	{3, "HelloVerifyRequest"},  {4, "NewSessionTicket"}, {5, "EndOfEarlyData"},
	{8, "EncryptedExtensions"}, {11, "Certificate"},     {12, "ServerKeyExchange"},
	{13, "CertificateRequest"}, {14, "ServerHelloDone"}, {15, "CertificateVerify"},
	{16, "ClientKeyExchange"},  {20, "Finished"},        {21, "CertificateURL"},
	{22, "CertificateStatus"},  {24, "KeyUpdate"},       {254, "MessageHash"},
};

static const struct tls_name versions[] = {
	{0x0300, "SSL 3.0"}, {0x0301, "TLS 1.0"}, {0x0302, "TLS 1.1"},
	{0x0303, "TLS 1.2"}, {0x0304, "TLS 1.3"},
};

/* RFC 8446 §4.2.3, with RFC 5246 §7.4.1.4.1's TLS 1.2 pairs that clients still offer. */
static const struct tls_name sigalgs[] = {
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

#define LOOKUP(table, code) lookup(table, sizeof(table) / sizeof(table[0]), code)

/* A few dozen entries, the common ones first: a scan costs less than the log line's printf. */
static const char *
lookup(const struct tls_name *table, size_t n, unsigned code)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].code == code)
			return table[i].name;
	return NULL;
}

const char *
tls_suite_name(unsigned code)
{
	return LOOKUP(suites, code);
}

const char *
tls_group_name(unsigned code)
{
	return LOOKUP(groups, code);
}

const char *
tls_alert_name(unsigned code)
{
	return LOOKUP(alerts, code);
}

const char *
tls_handshake_name(unsigned type)
{
	return LOOKUP(handshakes, type);
}

const char *
tls_version_name(unsigned code)
{
	return LOOKUP(versions, code);
}

const char *
tls_sigalg_name(unsigned code)
{
	return LOOKUP(sigalgs, code);
}
