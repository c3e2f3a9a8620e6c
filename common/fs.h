/*
 * fs: whole-file reads into caller buffers, and writes that never leave a half-written file
 * and never clobber one unless asked.
 *
 * Every function returns 0 or a negative errno value (-ENOENT, -EEXIST, -EFBIG, ...), so
 * callers print strerror(-ret) and need no other table.
 */
#ifndef SQUIRREL_FS_H
#define SQUIRREL_FS_H

#include <stddef.h>
#include <sys/types.h>

/* Modes for fs_write_atomic: private keys are 0600, everything else public. */
#define FS_MODE_PRIVATE 0600
#define FS_MODE_PUBLIC 0644

/*
 * Read all of path into buf (cap bytes) and set *len. A file larger than cap is -EFBIG
 * (nothing we read is large: certificates, keys, passwords). buf is not NUL-terminated
 * unless room is left for it by the caller (read with cap - 1 and add it).
 */
int fs_read(const char *path, void *buf, size_t cap, size_t *len);

/*
 * Write len bytes of data to path atomically, created with mode (whatever the umask). The file
 * is written unnamed (O_TMPFILE), fsync'ed, then linked in as path, so a program killed
 * mid-write (SIGKILL and power loss included) leaves neither half a file nor a temporary one;
 * --force links it under a temporary name and renames that over path at once. Where the filesystem
 * cannot do that (no O_TMPFILE, no hard links), a temporary path.tmp-XXXXXX is written and
 * renamed instead; SIGINT, SIGTERM, SIGHUP and SIGQUIT remove it before the program dies (their
 * actions are changed for that only while it exists, and only where they are the default).
 * With force == 0 an existing path is left untouched and -EEXIST returned; with force != 0
 * it is replaced in one rename. The folder is fsync'ed after. Not for threads: the temporary
 * name lives in a static buffer, for the signal handler.
 */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, int force);

/* 1 if path exists (as anything), else 0. For refusing early, before slow work. */
int fs_exists(const char *path);

/*
 * 1 if path (its final symbolic link not followed, as fs_write_atomic replaces the link) is
 * the file other resolves to, a hard link included; else 0 (also when either is missing).
 * For refusing an output that would replace one of the command's own inputs.
 */
int fs_same_file(const char *path, const char *other);

/* The folder holding path into dir ("." for a bare name, "/" for one under the root): where
 * fs_write_atomic's temporary file goes, or the folder a file may later appear in. 0, or
 * -ENAMETOOLONG when it does not fit cap. */
int fs_parent_of(const char *path, char *dir, size_t cap);

#endif
