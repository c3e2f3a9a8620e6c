#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guard.h"

static size_t
span(size_t n, size_t page)
{
	return (n + page - 1) / page * page + page;
}

char *
guard_dup(const void *p, size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), total = span(n, page);
	char *base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *g;

	if (base == MAP_FAILED)
		abort();
	if (mprotect(base + total - page, page, PROT_NONE) < 0)
		abort();
	g = base + total - page - n;
	if (n > 0)
		memcpy(g, p, n);
	return g;
}

void
guard_free(char *g, size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), total = span(n, page);

	munmap(g + n + page - total, total);
}
