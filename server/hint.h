/*
 * hint: what the start-up banner tells the second terminal in TLS mode, derived from the
 * certificate so that the command works as printed: a host the certificate names and that
 * reaches this server, and the CA file a client needs to trust it.
 */
#ifndef SQUIRREL_SERVER_HINT_H
#define SQUIRREL_SERVER_HINT_H

#include <limits.h>

#include "addr.h"

/* Files looked at in the certificate's folder for its CA, and the size each may have: a
 * folder of certificates and keys, not a whole file system. */
#define HINT_MAX_FILES 256
#define HINT_MAX_FILE (64 * 1024)
/* The system's trust store, where a certificate from a public CA needs no --cacert. */
#define HINT_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"
#define HINT_MAX_SYSTEM (4 * 1024 * 1024)

enum hint_trust {
	HINT_TRUST_SYSTEM, /* the system store trusts it: no --cacert */
	HINT_TRUST_FILE,   /* cacert holds a file that signed it (the certificate itself if
			    * self-signed), as a path from the current folder */
	HINT_TRUST_UNKNOWN /* no file found: issuer says whose certificate a client needs */
};

struct srv_hint {
	char host[ADDR_HOST_MAX]; /* a name of the certificate that reaches the server; "" if
				   * none: names says which names it has */
	enum hint_trust trust;
	char cacert[PATH_MAX];
	char issuer[256]; /* the issuer's CN (or whole name) */
	char names[512];  /* the certificate's names, "DNS:my-site.com, IP:127.0.0.1" */
};

/*
 * Work out the hint for the certificate file cert (PEM or DER, the leaf first) served on
 * listen_host (the --listen host, e.g. "127.0.0.1", "::", "0.0.0.0"). Reads the certificate's
 * folder and the system store. Returns 0, or -1 if the certificate cannot be read (the server
 * has loaded it already, so this does not happen but for a race).
 */
int srv_hint_tls(const char *cert, const char *listen_host, struct srv_hint *h);

#endif
