#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transcript.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	fprintf(stderr, "transcript: '%c' is not a hex digit\n", c);
	abort();
}

static void
add_step(struct transcript *t, const char *line, size_t len)
{
	struct step *st;

	if (t->n == TRANSCRIPT_STEPS)
		abort();
	st = &t->st[t->n++];
	st->dir = line[0] == 'c' ? DIS_C2S : DIS_S2C;
	st->p = t->bytes + t->used;
	for (size_t i = 2; i + 1 < len && line[i] != '\n'; i += 2) {
		if (t->used == sizeof(t->bytes))
			abort();
		t->bytes[t->used++] = (uint8_t)(hexval(line[i]) << 4 | hexval(line[i + 1]));
	}
	st->n = (size_t)(t->bytes + t->used - (const uint8_t *)st->p);
}

int
transcript_load(const char *name, struct transcript *t, struct sslkeys *k)
{
	static char line[1 << 17];
	const char *dir = getenv("SQUIRREL_VECTORS");
	char path[512];
	FILE *f;

	if (dir == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/tls/%s.txt", dir, name);
	f = fopen(path, "r");
	if (f == NULL) {
		perror(path);
		abort();
	}
	sslkeys_init(k);
	t->n = t->used = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);

		if (strncmp(line, "keylog ", 7) == 0)
			sslkeys_feed(k, line + 7, len - 7);
		else if ((line[0] == 'c' || line[0] == 's') && line[1] == ' ')
			add_step(t, line, len);
	}
	fclose(f);
	sslkeys_flush(k);
	if (k->bad != 0)
		abort();
	return 0;
}

size_t
transcript_keys(void *arg, enum sslkeys_label label, const uint8_t random[SSLKEYS_RANDOM_LEN],
		uint8_t out[SSLKEYS_SECRET_MAX])
{
	return sslkeys_find(arg, label, random, out);
}
