/*
 * srv_tls: the server's TLS context, built from the certificate and key files at start-up and
 * again on SIGHUP. TLS 1.2 and 1.3 only, ECDHE with AEAD suites only, the server's order wins.
 */
#ifndef SQUIRREL_SRV_TLS_H
#define SQUIRREL_SRV_TLS_H

#include <stddef.h>

struct srv_config;
struct srv;
struct WOLFSSL_CTX;

/* Why a context could not be built; main() turns these into exit codes. */
enum srv_tls_error {
	SRV_TLS_EFILE = -1,     /* a file is unreadable or garbled */
	SRV_TLS_EPASSWORD = -2, /* the key's password is missing or wrong */
	SRV_TLS_ECERT = -3,     /* expired, not yet valid, or not matching the key */
	SRV_TLS_EINTERNAL = -4,
};

/*
 * Build a context from cfg->cert, cfg->key (decrypted with password when it is encrypted;
 * password may be NULL) and cfg->client_ca. Returns 0 with *out set, or a SRV_TLS_E* code
 * with err holding one line that names the file and the problem.
 */
int srv_tls_ctx(const struct srv_config *cfg, const char *password, struct WOLFSSL_CTX **out,
		char *err, size_t errlen);

/* 1 if the key file is encrypted (so a password must be found before srv_tls_ctx). */
int srv_tls_key_encrypted(const char *path);

/* A new context from the same files and the kept password. 0 or SRV_TLS_E*. */
int srv_tls_rebuild(const struct srv_config *cfg, struct WOLFSSL_CTX **out, char *err,
		    size_t errlen);

/* SIGHUP: rebuild from the same files. On failure the old context stays and err says why. */
int srv_tls_reload(struct srv *s, char *err, size_t errlen);

/* Draw the session-ticket key (once, before any fork); 0 or -1. */
int srv_tls_ticket_init(void);
/* In each forked worker: a fresh random generator for ticket nonces; 0 or -1. */
int srv_tls_after_fork(void);
void srv_tls_ticket_wipe(void);

/* Remember the key password for reloads (wiped at exit). */
void srv_tls_keep_password(const char *password);
void srv_tls_forget_password(void);

#endif
