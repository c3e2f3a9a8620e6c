/*
 * opt: option values that are whole numbers, refused in one message shape by every program:
 *   squirrel-server: error: --idle-timeout: expected a whole number from 1 to 86400, got 'x'
 */
#ifndef SQUIRREL_OPT_H
#define SQUIRREL_OPT_H

/* Parse v as a decimal in [min, max] into *out. 0, or -1 after printing the error. */
int opt_number(const char *opt, const char *v, long min, long max, long *out);

/*
 * After getopt_long() (with an option string starting with ':') returned '?' or ':': say
 * which option it did not take, or that it needs a value. Returns -1.
 */
int opt_unknown(char **argv, int ch);

#endif
