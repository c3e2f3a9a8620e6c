/*
 * guard: copies of test input that end exactly at a PROT_NONE page, so a parser that reads
 * one byte past its input crashes the test instead of passing by luck (picohttpparser's
 * test trick).
 */
#ifndef SQUIRREL_GUARD_H
#define SQUIRREL_GUARD_H

#include <stddef.h>

/* A copy of n bytes of p whose last byte sits just before an unreadable page. */
char *guard_dup(const void *p, size_t n);
/* Free a guard_dup() copy of n bytes. */
void guard_free(char *g, size_t n);

#endif
