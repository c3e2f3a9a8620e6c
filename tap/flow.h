/*
 * flow: squirrel-tap --flow, each connection drawn as a ladder, as Wireshark's Flow Graph
 * and the RFCs draw a handshake: the client on the left, the server on the right, one line
 * per message with an arrow for its direction, then what an eavesdropper learned.
 *
 *   conn 1: client 127.0.0.1:40312                              server 127.0.0.1:5683
 *   |-- ClientHello (SNI localhost, offers X25519 secp256r1 ...), 512 B -------->|
 *   |<-------------- ServerHello (TLS 1.3, TLS_AES_128_GCM_SHA256, X25519), 90 B --|
 *   |<------------------------------------------ [encrypted] 4 records, 1053 B --|
 *   conn 1: closed, client closed first (602 B ->, 1384 B <-)
 *   conn 1: an eavesdropper learned names and sizes only: SNI localhost, TLS 1.3, X25519
 *
 * Drawn from the dissector's events (dissect.h), never from its text lines. Sealed records
 * and unknown bytes that follow each other one way are one line. Every line fits
 * FLOW_WIDTH columns. Sans-IO: lines go out through the caller's dis_emit_fn.
 */
#ifndef SQUIRREL_TAP_FLOW_H
#define SQUIRREL_TAP_FLOW_H

#include <stdint.h>

#include "dissect.h"

/* Columns of every line: fits an 80-column terminal with room for a scroll bar. */
#define FLOW_WIDTH 78

/* Shared by all connections: lines of one connection interleaved with another's are marked
 * with a "conn N:" line when the connection changes. */
struct flow_view {
	dis_emit_fn emit;
	void *arg;
	unsigned long last; /* the connection of the last line drawn, 0 for none */
};

/* One connection's ladder. */
struct flow {
	struct flow_view *view;
	unsigned long id;
	/* A run of sealed records or unknown bytes, not drawn yet. */
	int run;
	enum dis_dir run_dir;
	enum dis_ev run_kind;
	int run_decrypted;
	unsigned long run_count;
	uint64_t run_bytes;
	/* What crossed, for the closing line. */
	int http_clear; /* an HTTP message outside TLS */
	int tokens;     /* a Fernet token outside TLS */
	int data_clear; /* bytes of no known protocol outside TLS */
};

/* Start f (conn id, from client to server) and draw its heading line. */
void flow_open(struct flow *f, struct flow_view *v, unsigned long id, const char *client,
	       const char *server);

/* One event of f's connection: a dis_event_fn, with the struct flow as arg. */
void flow_event(void *arg, const struct dis_event *ev);

/*
 * The connection ended (after dis_finish): draw what was pending, the closing line with how
 * (the relay's reason) and bytes (each direction's), and what an eavesdropper learned.
 */
void flow_close(struct flow *f, const struct dis_conn *d, const char *how, const uint64_t bytes[2]);

#endif
