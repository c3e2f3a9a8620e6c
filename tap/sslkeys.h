/*
 * sslkeys: the NSS key log format (SSLKEYLOGFILE) that curl, browsers, Python, OpenSSL and
 * Wireshark write and read, so that squirrel-tap can decrypt the connections whose secrets
 * it holds. One line per secret:
 *
 *   CLIENT_RANDOM <64 hex: ClientHello.random> <96 hex: the TLS 1.2 master secret>
 *   CLIENT_HANDSHAKE_TRAFFIC_SECRET <64 hex> <64 or 96 hex: a TLS 1.3 traffic secret>
 *   SERVER_HANDSHAKE_TRAFFIC_SECRET, CLIENT_TRAFFIC_SECRET_0, SERVER_TRAFFIC_SECRET_0 likewise
 *
 * Other labels (EXPORTER_SECRET, CLIENT_EARLY_TRAFFIC_SECRET, ...), '#' comments and empty
 * lines are skipped; anything else is counted as not understood.
 *
 * Two layers:
 *   - struct sslkeys: a sans-IO parser and a fixed table of secrets. Text comes in by
 *     sslkeys_feed(), split anywhere; lookups never allocate.
 *   - struct sslkeys_file: the file on disk, read at start and re-read (only its new bytes,
 *     at most SSLKEYS_READ_MAX at a time) when a lookup misses, because a client appends its
 *     lines while it connects. Its lookup fits dissect.h's dis_keys_fn.
 * The secrets are wiped with explicit_bzero when the table is closed; nothing here prints.
 */
#ifndef SQUIRREL_TAP_SSLKEYS_H
#define SQUIRREL_TAP_SSLKEYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The longest secret: a TLS 1.2 master secret or a SHA-384 traffic secret, 48 bytes. */
#define SSLKEYS_SECRET_MAX 48
/* RFC 8446 §4.1.2: ClientHello.random names the connection. */
#define SSLKEYS_RANDOM_LEN 32
/* Secrets remembered: four or five a connection, so about 800 connections. When full the
 * oldest go first, so a tap left running beside a browser keeps the recent ones. */
#define SSLKEYS_MAX 4096
/* A key log line is at most 31 + 1 + 64 + 1 + 96 characters; a longer one is not ours. */
#define SSLKEYS_LINE_MAX 256
/* Bytes read from the file per re-read, so that one lookup never reads a huge file at once;
 * the next miss reads on. At start-up the whole file is read. */
#define SSLKEYS_READ_MAX (1024 * 1024)

enum sslkeys_label {
	SSLKEYS_CLIENT_RANDOM,    /* TLS 1.2: the master secret */
	SSLKEYS_CLIENT_HANDSHAKE, /* TLS 1.3: client_handshake_traffic_secret */
	SSLKEYS_SERVER_HANDSHAKE, /* TLS 1.3: server_handshake_traffic_secret */
	SSLKEYS_CLIENT_TRAFFIC_0, /* TLS 1.3: client_application_traffic_secret_0 */
	SSLKEYS_SERVER_TRAFFIC_0, /* TLS 1.3: server_application_traffic_secret_0 */
	SSLKEYS_LABELS
};

struct sslkeys_entry {
	uint8_t label; /* enum sslkeys_label */
	uint8_t len;   /* of secret, 1..SSLKEYS_SECRET_MAX */
	uint8_t random[SSLKEYS_RANDOM_LEN];
	uint8_t secret[SSLKEYS_SECRET_MAX];
};

struct sslkeys {
	struct sslkeys_entry e[SSLKEYS_MAX]; /* a ring: next is where the next one goes */
	size_t n, next;
	unsigned long bad; /* lines not understood so far */
	char line[SSLKEYS_LINE_MAX];
	size_t line_len; /* characters of the current line kept */
	int line_long;   /* the current line outgrew line[]: it is counted bad at its end */
};

/* The label as the file writes it: "CLIENT_RANDOM", "SERVER_HANDSHAKE_TRAFFIC_SECRET", ... */
const char *sslkeys_label_name(enum sslkeys_label label);

/* Empty the table (k may be uninitialised memory). */
void sslkeys_init(struct sslkeys *k);

/* Take the next n bytes of key log text. A line is used when its '\n' comes. */
void sslkeys_feed(struct sslkeys *k, const char *text, size_t n);

/* The text ended: use a last line that had no '\n'. */
void sslkeys_flush(struct sslkeys *k);

/*
 * The newest secret labelled label for the connection whose ClientHello.random is random:
 * copied into out, its length returned; 0 if the table has none.
 */
size_t sslkeys_find(const struct sslkeys *k, enum sslkeys_label label,
		    const uint8_t random[SSLKEYS_RANDOM_LEN], uint8_t out[SSLKEYS_SECRET_MAX]);

/* Wipe every secret (explicit_bzero) and empty the table. */
void sslkeys_wipe(struct sslkeys *k);

/* Called with a sentence about the file (a read error, lines not understood), no newline. */
typedef void (*sslkeys_warn_fn)(void *arg, const char *text);

struct sslkeys_file {
	struct sslkeys log;
	const char *path;
	int fd;    /* -1 until the file exists */
	off_t off; /* bytes of it read */
	dev_t dev; /* which file fd is, to notice a new one under the same name */
	ino_t ino;
	unsigned long bad_told; /* lines not understood, already warned about */
	int gone_told;          /* the file's absence was reported */
	sslkeys_warn_fn warn;
	void *warn_arg;
};

/*
 * Start on the key log at path (kept, not copied): read all of it. A file that does not exist
 * yet is fine (a client creates it when it connects): *missing is set and it is looked for
 * again at each miss. Returns 0, or -1 with a reason in err (not a regular file, cannot be
 * read). warn (may be NULL) hears of later trouble.
 */
int sslkeys_file_open(struct sslkeys_file *f, const char *path, int *missing, sslkeys_warn_fn warn,
		      void *warn_arg, char *err, size_t errlen);

/*
 * dis_keys_fn for a key log file (arg is the struct sslkeys_file): the secret if the table
 * has it, else the file's new lines are read (at most SSLKEYS_READ_MAX bytes) and the table
 * asked again. Returns the secret's length, or 0.
 */
size_t sslkeys_file_lookup(void *arg, enum sslkeys_label label,
			   const uint8_t random[SSLKEYS_RANDOM_LEN],
			   uint8_t out[SSLKEYS_SECRET_MAX]);

/* Close the file and wipe the table. */
void sslkeys_file_close(struct sslkeys_file *f);

#endif
