/*
 * fs_write_atomic: whole files or none, never one replaced without force, the mode asked for
 * whatever the umask, no temporary name left over, and signal actions as they were.
 * (What a kill mid-write leaves is tested end to end in tests/e2e/test_pki.py.)
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fs.h"

/* Short enough that every name in it fits PATH_MAX: the test is not about long names. */
static char dir[256];

static int
dir_make(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/squirrel-fs-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
dir_remove(void **state)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_MAX];

	(void)state;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d != NULL)
		closedir(d);
	return rmdir(dir);
}

static const char *
in_dir(const char *name)
{
	static char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

/* How many names the folder holds: a temporary one left over shows up here. */
static int
dir_count(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void
assert_file(const char *path, const char *text, mode_t mode)
{
	char buf[256];
	size_t len = 0;
	struct stat st;

	assert_int_equal(fs_read(path, buf, sizeof(buf) - 1, &len), 0);
	buf[len] = '\0';
	assert_string_equal(buf, text);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, mode);
	assert_int_equal(st.st_nlink, 1);
}

static void
test_new_files_get_their_mode_whatever_the_umask(void **state)
{
	mode_t old = umask(077);

	(void)state;
	assert_int_equal(fs_write_atomic(in_dir("cert.pem"), "cert\n", 5, FS_MODE_PUBLIC, 0), 0);
	umask(0);
	assert_int_equal(fs_write_atomic(in_dir("key.pem"), "key\n", 4, FS_MODE_PRIVATE, 0), 0);
	umask(old);
	assert_file(in_dir("cert.pem"), "cert\n", 0644);
	assert_file(in_dir("key.pem"), "key\n", 0600);
	assert_int_equal(fs_write_atomic(in_dir("empty"), "", 0, FS_MODE_PUBLIC, 0), 0);
	assert_file(in_dir("empty"), "", 0644);
	assert_int_equal(dir_count(), 3);
}

static void
test_existing_files_are_replaced_only_with_force(void **state)
{
	(void)state;
	assert_int_equal(fs_write_atomic(in_dir("k.pem"), "old\n", 4, FS_MODE_PUBLIC, 0), 0);
	assert_int_equal(fs_write_atomic(in_dir("k.pem"), "new\n", 4, FS_MODE_PRIVATE, 0), -EEXIST);
	assert_file(in_dir("k.pem"), "old\n", 0644);
	assert_int_equal(fs_write_atomic(in_dir("k.pem"), "new\n", 4, FS_MODE_PRIVATE, 1), 0);
	assert_file(in_dir("k.pem"), "new\n", 0600);
	/* A dangling symbolic link is a name taken, and with force it is replaced, not followed. */
	assert_int_equal(symlink("nowhere", in_dir("link.pem")), 0);
	assert_int_equal(fs_write_atomic(in_dir("link.pem"), "x\n", 2, FS_MODE_PUBLIC, 0), -EEXIST);
	assert_int_equal(fs_write_atomic(in_dir("link.pem"), "x\n", 2, FS_MODE_PUBLIC, 1), 0);
	assert_file(in_dir("link.pem"), "x\n", 0644);
	assert_int_equal(access(in_dir("nowhere"), F_OK), -1);
	assert_int_equal(dir_count(), 2);
}

static void
test_failures_say_why(void **state)
{
	char longname[PATH_MAX + 16];

	(void)state;
	assert_int_equal(fs_write_atomic(in_dir("no/such/dir"), "x", 1, FS_MODE_PUBLIC, 0),
			 -ENOENT);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(fs_write_atomic(longname, "x", 1, FS_MODE_PUBLIC, 0), -ENAMETOOLONG);
	assert_int_equal(dir_count(), 0);
}

/* The handler that removes a temporary file is there only while one may exist; an ignored
 * signal stays ignored, and a handler of the caller's stays its. */
static void
test_signal_actions_are_as_they_were(void **state)
{
	struct sigaction sa, now;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	/* Default actions to start from, whatever this process inherited: a job started in the
	 * background by a shell without job control has SIGINT ignored. */
	sa.sa_handler = SIG_DFL;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	assert_int_equal(fs_write_atomic(in_dir("a"), "a", 1, FS_MODE_PUBLIC, 0), 0);
	assert_int_equal(fs_write_atomic(in_dir("a"), "b", 1, FS_MODE_PUBLIC, 1), 0);
	sigaction(SIGINT, NULL, &now);
	assert_ptr_equal(now.sa_handler, SIG_DFL);
	sigaction(SIGTERM, NULL, &now);
	assert_ptr_equal(now.sa_handler, SIG_DFL);
	sigaction(SIGHUP, NULL, &now);
	assert_ptr_equal(now.sa_handler, SIG_IGN);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGHUP, &sa, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_files_get_their_mode_whatever_the_umask,
						dir_make, dir_remove),
		cmocka_unit_test_setup_teardown(test_existing_files_are_replaced_only_with_force,
						dir_make, dir_remove),
		cmocka_unit_test_setup_teardown(test_failures_say_why, dir_make, dir_remove),
		cmocka_unit_test_setup_teardown(test_signal_actions_are_as_they_were, dir_make,
						dir_remove),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
