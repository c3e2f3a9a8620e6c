/*
 * squirrel-pki: the tutorial's certificate authority, Fernet keys, and teaching toys.
 * A table of subcommands; each handler lives in a cmd_*.c file and returns the exit code.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "msg.h"

#define EXIT_USAGE 2

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct subcommand subcommands[] = {
	{.name = "key",
	 .run = cmd_key,
	 .summary = "make a private key (password-encrypted PKCS#8 by default)"},
	{.name = "ca", .run = cmd_ca, .summary = "make a self-signed CA certificate"},
	{.name = "csr",
	 .run = cmd_csr,
	 .summary = "make a certificate signing request with subject alternative names"},
	{.name = "sign",
	 .run = cmd_sign,
	 .summary = "sign a CSR with the CA: issue a server or client certificate"},
	{.name = "show", .run = cmd_show, .summary = "describe a certificate, CSR or key"},
	{.name = "verify",
	 .run = cmd_verify,
	 .summary = "check a certificate against a CA, a date and a host name"},
	{.name = "fernet-key",
	 .run = cmd_fernet_key,
	 .summary = "print a new random Fernet key (for SECRET_KEY)"},
	{.name = "caesar",
	 .run = cmd_caesar,
	 .summary = "the tutorial's substitution cipher: encrypt, decrypt, crack"},
	{.name = "dh-demo",
	 .run = cmd_dh_demo,
	 .summary = "watch a Diffie-Hellman (X25519) key exchange step by step"},
};

static void
usage(FILE *f)
{
	cmd_fprintf(f, "usage: squirrel-pki SUBCOMMAND [OPTIONS]\n\nsubcommands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		cmd_fprintf(f, "  %-11s %s\n", subcommands[i].name, subcommands[i].summary);
	cmd_fprintf(f,
		    "\n'squirrel-pki SUBCOMMAND --help' shows its options; see squirrel-pki(1)\n");
}

int
main(int argc, char **argv)
{
	msg_init("squirrel-pki");
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return cmd_stdout_close(NULL, PKI_EXIT_OK);
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return cmd_stdout_close(argv[1], subcommands[i].run(argc - 1, argv + 1));
	msg_error("unknown subcommand '%s' (try 'squirrel-pki --help')", argv[1]);
	return EXIT_USAGE;
}
