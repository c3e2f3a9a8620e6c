/* XXX: placeholder until this file is written; every subcommand fails. */
#include "cmd.h"
#include "msg.h"

int
cmd_fernet_key(int argc, char **argv)
{
	(void)argc;
	msg_error("%s: not implemented yet", argv[0]);
	return 1;
}
