#include <errno.h>
#include <getopt.h>
#include <stdlib.h>

#include "msg.h"
#include "opt.h"

int
opt_number(const char *opt, const char *v, long min, long max, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < min || n > max) {
		msg_error("%s: expected a whole number from %ld to %ld, got '%s'", opt, min, max,
			  v);
		return -1;
	}
	*out = n;
	return 0;
}

int
opt_unknown(char **argv, int ch)
{
	/* argv[optind - 1] is the option as typed, long or short. */
	if (ch == ':')
		msg_error("option '%s' needs a value (try --help)", argv[optind - 1]);
	else if (optopt != 0 && optopt < 256 && argv[optind - 1][1] != '-')
		msg_error("unknown option '-%c' (try --help)", optopt);
	else
		msg_error("unknown option '%s' (try --help)", argv[optind - 1]);
	return -1;
}
