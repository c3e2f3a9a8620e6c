#include <string.h>

#include "sig.h"

static const int fatal[SIG_NFATAL] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

void
sig_catch_fatal(void (*handler)(int), struct sig_saved *saved)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESETHAND;
	sigfillset(&sa.sa_mask);
	for (int i = 0; i < SIG_NFATAL; i++) {
		sigaction(fatal[i], NULL, &saved->old[i]);
		if (saved->old[i].sa_handler == SIG_DFL)
			sigaction(fatal[i], &sa, NULL);
	}
}

void
sig_restore(const struct sig_saved *saved)
{
	for (int i = 0; i < SIG_NFATAL; i++)
		sigaction(fatal[i], &saved->old[i], NULL);
}

void
sig_block_fatal(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	for (int i = 0; i < SIG_NFATAL; i++)
		sigaddset(&set, fatal[i]);
	sigprocmask(SIG_BLOCK, &set, old);
}

void
sig_unblock(const sigset_t *old)
{
	sigprocmask(SIG_SETMASK, old, NULL);
}
