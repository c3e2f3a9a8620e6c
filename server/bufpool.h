/*
 * bufpool: the buffers connections borrow while they have bytes to hold, and give back when
 * idle, so an idle keep-alive connection costs its slot and no buffer (as nginx frees header
 * buffers of idle connections). A pool hands out buffers of one size; they are allocated on
 * first need and then reused: steady traffic allocates nothing.
 *
 * Two sizes, as nginx's client_header_buffer_size and large_client_header_buffers: a request
 * head starts in a small buffer, which almost every head fits, and moves to a large one only
 * when it outgrows it. A flood of half-sent heads then holds 2 KiB per connection, not 20.
 */
#ifndef SQUIRREL_BUFPOOL_H
#define SQUIRREL_BUFPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

/* Room for the largest request head plus pipelined bytes behind it; the parser refuses a
 * head larger than HTTP_MAX_HEAD, so a full buffer never leaves it undecided. Output
 * buffers (batched answers) are this size too. */
#define BUF_SIZE (HTTP_MAX_HEAD + 4096)
/* Where every request head starts: curl's is under 100 bytes, a browser's with cookies
 * rarely over 1 KiB. */
#define BUF_SMALL 2048
/* Free buffers kept for reuse in each pool; beyond this, returned buffers are freed. */
#define BUF_KEEP 1024

_Static_assert(BUF_SMALL < BUF_SIZE, "buffers tell their pool by their size");

struct buf {
	struct buf *next; /* free list link */
	uint32_t cap;     /* bytes in data: the pool's size */
	char data[];
};

struct bufpool {
	struct buf *free;
	size_t nfree;
	size_t nlive; /* allocated and not freed: in use or on the free list */
	uint32_t size;
};

/* An empty pool of buffers of size bytes. */
void bufpool_init(struct bufpool *p, uint32_t size);
/* A buffer, or NULL when memory is exhausted. */
struct buf *bufpool_get(struct bufpool *p);
/* Give b (from this pool, or NULL) back. */
void bufpool_put(struct bufpool *p, struct buf *b);
void bufpool_free(struct bufpool *p);

#endif
