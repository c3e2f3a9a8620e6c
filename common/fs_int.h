/*
 * fs_int: what common/fs.c and common/fs_tmpname.c share, and nothing else may use. The
 * interface is fs.h.
 */
#ifndef SQUIRREL_FS_INT_H
#define SQUIRREL_FS_INT_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

/* The temporary name is path followed by this, XXXXXX made random. */
#define FS_TMP_SUFFIX ".tmp-XXXXXX"
/* The longest temporary name, NUL included: the signal handler's static buffer. */
#define FS_TMP_PATH_MAX PATH_MAX

/* Write all of data to fd, set mode, fsync. 0 or -errno. (fs.c) */
int fs_fill(int fd, const void *data, size_t len, mode_t mode);

/* Give the unnamed file fd the name path, never replacing one: -EEXIST if taken. (fs.c) */
int fs_name_fd(int fd, const char *path);

/*
 * Where the filesystem has no O_TMPFILE or no hard links: write path.tmp-XXXXXX, then
 * rename it to path (with force) or move it there unless path exists (-EEXIST). The
 * temporary name is removed on failure and by SIGINT, SIGTERM, SIGHUP or SIGQUIT. 0 or
 * -errno. (fs_tmpname.c)
 */
int fs_write_named(const char *path, const void *data, size_t len, mode_t mode, int force);

/*
 * --force for an unnamed file: link fd under a temporary name, then rename that over path.
 * The same signals remove the temporary name. 0 or -errno. (fs_tmpname.c)
 */
int fs_name_fd_replacing(int fd, const char *path);

#endif
