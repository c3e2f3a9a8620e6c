/*
 * opt: option values that are whole numbers, refused in one message shape by every program:
 *   squirrel-server: error: --idle-timeout: expected a whole number from 1 to 86400, got 'x'
 */
#ifndef SQUIRREL_OPT_H
#define SQUIRREL_OPT_H

/* Parse v as a decimal in [min, max] into *out. 0, or -1 after printing the error. */
int opt_number(const char *opt, const char *v, long min, long max, long *out);

#endif
