#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "sig.h"

int
fs_read(const char *path, void *buf, size_t cap, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		/* One spare byte tells "exactly cap" from "more than cap". */
		char probe;
		ssize_t r = n < cap ? read(fd, (char *)buf + n, cap - n) : read(fd, &probe, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		if (n == cap) {
			close(fd);
			return -EFBIG;
		}
		n += (size_t)r;
	}
	close(fd);
	*len = n;
	return 0;
}

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The folder holding path: where its temporary file goes, and what to fsync after naming it. */
static int
parent_of(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (slash == NULL)
		n = snprintf(dir, cap, ".");
	else if (slash == path)
		n = snprintf(dir, cap, "/");
	else
		n = snprintf(dir, cap, "%.*s", (int)(slash - path), path);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* A new name is durable only once its folder is: fsync that too. */
static void
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Everything in, the final mode on, and on disk before the file gets its name. */
static int
fill(int fd, const void *data, size_t len, mode_t mode)
{
	int rc = write_all(fd, data, len);

	/* The file was created 0600, so a key is never readable by others, not even briefly. */
	if (rc == 0 && fchmod(fd, mode) < 0)
		rc = -errno;
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	return rc;
}

/* ---- a named temporary file that Ctrl-C, kill or a closed terminal must not leave behind --- */

/* The temporary file's name, and whether it exists now: what the signal handler removes.
 * SIGKILL cannot be caught; the signals sig.h catches can, and by default they end the
 * program mid-write. */
static char tmp_name[PATH_MAX];
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

/* The method for filesystems without O_TMPFILE: write path.tmp-XXXXXX, then rename it. */
static int
write_named(const char *path, const void *data, size_t len, mode_t mode, int force)
{
	sigset_t old;
	int fd, rc;

	/* It fits: fs_write_atomic checked. */
	snprintf(tmp_name, sizeof(tmp_name), "%s.tmp-XXXXXX", path);
	sig_catch_fatal(tmp_on_signal, &tmp_old);
	sig_block_fatal(&old);
	fd = mkostemp(tmp_name, O_CLOEXEC);
	rc = fd < 0 ? -errno : 0;
	tmp_exists = fd >= 0;
	sig_unblock(&old);
	if (rc == 0) {
		rc = fill(fd, data, len, mode);
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

/* ---- an unnamed file, named only when whole ------------------------------------------- */

/* What write_unnamed returns when this folder cannot do it: write_named then can. */
#define UNNAMED_UNSUPPORTED 1

/* Give the unnamed file fd the name path; linkat never replaces, so a name taken is -EEXIST. */
static int
name_fd(int fd, const char *path)
{
	char proc[32];

	if (linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH) == 0)
		return 0;
	/* AT_EMPTY_PATH wants CAP_DAC_READ_SEARCH (ENOENT without it); /proc's link to the open
	 * file does the same for anyone. */
	if (errno != ENOENT)
		return -errno;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0 ? 0 : -errno;
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
static int
name_fd_replacing(int fd, const char *path)
{
	sigset_t old;
	int rc = -EEXIST;

	/* It fits: fs_write_atomic checked. */
	snprintf(tmp_name, sizeof(tmp_name), "%s.tmp-XXXXXX", path);
	sig_catch_fatal(tmp_on_signal, &tmp_old);
	for (int tries = 0; rc == -EEXIST && tries < 100; tries++) {
		tmp_name_randomize();
		sig_block_fatal(&old);
		rc = name_fd(fd, tmp_name);
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

/*
 * O_TMPFILE: the file has no name until it is whole, so a death at any point, SIGKILL and
 * power loss included, leaves nothing behind (with force, all but the instant between link
 * and rename). Returns UNNAMED_UNSUPPORTED where the filesystem has no O_TMPFILE (EOPNOTSUPP;
 * EISDIR or EINVAL from older kernels and some filesystems) or cannot link the file in (EPERM
 * where hard links are not allowed; ENOENT without /proc), so write_named is tried.
 */
static int
write_unnamed(const char *dir, const char *path, const void *data, size_t len, mode_t mode,
	      int force)
{
	int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, FS_MODE_PRIVATE);
	int rc;

	if (fd < 0)
		return errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL
			       ? UNNAMED_UNSUPPORTED
			       : -errno;
	rc = fill(fd, data, len, mode);
	/* fsync has reported any write error; close's report comes too late to matter here (NFS,
	 * where it matters most, has no O_TMPFILE). */
	if (rc == 0) {
		rc = force ? name_fd_replacing(fd, path) : name_fd(fd, path);
		/* Only "the name is taken" (without force) is an answer; any other failure to
		 * name it, write_named meets again (and reports) or gets past. */
		if (rc < 0 && (force || rc != -EEXIST))
			rc = UNNAMED_UNSUPPORTED;
	}
	close(fd);
	return rc;
}

int
fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, int force)
{
	char dir[PATH_MAX];
	int rc;

	if (strlen(path) + sizeof(".tmp-XXXXXX") > sizeof(tmp_name))
		return -ENAMETOOLONG;
	if ((rc = parent_of(path, dir, sizeof(dir))) < 0)
		return rc;
	if (!force && fs_exists(path))
		return -EEXIST;
	rc = write_unnamed(dir, path, data, len, mode, force);
	if (rc == UNNAMED_UNSUPPORTED)
		rc = write_named(path, data, len, mode, force);
	if (rc == 0)
		sync_dir(dir);
	return rc;
}

int
fs_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int
fs_same_file(const char *path, const char *other)
{
	struct stat a, b;

	return lstat(path, &a) == 0 && stat(other, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}
