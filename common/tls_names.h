/*
 * tls_names: the names IANA's TLS registries give to the numbers on the wire, for people
 * reading a connection: cipher suites (TLS_AES_128_GCM_SHA256, not wolfSSL's
 * TLS13-AES128-GCM-SHA256, so that squirrel, curl, Wireshark and the RFCs say the same),
 * key exchange groups (RFC 8446 §4.2.7) and alerts (RFC 8446 §6). Protocol knowledge only:
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

#endif
