/*
 * sig: undo something on the way out when a signal ends the program. SIGINT (Ctrl-C),
 * SIGTERM (kill), SIGHUP (a closed terminal) and SIGQUIT end a program by default; while it
 * has something that must not outlive it (a terminal with echo off, a temporary file), a
 * handler undoes that and raise()s the signal again, which then ends the program as it would
 * have without us (SA_RESETHAND gave the signal its default action back).
 */
#ifndef SQUIRREL_SIG_H
#define SQUIRREL_SIG_H

#include <signal.h>

#define SIG_NFATAL 4

struct sig_saved {
	struct sigaction old[SIG_NFATAL];
};

/*
 * Catch the four with handler, once each, with every signal blocked while it runs; save the
 * old actions in saved. Only where the action is the default: an ignored signal (nohup(1)
 * keeps SIGHUP so) or one with a handler of its own does not end the program, so nothing
 * needs undoing then. handler must use async-signal-safe calls only and end with raise(sig).
 */
void sig_catch_fatal(void (*handler)(int), struct sig_saved *saved);

/*
 * The same, over the program's own handlers too (never over an ignored signal): while a
 * person is being asked something, Ctrl-C means stop now, even in a program whose handler
 * only notes the signal for later (a server's graceful stop, seen once its loop runs).
 */
void sig_catch_interrupt(void (*handler)(int), struct sig_saved *saved);

/* Put the actions saved by sig_catch_fatal or sig_catch_interrupt back. */
void sig_restore(const struct sig_saved *saved);

/*
 * Hold the four off (the old mask in old) while the state their handler reads changes, so the
 * handler never sees it half-changed: a file created but not yet marked as existing would be
 * left behind. sig_unblock puts the old mask back; a signal that came meanwhile lands then.
 */
void sig_block_fatal(sigset_t *old);
void sig_unblock(const sigset_t *old);

#endif
