/*
 * bufpool: the fixed-size buffers connections borrow while they have bytes to hold, and give
 * back when idle, so an idle keep-alive connection costs its slot and no buffer (as nginx
 * frees header buffers of idle connections). Buffers are allocated on first need and then
 * reused: steady traffic allocates nothing.
 */
#ifndef SQUIRREL_BUFPOOL_H
#define SQUIRREL_BUFPOOL_H

#include <stddef.h>

#include "http.h"

/* Room for the largest request head plus pipelined bytes behind it; the parser refuses a
 * head larger than HTTP_MAX_HEAD, so a full buffer never leaves it undecided. */
#define BUF_SIZE (HTTP_MAX_HEAD + 4096)
/* Free buffers kept for reuse; beyond this, returned buffers are freed (after a burst). */
#define BUF_KEEP 1024

struct buf {
	struct buf *next; /* free list link */
	char data[BUF_SIZE];
};

struct bufpool {
	struct buf *free;
	size_t nfree;
	size_t nlive; /* allocated and not freed: in use or on the free list */
};

/* A buffer, or NULL when memory is exhausted. */
struct buf *bufpool_get(struct bufpool *p);
void bufpool_put(struct bufpool *p, struct buf *b);
void bufpool_free(struct bufpool *p);

#endif
