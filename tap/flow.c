/*
 * flow: a connection as a ladder of messages, from the dissector's events. See flow.h.
 */
#include <stdio.h>
#include <string.h>

#include "flow.h"

/* "|-- " + text + " -" ... ">|": the fewest columns around a message's text. */
#define FLOW_FRAME 8
#define FLOW_TEXT_MAX (FLOW_WIDTH - FLOW_FRAME)

/* Emit text cut to FLOW_WIDTH columns ("..." at the end when cut). */
static void
say(const struct flow *f, const char *text)
{
	char line[FLOW_WIDTH + 1];
	size_t n = strlen(text);

	if (n <= FLOW_WIDTH) {
		f->view->emit(f->view->arg, text);
		return;
	}
	memcpy(line, text, FLOW_WIDTH - 3);
	memcpy(line + FLOW_WIDTH - 3, "...", 4);
	f->view->emit(f->view->arg, line);
}

/* A line about f: another connection's lines came since f's last one, say whose this is. */
static void
mark(struct flow *f)
{
	char line[64];

	if (f->view->last != 0 && f->view->last != f->id) {
		snprintf(line, sizeof(line), "conn %lu:", f->id);
		say(f, line);
	}
	f->view->last = f->id;
}

/* One message: an arrow across the ladder, its text at the sender's end. */
static void
arrow(struct flow *f, enum dis_dir dir, const char *text)
{
	char cut[FLOW_TEXT_MAX + 1], line[2 * FLOW_WIDTH], dashes[FLOW_WIDTH + 1];
	size_t n = strlen(text), k;

	if (n > FLOW_TEXT_MAX) {
		memcpy(cut, text, FLOW_TEXT_MAX - 3);
		memcpy(cut + FLOW_TEXT_MAX - 3, "...", 4);
		text = cut;
		n = FLOW_TEXT_MAX;
	}
	k = FLOW_WIDTH - (FLOW_FRAME - 1) - n;
	memset(dashes, '-', k);
	dashes[k] = '\0';
	if (dir == DIS_C2S)
		snprintf(line, sizeof(line), "|-- %s %s>|", text, dashes);
	else
		snprintf(line, sizeof(line), "|<%s %s --|", dashes, text);
	mark(f);
	say(f, line);
}

static void
run_flush(struct flow *f)
{
	char text[128];

	if (!f->run)
		return;
	f->run = 0;
	if (f->run_kind == DIS_EV_SEALED && f->run_count > 1)
		snprintf(text, sizeof(text), "[encrypted] %lu records, %llu B", f->run_count,
			 (unsigned long long)f->run_bytes);
	else if (f->run_kind == DIS_EV_SEALED)
		snprintf(text, sizeof(text), "[encrypted] %llu B",
			 (unsigned long long)f->run_bytes);
	else
		snprintf(text, sizeof(text), "%s%llu B of data",
			 f->run_decrypted ? "[decrypted] " : "", (unsigned long long)f->run_bytes);
	arrow(f, f->run_dir, text);
}

void
flow_open(struct flow *f, struct flow_view *v, unsigned long id, const char *client,
	  const char *server)
{
	char left[96], right[96], line[2 * 96 + FLOW_WIDTH];
	int pad;

	memset(f, 0, sizeof(*f));
	f->view = v;
	f->id = id;
	snprintf(left, sizeof(left), "conn %lu: client %s", id, client);
	snprintf(right, sizeof(right), "server %s", server);
	pad = FLOW_WIDTH - (int)strlen(left) - (int)strlen(right);
	snprintf(line, sizeof(line), "%s%*s%s", left, pad > 1 ? pad : 1, "", right);
	say(f, line);
	v->last = id;
}

/* The message's text on its arrow: "[decrypted] " if so, name, detail, size. */
static void
message_text(const struct dis_event *ev, char *text, size_t cap)
{
	const char *dec = ev->decrypted ? "[decrypted] " : "";

	if (ev->kind == DIS_EV_HTTP && ev->size > 0)
		snprintf(text, cap, "%s%s, %llu B: %s", dec, ev->what, (unsigned long long)ev->size,
			 ev->detail);
	else if (ev->kind == DIS_EV_HTTP)
		snprintf(text, cap, "%s%s", dec, ev->what);
	else if (strcmp(ev->what, "Alert") == 0 || strcmp(ev->what, "ChangeCipherSpec") == 0)
		snprintf(text, cap, "%s%s%s%s%s", dec, ev->what, ev->detail[0] ? " (" : "",
			 ev->detail, ev->detail[0] ? ")" : "");
	else if ((size_t)snprintf(text, cap, "%s%s%s%s%s, %llu B", dec, ev->what,
				  ev->detail[0] ? " (" : "", ev->detail, ev->detail[0] ? ")" : "",
				  (unsigned long long)ev->size) > FLOW_TEXT_MAX)
		/* The size goes first: the names tell more. */
		snprintf(text, cap, "%s%s%s%s%s", dec, ev->what, ev->detail[0] ? " (" : "",
			 ev->detail, ev->detail[0] ? ")" : "");
}

void
flow_event(void *arg, const struct dis_event *ev)
{
	struct flow *f = arg;
	char text[512];

	if (!ev->decrypted) {
		f->http_clear |= ev->kind == DIS_EV_HTTP;
		f->tokens |= ev->kind == DIS_EV_TOKEN;
		f->data_clear |= ev->kind == DIS_EV_DATA;
	}
	if (ev->kind == DIS_EV_TOKEN)
		return; /* inside a message drawn already: counted for the closing line */
	if (ev->kind == DIS_EV_SEALED || ev->kind == DIS_EV_DATA) {
		if (f->run && (f->run_dir != ev->dir || f->run_kind != ev->kind ||
			       f->run_decrypted != ev->decrypted))
			run_flush(f);
		if (!f->run) {
			f->run = 1;
			f->run_dir = ev->dir;
			f->run_kind = ev->kind;
			f->run_decrypted = ev->decrypted;
			f->run_count = 0;
			f->run_bytes = 0;
		}
		f->run_count++;
		f->run_bytes += ev->size;
		return;
	}
	run_flush(f);
	message_text(ev, text, sizeof(text));
	arrow(f, ev->dir, text);
}

/* What an eavesdropper without keys learned from the connection. */
static const char *
learned(const struct flow *f, const struct dis_conn *d, int tls)
{
	if (dis_grep_seen(d, DIS_C2S) || dis_grep_seen(d, DIS_S2C))
		return "the secret: it crossed in clear";
	if (f->tokens)
		return "a Fernet token, not the secret inside it";
	if (f->http_clear)
		return "everything: the HTTP crossed in clear";
	if (tls)
		return "names and sizes only";
	if (f->data_clear)
		return "every byte (no protocol the tap knows)";
	return "nothing: no byte crossed";
}

void
flow_close(struct flow *f, const struct dis_conn *d, const char *how, const uint64_t bytes[2])
{
	char line[512], facts[256];
	unsigned long opened = dis_decrypted_records(d);
	int tls = dis_tls_summary(d, facts, sizeof(facts)) == 0;

	run_flush(f);
	mark(f);
	snprintf(line, sizeof(line), "conn %lu: closed, %s (%llu B ->, %llu B <-)", f->id, how,
		 (unsigned long long)bytes[DIS_C2S], (unsigned long long)bytes[DIS_S2C]);
	say(f, line);
	if (tls && facts[0] != '\0') {
		snprintf(line, sizeof(line), "conn %lu: in clear: %s", f->id, facts);
		say(f, line);
	}
	snprintf(line, sizeof(line), "conn %lu: an eavesdropper learned %s", f->id,
		 learned(f, d, tls));
	say(f, line);
	if (opened > 0) {
		snprintf(line, sizeof(line), "conn %lu: the key log opened %lu record%s", f->id,
			 opened, opened == 1 ? "" : "s");
		say(f, line);
	}
}
