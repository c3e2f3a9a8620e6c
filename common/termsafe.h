/*
 * termsafe: bytes someone else chose (a server's answer, a client's request line, a relayed
 * stream), made harmless before they reach a terminal or a log.
 *
 * The rule: C0 control bytes (0x00-0x1f) and DEL (0x7f) are always replaced. A terminal acts
 * on them: ESC starts sequences that move the cursor, recolour, retitle the window or write
 * the clipboard; CR and BS overwrite what is shown; LF starts a line that looks like ours.
 * Flags replace more bytes, let two through, or choose the replacement, because the callers
 * show the bytes differently:
 *
 *   squirrel-client, a head or an error line   TERMSAFE_HEX
 *   squirrel-client, a body on a terminal      TERMSAFE_HEX | TERMSAFE_LINES
 *   squirrel-server, the access log            TERMSAFE_HEX | TERMSAFE_ASCII | TERMSAFE_QUOTES
 *   squirrel-tap, text and hex-dump columns    TERMSAFE_DOT | TERMSAFE_ASCII
 */
#ifndef SQUIRREL_TERMSAFE_H
#define SQUIRREL_TERMSAFE_H

#include <stddef.h>

/* A replaced byte becomes "\xhh" (lower-case hex): nothing is lost, a reader can undo it. */
#define TERMSAFE_HEX 0u
/* A replaced byte becomes '.': one column per byte, as a hex dump's text column needs. */
#define TERMSAFE_DOT 1u
/* Bytes 0x80-0xff are replaced too: output is ASCII. Without it they pass where they form
 * UTF-8 text, so a UTF-8 reason phrase or body reads as written; a C1 control (U+0080-U+009F:
 * U+009B is CSI) and bytes that are not well-formed UTF-8 (a lone 0x9b is CSI to a terminal
 * in an 8-bit mode) are replaced. */
#define TERMSAFE_ASCII 2u
/* '"' and '\\' are replaced too: a field between quotes stays one field, and a "\x" in the
 * output was always written by us. */
#define TERMSAFE_QUOTES 4u
/* '\n' and '\t' pass: text shown as lines (a body), where they do what the sender meant. */
#define TERMSAFE_LINES 8u

/* 1 if rule lets byte c through as it is (c >= 0x80: within UTF-8 text, as termsafe_copy
 * checks), 0 if it is replaced. */
int termsafe_passes(unsigned char c, unsigned rule);

/*
 * Copy p[0..n) into out (cap >= 1 bytes, always NUL-terminated), each byte the rule does not
 * pass replaced. Stops before the first byte whose text does not fit whole with the NUL.
 * Returns how many bytes of p were copied; *outlen (unless NULL) gets strlen(out).
 */
size_t termsafe_copy(char *out, size_t cap, const void *p, size_t n, unsigned rule, size_t *outlen);

#endif
