/*
 * resp: every response the server can send, formatted once at start-up. Per request the
 * server copies bytes; once a second it patches the Date field of each in place (its length
 * never changes). In Fernet mode only the body is made per request.
 */
#ifndef SQUIRREL_RESP_H
#define SQUIRREL_RESP_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

enum resp_id {
	RESP_SECRET, /* 200, the message (or, in Fernet mode, the head of a token response) */
	RESP_400,
	RESP_400_PLAIN_ON_TLS, /* nginx's "The plain HTTP request was sent to HTTPS port" */
	RESP_404,
	RESP_405,
	RESP_408,
	RESP_413,
	RESP_414,
	RESP_431,
	RESP_501,        /* a transfer coding we lack: the body cannot be framed */
	RESP_501_METHOD, /* a method we do not know (RFC 9110 §9.1) */
	RESP_505,
	RESP_COUNT
};

/* The interim answer to Expect: 100-continue (RFC 9110 §15.2.1), sent before the final one. */
#define RESP_CONTINUE "HTTP/1.1 100 Continue\r\n\r\n"

/* Which Connection field: none (HTTP/1.1 persistent), close, or keep-alive (HTTP/1.0). */
enum resp_conn { RESP_KEEP, RESP_CLOSE, RESP_KEEP10, RESP_CONN_COUNT };

struct resp {
	const char *bytes; /* head and body */
	uint16_t head_len;
	uint16_t len; /* head + body; in Fernet mode RESP_SECRET's body is made per request */
	uint16_t date_off;
	uint16_t status;
};

/* Room for every response: three copies of the largest message plus the error pages. */
#define RESP_ARENA 32768

struct resp_table {
	struct resp r[RESP_COUNT][RESP_CONN_COUNT];
	int64_t date_sec;
	size_t body_len; /* of RESP_SECRET: the message, or its token */
	char arena[RESP_ARENA];
};

/*
 * Format every response for this message; token_len != 0 means Fernet mode, where the
 * secret's body is a token of that length made per request. 0, or -1 if it does not fit.
 */
int resp_init(struct resp_table *t, const char *message, size_t message_len, size_t token_len,
	      int64_t now_sec);

/* Patch the Date fields when the second has changed. */
void resp_tick(struct resp_table *t, int64_t now_sec);

/* The status a rejected request is answered with, as a response id. */
enum resp_id resp_for_status(int status);

/* Route a parsed request: GET/HEAD / is the secret; a method we do not know is 501 whatever
 * the target; other known methods (RFC 9110 §9, PATCH) on / are 405, and CONNECT on any
 * target, as we are no proxy; other paths are 404. A target that is neither a path nor an
 * absolute URI with a host is 400, and *why then says so (a static string; NULL otherwise). */
enum resp_id resp_route(const struct http_request *req, const char **why);

/* The longest reason a 400 carries in its body; longer ones are cut. */
#define RESP_WHY_MAX 64

/*
 * A 400 whose body says why ("bad request: <why>"): the one answer formatted per request, as
 * the reasons are many and an error path can afford a snprintf. The Date is the prebuilt
 * 400's. Writes the head (and the body unless head_only) to out[0..cap) and returns its
 * length, or -1 if it does not fit; *body is the body bytes written.
 */
int resp_format_400(const struct resp_table *t, enum resp_conn cn, const char *why, int head_only,
		    char *out, size_t cap, size_t *body);

/* Whether answering with this response must close the connection (framing errors). */
int resp_closes(enum resp_id id);

#endif
