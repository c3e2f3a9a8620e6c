/*
 * The subcommands of squirrel-pki. Each handler gets argv starting at its own name
 * (argv[0] == "key", ...), parses its options, reads files, calls the pki library, writes
 * the result, prints one line, and returns the process exit code (see squirrel-pki(1)).
 */
#ifndef SQUIRREL_CMD_H
#define SQUIRREL_CMD_H

/* Exit codes of squirrel-pki: stable, listed in squirrel-pki(1); scripts depend on them. */
enum pki_exit {
	PKI_EXIT_OK = 0,
	PKI_EXIT_FAIL = 1,     /* anything not below (out of memory, RNG failure, ...) */
	PKI_EXIT_USAGE = 2,    /* bad or missing options */
	PKI_EXIT_EXISTS = 3,   /* the output file exists; nothing written (use --force) */
	PKI_EXIT_READ = 4,     /* an input file cannot be read */
	PKI_EXIT_WRITE = 5,    /* the output file cannot be written */
	PKI_EXIT_PASSWORD = 6, /* wrong, missing or unreadable password */
	PKI_EXIT_INPUT = 7,    /* garbled or unsupported PEM/DER/CSR input */
	PKI_EXIT_MISMATCH = 8, /* key does not match certificate, or a signature is bad */
	PKI_EXIT_VERIFY = 9,   /* verify: the certificate is not acceptable */
};

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
