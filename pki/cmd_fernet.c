/* squirrel-pki fernet-key: a new random Fernet key for SECRET_KEY (the tutorial's generate_key). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "fernet.h"
#include "msg.h"

static void
fernet_key_usage(FILE *f)
{
	cmd_fprintf(
		f,
		"usage: squirrel-pki fernet-key\n"
		"\n"
		"Print a new random Fernet key: 32 bytes from wolfCrypt's RNG as url-safe base64\n"
		"(44 characters), then a newline. Both ends of the fernet stage need the same key:\n"
		"\n"
		"  export SECRET_KEY=$(squirrel-pki fernet-key)\n"
		"\n"
		"To change keys without breaking members that still have the old one, put the new\n"
		"key first: SECRET_KEY=NEW,OLD (the server encrypts with NEW, clients try each).\n");
}

int
cmd_fernet_key(int argc, char **argv)
{
	struct fernet_key k;
	char text[FERNET_KEY_B64_LEN + 1];
	int ret;

	if (argc > 1) {
		if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
			fernet_key_usage(stdout);
			return PKI_EXIT_OK;
		}
		msg_error(
			"fernet-key: unexpected argument '%s' (try 'squirrel-pki fernet-key --help')",
			argv[1]);
		return PKI_EXIT_USAGE;
	}
	if ((ret = fernet_key_generate(&k)) != 0) {
		msg_error("fernet-key: %s: cannot draw random bytes", fernet_strerror(ret));
		return PKI_EXIT_FAIL;
	}
	fernet_key_format(&k, text);
	explicit_bzero(&k, sizeof(k));
	/* A key that failed to reach a pipe or file is lost: main() checks that it got there. */
	cmd_printf("%s\n", text);
	explicit_bzero(text, sizeof(text));
	return PKI_EXIT_OK;
}
