#include <string.h>

#include "sig.h"

static const int fatal[SIG_NFATAL] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static void
catch_fatal(void (*handler)(int), struct sig_saved *saved, int over_handlers)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESETHAND;
	sigfillset(&sa.sa_mask);
	for (int i = 0; i < SIG_NFATAL; i++) {
		sigaction(fatal[i], NULL, &saved->old[i]);
		if (saved->old[i].sa_handler == SIG_DFL ||
		    (over_handlers && saved->old[i].sa_handler != SIG_IGN))
			sigaction(fatal[i], &sa, NULL);
	}
}

void
sig_catch_fatal(void (*handler)(int), struct sig_saved *saved)
{
	catch_fatal(handler, saved, 0);
}

void
sig_catch_interrupt(void (*handler)(int), struct sig_saved *saved)
{
	catch_fatal(handler, saved, 1);
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
