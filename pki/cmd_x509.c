/* XXX: placeholder until this file is written; every subcommand fails. */
#include "cmd.h"
#include "msg.h"

int
cmd_key(int argc, char **argv)
{
	(void)argc;
	msg_error("%s: not implemented yet", argv[0]);
	return 1;
}

int
cmd_ca(int argc, char **argv)
{
	(void)argc;
	msg_error("%s: not implemented yet", argv[0]);
	return 1;
}

int
cmd_csr(int argc, char **argv)
{
	(void)argc;
	msg_error("%s: not implemented yet", argv[0]);
	return 1;
}

int
cmd_sign(int argc, char **argv)
{
	(void)argc;
	msg_error("%s: not implemented yet", argv[0]);
	return 1;
}

int
cmd_show(int argc, char **argv)
{
	(void)argc;
	msg_error("%s: not implemented yet", argv[0]);
	return 1;
}

int
cmd_verify(int argc, char **argv)
{
	(void)argc;
	msg_error("%s: not implemented yet", argv[0]);
	return 1;
}
