/*
 * clock: the monotonic clock, for deadlines and durations (never the wall clock, which jumps).
 */
#ifndef SQUIRREL_CLOCK_H
#define SQUIRREL_CLOCK_H

#include <stdint.h>

int64_t clock_ms(void);
int64_t clock_us(void);

#endif
