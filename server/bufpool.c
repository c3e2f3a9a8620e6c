#include <stdlib.h>

#include "bufpool.h"

void
bufpool_init(struct bufpool *p, uint32_t size)
{
	p->free = NULL;
	p->nfree = 0;
	p->nlive = 0;
	p->size = size;
}

struct buf *
bufpool_get(struct bufpool *p)
{
	struct buf *b = p->free;

	if (b != NULL) {
		p->free = b->next;
		p->nfree--;
		return b;
	}
	b = malloc(sizeof(*b) + p->size);
	if (b != NULL) {
		b->cap = p->size;
		p->nlive++;
	}
	return b;
}

void
bufpool_put(struct bufpool *p, struct buf *b)
{
	if (b == NULL)
		return;
	if (p->nfree >= BUF_KEEP) {
		free(b);
		p->nlive--;
		return;
	}
	b->next = p->free;
	p->free = b;
	p->nfree++;
}

void
bufpool_free(struct bufpool *p)
{
	while (p->free != NULL) {
		struct buf *b = p->free;

		p->free = b->next;
		free(b);
	}
	p->nfree = 0;
	p->nlive = 0;
}
