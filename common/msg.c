#include <stdio.h>

#include "msg.h"

static const char *prog = "squirrel";

void
msg_init(const char *name)
{
	prog = name;
}

const char *
msg_prog(void)
{
	return prog;
}

static void
emit(const char *kind, const char *fmt, va_list ap)
{
	/* One fprintf per line keeps lines whole when several processes share stderr. */
	char line[2048];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "%s: %s%s\n", prog, kind, line);
}

#define MSG_FN(name, kind)                                                                         \
	void name(const char *fmt, ...)                                                            \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		emit(kind, fmt, ap);                                                               \
		va_end(ap);                                                                        \
	}

MSG_FN(msg_error, "error: ")
MSG_FN(msg_warn, "warning: ")
MSG_FN(msg_note, "note: ")
MSG_FN(msg_info, "")
