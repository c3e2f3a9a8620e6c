/*
 * pass: passwords for encrypted private keys, from a file (OpenSSL's -passin file:) or
 * from the terminal with echo off. Never from the command line, where ps(1) would show them.
 *
 * The caller owns buf and wipes it with explicit_bzero() after use.
 */
#ifndef SQUIRREL_PASS_H
#define SQUIRREL_PASS_H

#include <stddef.h>

/* Longest password accepted, without its NUL. */
#define PASS_MAX 1023

#define PASS_ERRORS(X)                                                                             \
	X(PASS_EREAD, -1, "cannot read")                                                           \
	X(PASS_EEMPTY, -2, "the password is empty")                                                \
	X(PASS_ETOOLONG, -3, "the password is longer than 1023 bytes")                             \
	X(PASS_ENOTTY, -4, "no terminal to ask for a password on")                                 \
	X(PASS_EMISMATCH, -5, "the two passwords differ")

enum pass_error {
#define PASS_ENUM(name, value, text) name = value,
	PASS_ERRORS(PASS_ENUM)
#undef PASS_ENUM
};

/* Text for a PASS_E* code. For PASS_EREAD, errno holds the reason. */
const char *pass_strerror(int code);

/*
 * Read the first line of path into buf (cap bytes, NUL-terminated), without its '\n'. A '\r'
 * before the '\n' is kept, as OpenSSL's -passin file: keeps it; then a warning naming path
 * goes to stderr (msg_warn). Returns 0, PASS_EREAD (errno set), PASS_EEMPTY or PASS_ETOOLONG.
 */
int pass_read_file(const char *path, char *buf, size_t cap);

/*
 * Ask on /dev/tty with echo off: prompt, then (if confirm is not NULL) confirm, which must
 * match. Returns 0, PASS_ENOTTY, PASS_EEMPTY, PASS_ETOOLONG, PASS_EMISMATCH or PASS_EREAD.
 * While echo is off, SIGINT, SIGTERM, SIGHUP and SIGQUIT (unless ignored) restore the
 * terminal and then end the process by the same signal, whatever handler the caller has for
 * them (Ctrl-C at a prompt ends the program there); the caller's actions for them are put
 * back before returning.
 */
int pass_prompt(const char *prompt, const char *confirm, char *buf, size_t cap);

/* 1 if this process has a controlling terminal to prompt on. */
int pass_have_tty(void);

#endif
