/*
 * fs_tmpname: writing through a temporary name, path.tmp-XXXXXX, which Ctrl-C, kill or a
 * closed terminal must not leave behind. fs_write_atomic uses it where an unnamed file
 * (O_TMPFILE) cannot be had, and to replace a file with --force.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "fs_int.h"
#include "sig.h"

/* The temporary file's name, and whether it exists now: what the signal handler removes.
 * SIGKILL cannot be caught; the signals sig.h catches can, and by default they end the
 * program mid-write. */
static char tmp_name[FS_TMP_PATH_MAX];
static volatile sig_atomic_t tmp_exists;
static struct sig_saved tmp_old;

static void
tmp_on_signal(int sig)
{
	/* Async-signal-safe calls only: unlink, raise (POSIX.1-2008 §2.4.3). SA_RESETHAND made
	 * the action the default one, so the signal ends the program once we return. */
	if (tmp_exists)
		unlink(tmp_name);
	raise(sig);
}

/*
 * Move tmp to path unless path exists, race-free even if it appeared since we last looked.
 * RENAME_NOREPLACE does it in one step on the local filesystems Linux has (vfat included);
 * where a filesystem lacks it (EINVAL), link() and unlink() do, where hard links exist.
 */
static int
place_new(const char *tmp, const char *path)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	if (link(tmp, path) < 0)
		return -errno;
	unlink(tmp);
	return 0;
}

int
fs_write_named(const char *path, const void *data, size_t len, mode_t mode, int force)
{
	sigset_t old;
	int fd, rc;

	/* It fits: fs_write_atomic checked. */
	snprintf(tmp_name, sizeof(tmp_name), "%s" FS_TMP_SUFFIX, path);
	sig_catch_fatal(tmp_on_signal, &tmp_old);
	sig_block_fatal(&old);
	fd = mkostemp(tmp_name, O_CLOEXEC);
	rc = fd < 0 ? -errno : 0;
	tmp_exists = fd >= 0;
	sig_unblock(&old);
	if (rc == 0) {
		rc = fs_fill(fd, data, len, mode);
		if (close(fd) < 0 && rc == 0)
			rc = -errno;
		sig_block_fatal(&old);
		if (rc == 0)
			rc = force ? (rename(tmp_name, path) < 0 ? -errno : 0)
				   : place_new(tmp_name, path);
		if (rc != 0)
			unlink(tmp_name);
		tmp_exists = 0;
		sig_unblock(&old);
	}
	sig_restore(&tmp_old);
	return rc;
}

/* Fill the XXXXXX that ends tmp_name with random letters and digits. */
static void
tmp_name_randomize(void)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	static unsigned counter;
	unsigned char r[6];
	char *x = tmp_name + strlen(tmp_name) - sizeof(r);

	/* No entropy is no problem: a taken name is only tried again. */
	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)((unsigned)getpid() * 31u + counter++ * 7u + i);
	for (size_t i = 0; i < sizeof(r); i++)
		x[i] = set[r[i] % (sizeof(set) - 1)];
}

/*
 * --force: no call links a file over another, so the finished file is linked under a
 * temporary name and renamed over path at once. A signal in between removes that name;
 * only SIGKILL in those microseconds can leave it.
 */
int
fs_name_fd_replacing(int fd, const char *path)
{
	sigset_t old;
	int rc = -EEXIST;

	/* It fits: fs_write_atomic checked. */
	snprintf(tmp_name, sizeof(tmp_name), "%s" FS_TMP_SUFFIX, path);
	sig_catch_fatal(tmp_on_signal, &tmp_old);
	for (int tries = 0; rc == -EEXIST && tries < 100; tries++) {
		tmp_name_randomize();
		sig_block_fatal(&old);
		rc = fs_name_fd(fd, tmp_name);
		tmp_exists = rc == 0;
		sig_unblock(&old);
	}
	if (rc == 0) {
		sig_block_fatal(&old);
		if (rename(tmp_name, path) < 0) {
			rc = -errno;
			unlink(tmp_name);
		}
		tmp_exists = 0;
		sig_unblock(&old);
	}
	sig_restore(&tmp_old);
	return rc;
}
