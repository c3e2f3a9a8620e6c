#include <errno.h>
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
		msg_error("%s: expected a whole number from %ld to %ld, got '%s'", opt, min, max, v);
		return -1;
	}
	*out = n;
	return 0;
}
