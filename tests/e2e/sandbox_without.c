/*
 * Run a program as on a kernel without one sandbox layer: test_sandbox.py starts our programs
 * through this to see them name the missing layer and go on with the others.
 *
 *   sandbox_without landlock|seccomp PROGRAM [ARG...]
 *
 * landlock: the three landlock_* calls fail with ENOSYS, as on a kernel built without it.
 * seccomp: prctl(PR_GET_SECCOMP) and seccomp() fail with EINVAL, as without CONFIG_SECCOMP.
 * (This is itself a seccomp filter: the kernel must offer seccomp for either.)
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static int
refuse(scmp_filter_ctx f, const char *layer)
{
	if (strcmp(layer, "landlock") == 0)
		return seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS),
					SCMP_SYS(landlock_create_ruleset), 0) |
		       seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(landlock_add_rule), 0) |
		       seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(landlock_restrict_self),
					0);
	if (strcmp(layer, "seccomp") == 0)
		return seccomp_rule_add(f, SCMP_ACT_ERRNO(EINVAL), SCMP_SYS(prctl), 1,
					SCMP_A0(SCMP_CMP_EQ, PR_GET_SECCOMP)) |
		       seccomp_rule_add(f, SCMP_ACT_ERRNO(EINVAL), SCMP_SYS(seccomp), 0);
	return -1;
}

int
main(int argc, char **argv)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);

	if (argc < 3 || f == NULL || refuse(f, argv[1]) != 0 || seccomp_load(f) != 0) {
		fprintf(stderr, "usage: sandbox_without landlock|seccomp PROGRAM [ARG...]\n");
		return 2;
	}
	execv(argv[2], argv + 2);
	perror(argv[2]);
	return 127;
}
