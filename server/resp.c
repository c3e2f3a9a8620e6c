#include <stdio.h>
#include <string.h>

#include "resp.h"

#define TEXT "text/plain; charset=utf-8"

/* Bodies say what went wrong and what to do: a person reading curl's output learns more
 * from them than from a status code. */
static const struct {
	int status;
	const char *body;
	const char *extra;
	int closes;
} errors[RESP_COUNT] = {
	[RESP_400] = {400, "bad request\n", NULL, 1},
	[RESP_400_PLAIN_ON_TLS] = {400,
				   "400 Bad Request: the plain HTTP request was sent to HTTPS "
				   "port; use https://\n",
				   NULL, 1},
	[RESP_404] = {404, "not found: the secret is at /\n", NULL, 0},
	[RESP_405] = {405, "method not allowed: use GET or HEAD\n", "Allow: GET, HEAD\r\n", 0},
	[RESP_408] = {408, "request timeout: the request head did not arrive in time\n", NULL, 1},
	[RESP_413] = {413, "content too large: request bodies are limited to 65536 bytes\n", NULL,
		      1},
	[RESP_414] = {414, "request line too long: the limit is 8192 bytes\n", NULL, 1},
	[RESP_431] = {431,
		      "request header fields too large: the limit is 16384 bytes and 100 "
		      "fields\n",
		      NULL, 1},
	[RESP_501] = {501, "not implemented: only the chunked transfer coding is supported\n", NULL,
		      1},
	[RESP_501_METHOD] = {501, "not implemented: unknown method; the secret is at GET /\n", NULL,
			     0},
	[RESP_505] = {505, "HTTP version not supported: use HTTP/1.1 or HTTP/1.0\n", NULL, 1},
};

static const char *const conn_field[RESP_CONN_COUNT] = {NULL, "close", "keep-alive"};

int
resp_init(struct resp_table *t, const char *message, size_t message_len, size_t token_len,
	  int64_t now_sec)
{
	char date[30];
	size_t used = 0;

	memset(t, 0, sizeof(*t));
	http_format_date(date, now_sec);
	t->date_sec = now_sec;
	t->body_len = token_len ? token_len : message_len;
	for (int id = 0; id < RESP_COUNT; id++) {
		for (int cn = 0; cn < RESP_CONN_COUNT; cn++) {
			struct resp *r = &t->r[id][cn];
			char *at = t->arena + used;
			int status = id == RESP_SECRET ? 200 : errors[id].status;
			const char *body = id == RESP_SECRET ? message : errors[id].body;
			size_t blen = id == RESP_SECRET ? t->body_len : strlen(body);
			int n = http_format_head(at, sizeof(t->arena) - used, status, date, TEXT,
						 blen, conn_field[cn],
						 id == RESP_SECRET ? NULL : errors[id].extra);

			if (n < 0)
				return -1;
			r->bytes = at;
			r->head_len = (uint16_t)n;
			r->status = (uint16_t)status;
			r->date_off = (uint16_t)(strstr(at, "\r\nDate: ") + 8 - at);
			/* In Fernet mode the token is written per request after the head. */
			if (id == RESP_SECRET && token_len) {
				r->len = (uint16_t)n;
				used += (size_t)n;
				continue;
			}
			if (used + (size_t)n + blen > sizeof(t->arena))
				return -1;
			memcpy(at + n, body, blen);
			r->len = (uint16_t)(n + (int)blen);
			used += r->len;
		}
	}
	return 0;
}

void
resp_tick(struct resp_table *t, int64_t now_sec)
{
	char date[30];

	if (now_sec == t->date_sec)
		return;
	t->date_sec = now_sec;
	http_format_date(date, now_sec);
	for (int id = 0; id < RESP_COUNT; id++)
		for (int cn = 0; cn < RESP_CONN_COUNT; cn++) {
			struct resp *r = &t->r[id][cn];

			/* The arena is ours: the const view is for everyone else. */
			memcpy((char *)(uintptr_t)r->bytes + r->date_off, date, HTTP_DATE_LEN);
		}
}

int
resp_format_400(const struct resp_table *t, enum resp_conn cn, const char *why, int head_only,
		char *out, size_t cap, size_t *body)
{
	const struct resp *r = &t->r[RESP_400][cn];
	char date[HTTP_DATE_LEN + 1], text[RESP_WHY_MAX + 16];
	int n, tn;

	tn = snprintf(text, sizeof(text), "bad request: %.*s\n", RESP_WHY_MAX, why);
	if (tn < 0 || (size_t)tn >= sizeof(text))
		return -1;
	/* The prebuilt 400's Date is patched each second like every other answer's. */
	memcpy(date, r->bytes + r->date_off, HTTP_DATE_LEN);
	date[HTTP_DATE_LEN] = '\0';
	n = http_format_head(out, cap, 400, date, TEXT, (uint64_t)tn, conn_field[cn], NULL);
	if (n < 0 || (!head_only && (size_t)n + (size_t)tn > cap))
		return -1;
	*body = 0;
	if (head_only)
		return n;
	memcpy(out + n, text, (size_t)tn);
	*body = (size_t)tn;
	return n + tn;
}

enum resp_id
resp_for_status(int status)
{
	switch (status) {
	case 408: return RESP_408;
	case 413: return RESP_413;
	case 414: return RESP_414;
	case 431: return RESP_431;
	case 501: return RESP_501;
	case 505: return RESP_505;
	}
	return RESP_400;
}

int
resp_closes(enum resp_id id)
{
	return id != RESP_SECRET && errors[id].closes;
}

enum resp_id
resp_route(const struct http_request *req, const char **why)
{
	const char *p = req->target, *end = p + req->target_len;
	const char *q;

	*why = NULL;
	/* CONNECT asks a proxy for a tunnel (RFC 9110 §9.3.6), to an authority-form target. */
	if (req->meth == HTTP_CONNECT)
		return RESP_405;
	/* RFC 9112 §3.2.4: the asterisk form is only for OPTIONS, which we do not serve. */
	if (req->target_len == 1 && p[0] == '*') {
		if (req->meth == HTTP_OPTIONS)
			return RESP_405;
		*why = "asterisk-form target without OPTIONS";
		return RESP_400;
	}
	/* Absolute form (§3.2.2): a server must accept it; the path follows the authority. */
	if (p[0] != '/') {
		const char *slashes = memchr(p, '/', req->target_len);
		const char *auth;

		/* The authority form (§3.2.3) is CONNECT's, for proxies, which we are not. */
		*why = "target is not a path or an absolute URI";
		if (slashes == NULL || slashes + 1 >= end || slashes[1] != '/' || slashes == p ||
		    slashes[-1] != ':')
			return RESP_400;
		/* RFC 3986 §3.2: the authority ends at "/", "?" or "#". An empty host must be
		 * rejected (RFC 9110 §4.2.1), and userinfo is treated as an error (§4.2.4):
		 * it serves to disguise the host. */
		auth = p = slashes + 2;
		while (p < end && *p != '/' && *p != '?' && *p != '#')
			p++;
		*why = "absolute URI without a host";
		if (p == auth || *auth == ':')
			return RESP_400;
		*why = "userinfo in the target URI";
		if (memchr(auth, '@', (size_t)(p - auth)) != NULL)
			return RESP_400;
		*why = NULL;
		if (p == end || *p != '/')
			p = "/", end = p + 1;
	}
	q = memchr(p, '?', (size_t)(end - p));
	if (q != NULL)
		end = q;
	/* RFC 9110 §9.1: a method the server does not recognize is 501, whatever the target. */
	if (req->meth == HTTP_OTHER)
		return RESP_501_METHOD;
	if (end - p != 1)
		return RESP_404;
	/* OPTIONS and TRACE too: there is nothing to negotiate, and TRACE would echo a
	 * request's credentials back (nginx refuses it the same way). */
	return req->meth == HTTP_GET || req->meth == HTTP_HEAD ? RESP_SECRET : RESP_405;
}
