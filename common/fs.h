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
 * Write len bytes of data to path atomically: a temporary file in the same folder, created
 * with mode, written and fsync'ed, then moved into place. With force == 0 an existing path
 * is left untouched and -EEXIST returned; with force != 0 it is replaced in one rename.
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

#endif
