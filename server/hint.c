/*
 * hint: the second terminal's command in TLS mode, worked out from the certificate. See
 * hint.h.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "fs.h"
#include "hint.h"
#include "pki.h"

/* The certificate file (leaf and chain) and one candidate CA file at a time. */
static unsigned char cert_buf[HINT_MAX_FILE];
static unsigned char leaf[16384];

/*
 * A host the client can put in the URL: one the certificate names, tried in the order a
 * reader would type them. On a loopback or wildcard address, "localhost" first (the
 * tutorial's), then the loopback address itself; on another address, that address.
 */
static void
pick_host(const char *listen_host, size_t leaf_len, struct srv_hint *h)
{
	const char *cand[3] = {NULL, NULL, NULL};

	if (strcmp(listen_host, "127.0.0.1") == 0 || strcmp(listen_host, "0.0.0.0") == 0)
		cand[0] = "localhost", cand[1] = "127.0.0.1";
	else if (strcmp(listen_host, "::1") == 0 || strcmp(listen_host, "::") == 0)
		cand[0] = "localhost", cand[1] = "::1";
	else
		cand[0] = listen_host;
	h->host[0] = '\0';
	for (int i = 0; i < 3 && cand[i] != NULL; i++) {
		if (pki_cert_names_host(leaf, leaf_len, cand[i]) == 1) {
			snprintf(h->host, sizeof(h->host), "%s", cand[i]);
			return;
		}
	}
}

/* 1 if the file at path verifies the certificate (cert_buf, cert_len), else 0. r->names
 * gets the certificate's names either way, once the file is read. */
static int
signed_by(const char *path, size_t cert_len, size_t cap, struct pki_verify_result *r)
{
	struct pki_verify_opts opts = {NULL, 0, time(NULL)};
	unsigned char *ca = malloc(cap);
	size_t len;
	char err[256];
	int ok;

	if (ca == NULL)
		return 0;
	ok = fs_read(path, ca, cap, &len) == 0 &&
	     pki_verify(ca, len, cert_buf, cert_len, &opts, r, err, sizeof(err)) == 0;
	free(ca);
	return ok;
}

static int
is_cert_name(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && (strcmp(name + n - 4, ".pem") == 0 || strcmp(name + n - 4, ".crt") == 0 ||
			 strcmp(name + n - 4, ".cer") == 0);
}

/* The first file, by name, in the certificate's folder that signed it; 1 if found. */
static int
find_ca_file(const char *cert, size_t cert_len, struct srv_hint *h, struct pki_verify_result *r)
{
	const char *slash = strrchr(cert, '/');
	char dir[PATH_MAX], path[PATH_MAX], best[PATH_MAX] = "";
	struct dirent *e;
	int seen = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - cert + 1) : 0, cert);
	d = opendir(dir[0] ? dir : ".");
	if (d == NULL)
		return 0;
	/* cppcheck-suppress readdirCalled ; one thread, and glibc deprecates readdir_r */
	while ((e = readdir(d)) != NULL && seen < HINT_MAX_FILES) {
		struct stat st;

		if (!is_cert_name(e->d_name))
			continue;
		seen++;
		if (snprintf(path, sizeof(path), "%s%s", dir, e->d_name) >= (int)sizeof(path) ||
		    stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > HINT_MAX_FILE)
			continue;
		if ((best[0] == '\0' || strcmp(path, best) < 0) &&
		    signed_by(path, cert_len, HINT_MAX_FILE, r))
			snprintf(best, sizeof(best), "%s", path);
	}
	closedir(d);
	snprintf(h->cacert, sizeof(h->cacert), "%s", best);
	return best[0] != '\0';
}

static void
issuer_name(size_t leaf_len, struct srv_hint *h)
{
	WOLFSSL_X509 *x =
		wolfSSL_X509_load_certificate_buffer(leaf, (int)leaf_len, WOLFSSL_FILETYPE_ASN1);
	WOLFSSL_X509_NAME *name = x ? wolfSSL_X509_get_issuer_name(x) : NULL;

	snprintf(h->issuer, sizeof(h->issuer), "its issuer");
	if (name != NULL && wolfSSL_X509_NAME_get_text_by_NID(name, NID_commonName, h->issuer,
							      (int)sizeof(h->issuer)) <= 0)
		wolfSSL_X509_NAME_oneline(name, h->issuer, (int)sizeof(h->issuer));
	wolfSSL_X509_free(x);
}

int
srv_hint_tls(const char *cert, const char *listen_host, struct srv_hint *h)
{
	struct pki_verify_result r;
	size_t cert_len, leaf_len;

	memset(h, 0, sizeof(*h));
	if (fs_read(cert, cert_buf, sizeof(cert_buf), &cert_len) != 0 ||
	    pki_cert_decode(cert_buf, cert_len, leaf, sizeof(leaf), &leaf_len) != 0)
		return -1;
	pick_host(listen_host, leaf_len, h);
	issuer_name(leaf_len, h);
	/* The folder first: the tutorial's CA is there, and it costs a few files, where the
	 * system store is 140 CAs to load (35 ms). */
	memset(&r, 0, sizeof(r));
	if (find_ca_file(cert, cert_len, h, &r))
		h->trust = HINT_TRUST_FILE;
	else if (signed_by(HINT_SYSTEM_CA, cert_len, HINT_MAX_SYSTEM, &r))
		h->trust = HINT_TRUST_SYSTEM;
	else
		h->trust = HINT_TRUST_UNKNOWN;
	if (r.names[0] == '\0') /* no file was read as a CA: read the names off the leaf */
		signed_by(cert, cert_len, HINT_MAX_FILE, &r);
	snprintf(h->names, sizeof(h->names), "%s", r.names);
	return 0;
}
