/*
 * sslkeys: NSS key log lines into a fixed table, and the file they come from. See sslkeys.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "sslkeys.h"

/* The labels read; NSS's format documentation (and Wireshark's reader) has the same words. */
static const char *const label_words[SSLKEYS_LABELS] = {
	[SSLKEYS_CLIENT_RANDOM] = "CLIENT_RANDOM",
	[SSLKEYS_CLIENT_HANDSHAKE] = "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
	[SSLKEYS_SERVER_HANDSHAKE] = "SERVER_HANDSHAKE_TRAFFIC_SECRET",
	[SSLKEYS_CLIENT_TRAFFIC_0] = "CLIENT_TRAFFIC_SECRET_0",
	[SSLKEYS_SERVER_TRAFFIC_0] = "SERVER_TRAFFIC_SECRET_0",
};

/* Labels of the format that name secrets the tap does not use. A KeyUpdate's secrets are
 * derived from _0 (RFC 8446 §7.2); OpenSSL logs them as _N, literally. */
static const char *const other_words[] = {
	"CLIENT_EARLY_TRAFFIC_SECRET", "EARLY_EXPORTER_SECRET",   "EXPORTER_SECRET", "RSA",
	"CLIENT_TRAFFIC_SECRET_N",     "SERVER_TRAFFIC_SECRET_N",
};

const char *
sslkeys_label_name(enum sslkeys_label label)
{
	return label < SSLKEYS_LABELS ? label_words[label] : "?";
}

void
sslkeys_init(struct sslkeys *k)
{
	memset(k, 0, sizeof(*k));
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Exactly 2 * cap hex digits, or fewer (even) for a secret: out gets them. -1 if not hex. */
static long
hex_decode(const char *p, size_t n, uint8_t *out, size_t cap)
{
	if (n % 2 != 0 || n / 2 > cap || n == 0)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_value(p[2 * i]), lo = hex_value(p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(n / 2);
}

/* The next space-separated word of line[*at..n): its start and length. */
static const char *
next_word(const char *line, size_t n, size_t *at, size_t *len)
{
	size_t i = *at, start;

	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	start = i;
	while (i < n && line[i] != ' ' && line[i] != '\t')
		i++;
	*at = i;
	*len = i - start;
	return line + start;
}

static int
word_is(const char *w, size_t len, const char *text)
{
	return strlen(text) == len && memcmp(w, text, len) == 0;
}

/* One whole line, without its '\n' (and '\r'). */
static void
take_line(struct sslkeys *k, const char *line, size_t n)
{
	struct sslkeys_entry e;
	size_t at = 0, wl, rl, sl, rest;
	const char *w = next_word(line, n, &at, &wl), *r, *s;
	long slen;
	int label = -1;

	if (wl == 0 || w[0] == '#')
		return;
	for (int i = 0; i < SSLKEYS_LABELS; i++)
		if (word_is(w, wl, label_words[i]))
			label = i;
	if (label < 0) {
		for (size_t i = 0; i < sizeof(other_words) / sizeof(other_words[0]); i++)
			if (word_is(w, wl, other_words[i]))
				return;
		k->bad++;
		return;
	}
	r = next_word(line, n, &at, &rl);
	s = next_word(line, n, &at, &sl);
	next_word(line, n, &at, &rest);
	slen = hex_decode(s, sl, e.secret, sizeof(e.secret));
	if (rl != 2 * SSLKEYS_RANDOM_LEN || hex_decode(r, rl, e.random, sizeof(e.random)) < 0 ||
	    slen < 16 || rest != 0) {
		k->bad++;
		explicit_bzero(&e, sizeof(e));
		return;
	}
	e.label = (uint8_t)label;
	e.len = (uint8_t)slen;
	k->e[k->next] = e;
	k->next = (k->next + 1) % SSLKEYS_MAX;
	if (k->n < SSLKEYS_MAX)
		k->n++;
	explicit_bzero(&e, sizeof(e));
}

static void
end_line(struct sslkeys *k)
{
	size_t n = k->line_len;

	if (k->line_long)
		k->bad++;
	else {
		if (n > 0 && k->line[n - 1] == '\r')
			n--;
		take_line(k, k->line, n);
	}
	explicit_bzero(k->line, k->line_len);
	k->line_len = 0;
	k->line_long = 0;
}

void
sslkeys_feed(struct sslkeys *k, const char *text, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (text[i] == '\n') {
			end_line(k);
		} else if (k->line_len < sizeof(k->line)) {
			k->line[k->line_len++] = text[i];
		} else {
			k->line_long = 1;
		}
	}
}

void
sslkeys_flush(struct sslkeys *k)
{
	if (k->line_len > 0 || k->line_long)
		end_line(k);
}

size_t
sslkeys_find(const struct sslkeys *k, enum sslkeys_label label,
	     const uint8_t random[SSLKEYS_RANDOM_LEN], uint8_t out[SSLKEYS_SECRET_MAX])
{
	/* Newest first: a client that logs a secret twice (a retried connection) means the
	 * last one. XXX: a linear scan, a few thousand memcmp a lookup; lookups come once per
	 * key change, not per record. */
	for (size_t i = 0; i < k->n; i++) {
		const struct sslkeys_entry *e =
			&k->e[(k->next + SSLKEYS_MAX - 1 - i) % SSLKEYS_MAX];

		if (e->label == label && memcmp(e->random, random, SSLKEYS_RANDOM_LEN) == 0) {
			memcpy(out, e->secret, e->len);
			return e->len;
		}
	}
	return 0;
}

void
sslkeys_wipe(struct sslkeys *k)
{
	explicit_bzero(k, sizeof(*k));
}

/* ---- the file ---------------------------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static void
file_warn(const struct sslkeys_file *f, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	if (f->warn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	f->warn(f->warn_arg, text);
}

/* Open path if it exists now. 0 (fd set), 1 (not there yet), -1 with err. */
static int
file_reopen(struct sslkeys_file *f, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", f->path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen,
			 "%s: not a regular file (give the file a client writes "
			 "with SSLKEYLOGFILE)",
			 f->path);
		close(fd);
		return -1;
	}
	if (f->fd >= 0)
		close(f->fd);
	f->fd = fd;
	f->off = 0;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	return 0;
}

/* Read up to max new bytes. Returns bytes read, or -1 with err. */
static long
file_read_more(struct sslkeys_file *f, size_t max, char *err, size_t errlen)
{
	char buf[16384];
	size_t total = 0;

	while (total < max) {
		size_t want = max - total < sizeof(buf) ? max - total : sizeof(buf);
		ssize_t n = pread(f->fd, buf, want, f->off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: cannot read: %s", f->path, strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		sslkeys_feed(&f->log, buf, (size_t)n);
		f->off += n;
		total += (size_t)n;
	}
	explicit_bzero(buf, sizeof(buf));
	return (long)total;
}

/*
 * Bring the table up to date with the file: open it if it appeared or was replaced, start
 * again from its top if it was truncated, read what was appended. Returns bytes read.
 */
static long
file_refresh(struct sslkeys_file *f, size_t max, char *err, size_t errlen)
{
	struct stat st;
	int rc;

	if (f->fd < 0 || stat(f->path, &st) != 0 || st.st_dev != f->dev || st.st_ino != f->ino) {
		rc = file_reopen(f, err, errlen);
		if (rc != 0)
			return rc > 0 ? 0 : -1;
	} else if (st.st_size < f->off) {
		f->off = 0;
	} else if (st.st_size == f->off) {
		return 0;
	}
	return file_read_more(f, max, err, errlen);
}

/* Say once per new batch that lines were not understood. */
static void
tell_bad_lines(struct sslkeys_file *f)
{
	unsigned long bad = f->log.bad - f->bad_told;

	if (bad == 0)
		return;
	f->bad_told = f->log.bad;
	file_warn(f,
		  "%s: %lu line%s not understood, skipped (a key log line is LABEL "
		  "<64 hex digits> <secret in hex>, as SSLKEYLOGFILE writes them)",
		  f->path, bad, bad == 1 ? "" : "s");
}

int
sslkeys_file_open(struct sslkeys_file *f, const char *path, int *missing, sslkeys_warn_fn warn,
		  void *warn_arg, char *err, size_t errlen)
{
	int rc;

	sslkeys_init(&f->log);
	f->path = path;
	f->fd = -1;
	f->off = 0;
	f->bad_told = 0;
	f->gone_told = 0;
	f->warn = warn;
	f->warn_arg = warn_arg;
	rc = file_reopen(f, err, errlen);
	*missing = rc == 1;
	if (rc < 0)
		return -1;
	if (rc == 0 && file_read_more(f, (size_t)-1, err, errlen) < 0)
		return -1;
	tell_bad_lines(f);
	return 0;
}

size_t
sslkeys_file_lookup(void *arg, enum sslkeys_label label, const uint8_t random[SSLKEYS_RANDOM_LEN],
		    uint8_t out[SSLKEYS_SECRET_MAX])
{
	struct sslkeys_file *f = arg;
	size_t n = sslkeys_find(&f->log, label, random, out);
	char err[512];
	long got;

	if (n > 0)
		return n;
	got = file_refresh(f, SSLKEYS_READ_MAX, err, sizeof(err));
	if (got < 0 && !f->gone_told) {
		f->gone_told = 1;
		file_warn(f, "%s", err);
	}
	if (got <= 0)
		return 0;
	f->gone_told = 0;
	tell_bad_lines(f);
	return sslkeys_find(&f->log, label, random, out);
}

void
sslkeys_file_close(struct sslkeys_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	sslkeys_wipe(&f->log);
}
