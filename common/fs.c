#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "fs_int.h"

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

int
fs_parent_of(const char *path, char *dir, size_t cap)
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
int
fs_fill(int fd, const void *data, size_t len, mode_t mode)
{
	int rc = write_all(fd, data, len);

	/* The file was created 0600, so a key is never readable by others, not even briefly. */
	if (rc == 0 && fchmod(fd, mode) < 0)
		rc = -errno;
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	return rc;
}

/* ---- an unnamed file, named only when whole ------------------------------------------- */

/* What write_unnamed returns when this folder cannot do it: fs_write_named then can. */
#define UNNAMED_UNSUPPORTED 1

/* Give the unnamed file fd the name path; linkat never replaces, so a name taken is -EEXIST. */
int
fs_name_fd(int fd, const char *path)
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

/*
 * O_TMPFILE: the file has no name until it is whole, so a death at any point, SIGKILL and
 * power loss included, leaves nothing behind (with force, all but the instant between link
 * and rename). Returns UNNAMED_UNSUPPORTED where the filesystem has no O_TMPFILE (EOPNOTSUPP;
 * EISDIR or EINVAL from older kernels and some filesystems) or cannot link the file in (EPERM
 * where hard links are not allowed; ENOENT without /proc), so fs_write_named is tried.
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
	rc = fs_fill(fd, data, len, mode);
	/* fsync has reported any write error; close's report comes too late to matter here (NFS,
	 * where it matters most, has no O_TMPFILE). */
	if (rc == 0) {
		rc = force ? fs_name_fd_replacing(fd, path) : fs_name_fd(fd, path);
		/* Only "the name is taken" (without force) is an answer; any other failure to
		 * name it, fs_write_named meets again (and reports) or gets past. */
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

	if (strlen(path) + sizeof(FS_TMP_SUFFIX) > FS_TMP_PATH_MAX)
		return -ENAMETOOLONG;
	if ((rc = fs_parent_of(path, dir, sizeof(dir))) < 0)
		return rc;
	if (!force && fs_exists(path))
		return -EEXIST;
	rc = write_unnamed(dir, path, data, len, mode, force);
	if (rc == UNNAMED_UNSUPPORTED)
		rc = fs_write_named(path, data, len, mode, force);
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
