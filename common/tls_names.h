/*
 * tls_names: the names IANA's TLS registries give to the numbers on the wire, for people
 * reading a connection: cipher suites (TLS_AES_128_GCM_SHA256, not wolfSSL's
 * TLS13-AES128-GCM-SHA256, so that squirrel, curl, Wireshark and the RFCs say the same),
 * key exchange groups (RFC 8446 §4.2.7), alerts (RFC 8446 §6), handshake messages, versions
 * and signature schemes. Protocol knowledge only:
 * no wolfSSL here, so a dissector can name what its own TLS library does not speak.
 */
#ifndef SQUIRREL_TLS_NAMES_H
#define SQUIRREL_TLS_NAMES_H

/* The cipher suite's IANA name ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), or NULL. */
const char *tls_suite_name(unsigned code);

/*
 * The group's name ("secp256r1", "X25519MLKEM768"), or NULL. X25519 and X448 are written as
 * RFC 7748 and OpenSSL write them (IANA's registry has them in lower case).
 */
const char *tls_group_name(unsigned code);

/* The alert description's name ("unknown_ca"), or NULL. */
const char *tls_alert_name(unsigned code);

/* The handshake message's name ("ClientHello", "EncryptedExtensions"), or NULL. */
const char *tls_handshake_name(unsigned type);

/* The protocol version's name ("TLS 1.3" for 0x0304), or NULL. */
const char *tls_version_name(unsigned code);

/* The signature scheme's name ("rsa_pss_rsae_sha256", RFC 8446 §4.2.3), or NULL. */
const char *tls_sigalg_name(unsigned code);

#endif
