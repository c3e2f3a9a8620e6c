/*
 * The subcommands of squirrel-pki. Each handler gets argv starting at its own name
 * (argv[0] == "key", ...), parses its options, reads files, calls the pki library, writes
 * the result, prints one line, and returns the process exit code (see squirrel-pki(1)).
 */
#ifndef SQUIRREL_CMD_H
#define SQUIRREL_CMD_H

#include <stddef.h>
#include <stdio.h>

#include "msg.h"

/* Exit codes of squirrel-pki: stable, listed in squirrel-pki(1); scripts depend on them. */
enum pki_exit {
	PKI_EXIT_OK = 0,
	PKI_EXIT_FAIL = 1,     /* anything not below (out of memory, RNG failure, ...) */
	PKI_EXIT_USAGE = 2,    /* bad or missing options */
	PKI_EXIT_EXISTS = 3,   /* the output file exists; nothing written (use --force) */
	PKI_EXIT_READ = 4,     /* an input file cannot be read */
	PKI_EXIT_WRITE = 5,    /* the output file, or standard output, cannot be written */
	PKI_EXIT_PASSWORD = 6, /* wrong, missing or unreadable password */
	PKI_EXIT_INPUT = 7,    /* garbled or unsupported PEM/DER/CSR input */
	PKI_EXIT_MISMATCH = 8, /* key does not match certificate, or a signature is bad */
	PKI_EXIT_VERIFY = 9,   /* verify: the certificate is not acceptable */
};

/*
 * cmd_out.c: all that goes to standard output goes through these, which remember the errno of
 * the first write that failed (stdio forgets it). They return 0, or -1 if this one failed;
 * handlers may stop early then (caesar stops reading its input) but print nothing about it:
 * main() calls cmd_stdout_close, which flushes and closes standard output and, if any write
 * failed, prints "CMD: cannot write to standard output: REASON" (no "CMD: " when cmd is
 * NULL) and returns PKI_EXIT_WRITE, or rc if that is already a failure; else rc.
 */
int cmd_printf(const char *fmt, ...) MSG_FMT(1, 2);
int cmd_fprintf(FILE *f, const char *fmt, ...) MSG_FMT(2, 3);
int cmd_write(const void *buf, size_t len);
int cmd_stdout_close(const char *cmd, int rc);

/* cmd_x509.c: keys, certificates and CSRs */
int cmd_key(int argc, char **argv);
int cmd_ca(int argc, char **argv);
int cmd_csr(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_verify(int argc, char **argv);

/* cmd_fernet.c */
int cmd_fernet_key(int argc, char **argv);

/* cmd_teach.c: the tutorial's teaching toys */
int cmd_caesar(int argc, char **argv);
int cmd_dh_demo(int argc, char **argv);

#endif
