#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "nowait.h"
#include "sandbox.h"

/*
 * Landlock's ABI, spelt out here: Debian 12's <linux/landlock.h> (Linux 6.1) stops at ABI 2,
 * and the kernel it runs on may offer more. Rights a kernel does not know are never asked for.
 */
struct ll_ruleset_attr {
	uint64_t fs, net, scoped;
};
struct ll_path_rule {
	uint64_t allowed;
	int32_t parent_fd;
} __attribute__((packed));
struct ll_port_rule {
	uint64_t allowed, port;
};
#define LL_VERSION (1U << 0)
#define LL_RULE_PATH 1
#define LL_RULE_PORT 2
#define LL_FS_READ_FILE (1ULL << 2)
#define LL_FS_READ_DIR (1ULL << 3)
#define LL_FS_ABI1 ((1ULL << 13) - 1) /* execute, write, read, and every kind of change */
#define LL_FS_REFER (1ULL << 13)      /* ABI 2 */
#define LL_FS_TRUNCATE (1ULL << 14)   /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ULL << 15)  /* ABI 5 */
#define LL_NET_BIND_TCP (1ULL << 0)   /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ULL << 1)

/* wolfCrypt seeds every RNG it makes (one per TLS session) from this file. */
#define URANDOM "/dev/urandom"

/* System call numbers below this get a name in the SIGSYS line (x86-64 has about 460). */
#define NAMES_MAX 512
#define NAME_LEN 32

static struct {
	int landlock; /* a Landlock domain is in place */
	size_t nreads;
	dev_t dev[SANDBOX_MAX_READS];
	ino_t ino[SANDBOX_MAX_READS];
	enum nowait_kind stderr_kind;
	struct sock_fprog worker; /* SANDBOX_SUPERVISOR: the filter each forked worker adds */
	char names[NAMES_MAX][NAME_LEN];
} sb_state;

/* The start-up line: the layers in place, and those the kernel lacks. */
#define REPORT_LEN 512
struct report {
	char done[REPORT_LEN];
	char missing[REPORT_LEN];
};

static void add(char *buf, const char *fmt, ...) MSG_FMT(2, 3);

/* Append one item to a ", "-separated list of the report. */
static void
add(char *buf, const char *fmt, ...)
{
	size_t used = strlen(buf), cap = REPORT_LEN;
	va_list ap;

	if (buf[0] != '\0' && used + 2 < cap) {
		memcpy(buf + used, ", ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(buf + used, cap - used, fmt, ap);
	va_end(ap);
}

/* ---- 3. the user ------------------------------------------------------------------------ */

/* Keep only the capabilities in mask (a bit per CAP_*, all below 32), in every set. */
static int
keep_capabilities(uint32_t mask)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = mask;
	/* Ambient capabilities (Linux 4.3 and later) would survive an exec; EINVAL before. */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	return (int)syscall(SYS_capset, &h, d);
}

/* Not root: nothing to switch, but capabilities given to a user (setcap, a unit's
 * AmbientCapabilities=) for binding a low port are of no use once it is bound. */
static int
drop_capabilities(const struct sandbox *sb, struct report *r, char *err, size_t errlen)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	if (sb->user != NULL) {
		snprintf(err, errlen,
			 "--user %s: only a program started as root can switch users (running "
			 "as uid %u); leave --user out",
			 sb->user, (unsigned)getuid());
		return -1;
	}
	if (syscall(SYS_capget, &h, d) == 0 && (d[0].permitted | d[1].permitted) != 0) {
		if (keep_capabilities(0) < 0) {
			snprintf(err, errlen, "cannot drop capabilities: %s", strerror(errno));
			return -1;
		}
		add(r->done, "no capabilities");
	}
	return 0;
}

/*
 * From root to pw: 0, -1 with errno if the kernel refuses the switch, or -2 if root could come
 * back after it. With *keep_read, CAP_DAC_READ_SEARCH stays (*keep_read is cleared if it
 * cannot), so that SIGHUP can re-read a key only root may read (as certbot leaves them), and
 * the tap a key log a root client wrote (0600): Landlock, in place before anything else runs,
 * lets it open no file but the few it re-reads (the tap: those of the key log's folder).
 */
static int
become(const struct passwd *pw, int *keep_read)
{
	gid_t gid = pw->pw_gid;

	if (*keep_read && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		*keep_read = 0;
	if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(pw->pw_uid) < 0)
		return -1;
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (keep_capabilities(*keep_read ? 1U << CAP_DAC_READ_SEARCH : 0) < 0 || setuid(0) == 0)
		return -2;
	/* A change of user sets the dumpable flag from fs.suid_dumpable, which may be 1. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return 0;
}

static int
switch_user(const struct sandbox *sb, int keep_read, struct report *r, char *err, size_t errlen)
{
	const char *name = sb->user != NULL ? sb->user : "nobody";
	struct passwd entry, *pw = NULL;
	char buf[4096];
	int e, rc;

	if (geteuid() != 0)
		return drop_capabilities(sb, r, err, errlen);
	e = getpwnam_r(name, &entry, buf, sizeof(buf), &pw);
	if (pw == NULL) {
		snprintf(err, errlen, "--user %s: %s (name an existing unprivileged user)", name,
			 e != 0 ? strerror(e) : "no such user");
		return -1;
	}
	if (pw->pw_uid == 0) {
		add(r->done, "runs as root (--user %s)", name);
		return 0;
	}
	rc = become(pw, &keep_read);
	if (rc == -2) {
		snprintf(err, errlen, "--user %s: the switch left privileges behind", name);
		return -1;
	}
	if (rc < 0) {
		/* Root of a user namespace that maps no such user (EINVAL) or denies setgroups
		 * (EPERM) holds no privilege outside it: going on is as safe as the switch. */
		if (sb->user == NULL && (errno == EINVAL || errno == EPERM)) {
			add(r->missing, "the switch to %s (%s)", name, strerror(errno));
			return 0;
		}
		snprintf(err, errlen, "--user %s: cannot switch to it: %s", name, strerror(errno));
		return -1;
	}
	if (keep_read)
		add(r->done, "runs as %s (with CAP_DAC_READ_SEARCH, for %s)", name,
		    sb->read_dir != NULL ? "its key log" : "SIGHUP");
	else
		add(r->done, "runs as %s", name);
	return 0;
}

/* ---- 4. Landlock ------------------------------------------------------------------------ */

static int
landlock_abi(void)
{
	return (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LL_VERSION);
}

/* Allow access beneath path (to the file itself, for a file); st tells what it is. */
static int
allow_path(int ruleset, const char *path, uint64_t access, struct stat *st, char *err,
	   size_t errlen)
{
	struct ll_path_rule rule = {access, -1};
	int fd = open(path, O_PATH | O_CLOEXEC), rc = -1, e;

	if (fd >= 0) {
		rule.parent_fd = fd;
		if (fstat(fd, st) == 0)
			rc = (int)syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH, &rule, 0);
	}
	e = errno;
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		snprintf(err, errlen, "landlock: %s: %s", path, strerror(e));
	return rc < 0 ? -1 : 0;
}

/* The files it re-reads, each remembered as a file (device and inode) for sandbox_may_read,
 * and what the libraries read by themselves. */
static int
allow_reads(int ruleset, const struct sandbox *sb, char *err, size_t errlen)
{
	struct stat st;

	for (size_t i = 0; i < SANDBOX_MAX_READS && sb->reads[i] != NULL; i++) {
		if (allow_path(ruleset, sb->reads[i], LL_FS_READ_FILE, &st, err, errlen) < 0)
			return -1;
		sb_state.dev[sb_state.nreads] = st.st_dev;
		sb_state.ino[sb_state.nreads++] = st.st_ino;
	}
	if (sb->read_dir != NULL &&
	    allow_path(ruleset, sb->read_dir, LL_FS_READ_FILE, &st, err, errlen) < 0)
		return -1;
	/* Without it (a bare chroot) wolfCrypt's RNG has already failed at start-up. */
	if (stat(URANDOM, &st) == 0 &&
	    allow_path(ruleset, URANDOM, LL_FS_READ_FILE, &st, err, errlen) < 0)
		return -1;
#ifdef __SANITIZE_ADDRESS__
	/* See sanitizer_calls. */
	if (allow_path(ruleset, "/proc", LL_FS_READ_FILE | LL_FS_READ_DIR, &st, err, errlen) < 0)
		return -1;
#endif
	return 0;
}

static int
allow_port(int ruleset, uint64_t access, int port, char *err, size_t errlen)
{
	struct ll_port_rule rule = {access, (uint64_t)port};

	if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PORT, &rule, 0) < 0) {
		snprintf(err, errlen, "landlock: TCP port %d: %s", port, strerror(errno));
		return -1;
	}
	return 0;
}

/* What the domain handles, that is, denies unless a rule allows it. */
static size_t
ruleset_for(int abi, struct ll_ruleset_attr *attr)
{
	memset(attr, 0, sizeof(*attr));
	attr->fs = LL_FS_ABI1 | (abi >= 2 ? LL_FS_REFER : 0) | (abi >= 3 ? LL_FS_TRUNCATE : 0) |
		   (abi >= 5 ? LL_FS_IOCTL_DEV : 0);
	if (abi >= 4)
		attr->net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
	if (abi >= 6)
		attr->scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
	return abi >= 6 ? 24 : abi >= 4 ? 16 : 8;
}

static void
describe_landlock(const struct sandbox *sb, int abi, struct report *r)
{
	const char *net = "TCP unrestricted (ABI 4 restricts it)";
	char port[64];

	if (abi >= 4 && sb->role == SANDBOX_TAP) {
		snprintf(port, sizeof(port), "TCP connect to port %d only", sb->tcp_port);
		net = port;
	} else if (abi >= 4 && sb->role == SANDBOX_SUPERVISOR) {
		snprintf(port, sizeof(port), "TCP bind to port %d only", sb->tcp_port);
		net = port;
	} else if (abi >= 4) {
		net = "no TCP bind or connect";
	}
	if (sb->read_dir != NULL)
		add(r->done,
		    "Landlock ABI %d (no writes, no exec, no reads but the files in %s and " URANDOM
		    "; %s)",
		    abi, sb->read_dir, net);
	else if (sb_state.nreads == 0)
		add(r->done, "Landlock ABI %d (no writes, no exec, no reads but " URANDOM "; %s)",
		    abi, net);
	else
		add(r->done,
		    "Landlock ABI %d (no writes, no exec, no reads but its %zu file%s and " URANDOM
		    "; %s)",
		    abi, sb_state.nreads, sb_state.nreads == 1 ? "" : "s", net);
}

static int
enter_landlock(const struct sandbox *sb, int abi, struct report *r, char *err, size_t errlen)
{
	struct ll_ruleset_attr attr;
	size_t size = ruleset_for(abi, &attr);
	int fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0), rc;

	if (fd < 0) {
		snprintf(err, errlen, "landlock: cannot create a ruleset: %s", strerror(errno));
		return -1;
	}
	rc = allow_reads(fd, sb, err, errlen);
	if (rc == 0 && abi >= 4 && sb->role == SANDBOX_TAP)
		rc = allow_port(fd, LL_NET_CONNECT_TCP, sb->tcp_port, err, errlen);
	if (rc == 0 && abi >= 4 && sb->role == SANDBOX_SUPERVISOR)
		rc = allow_port(fd, LL_NET_BIND_TCP, sb->tcp_port, err, errlen);
	if (rc == 0 && syscall(SYS_landlock_restrict_self, fd, 0) < 0) {
		snprintf(err, errlen, "landlock: cannot enforce the ruleset: %s", strerror(errno));
		rc = -1;
	}
	close(fd);
	if (rc < 0)
		return -1;
	sb_state.landlock = 1;
	describe_landlock(sb, abi, r);
	return 0;
}

/* ---- 5. seccomp ------------------------------------------------------------------------- */

#define R_CLIENT (1U << SANDBOX_CLIENT)
#define R_SERVER (1U << SANDBOX_SERVER)
#define R_SUPERVISOR (1U << SANDBOX_SUPERVISOR)
#define R_TAP (1U << SANDBOX_TAP)
#define R_ACCEPT (R_SERVER | R_SUPERVISOR | R_TAP)
#define R_ALL (R_CLIENT | R_ACCEPT)

/* Allowed with any arguments; the calls allowed for some arguments only are in add_rules. */
static const struct allowed {
	int nr;
	unsigned roles;
} allowed[] = {
	/* Descriptors: sockets, stdout, stderr (pwritev2: msg_nowait's pipe writes), files
	 * re-read on SIGHUP (openat is in add_rules). */
	{SCMP_SYS(read), R_ALL},
	{SCMP_SYS(write), R_ALL},
	{SCMP_SYS(readv), R_ALL},
	{SCMP_SYS(writev), R_ALL},
	{SCMP_SYS(pwritev2), R_ALL},
	{SCMP_SYS(close), R_ALL},
	{SCMP_SYS(fstat), R_ALL},
	{SCMP_SYS(newfstatat), R_ALL},
	{SCMP_SYS(lseek), R_ALL},
	{SCMP_SYS(pread64), R_TAP}, /* --keylog: what was appended to the key log since */
	{SCMP_SYS(poll), R_ALL},
	{SCMP_SYS(ppoll), R_ALL},
	{SCMP_SYS(recvfrom), R_ALL},
	{SCMP_SYS(shutdown), R_ALL},
	{SCMP_SYS(setsockopt), R_ALL},
	{SCMP_SYS(getsockopt), R_ALL},
	{SCMP_SYS(accept), R_ACCEPT},
	{SCMP_SYS(accept4), R_ACCEPT},
	{SCMP_SYS(getsockname), R_ACCEPT},
	{SCMP_SYS(getpeername), R_ACCEPT},
	{SCMP_SYS(connect), R_TAP},
	/* Memory (mmap and mprotect are in add_rules: never executable). */
	{SCMP_SYS(brk), R_ALL},
	{SCMP_SYS(munmap), R_ALL},
	{SCMP_SYS(mremap), R_ALL},
	{SCMP_SYS(madvise), R_ALL},
	/* Time, randomness, and what libc does on its own. */
	{SCMP_SYS(clock_gettime), R_ALL},
	{SCMP_SYS(clock_nanosleep), R_ALL},
	{SCMP_SYS(nanosleep), R_ALL},
	{SCMP_SYS(gettimeofday), R_ALL},
	{SCMP_SYS(time), R_ALL},
	{SCMP_SYS(getrandom), R_ALL},
	{SCMP_SYS(futex), R_ALL},
	{SCMP_SYS(getpid), R_ALL},
	{SCMP_SYS(sched_yield), R_ALL},
	{SCMP_SYS(rt_sigreturn), R_ALL},
	{SCMP_SYS(rt_sigprocmask), R_ALL},
	{SCMP_SYS(restart_syscall), R_ALL},
	{SCMP_SYS(exit), R_ALL},
	{SCMP_SYS(exit_group), R_ALL},
	/* A worker, just forked: PR_SET_PDEATHSIG (in add_rules) and its parent's pid. */
	{SCMP_SYS(getppid), R_SERVER | R_SUPERVISOR},
	/* The supervisor: takes SIGCHLD back to its default, waits for workers, and opens a
	 * listener again after a fork failed. */
	{SCMP_SYS(wait4), R_SUPERVISOR},
	{SCMP_SYS(rt_sigaction), R_SUPERVISOR},
	{SCMP_SYS(set_robust_list), R_SUPERVISOR}, /* glibc's fork(), in the child */
	{SCMP_SYS(rt_sigtimedwait), R_SUPERVISOR},
	{SCMP_SYS(bind), R_SUPERVISOR},
	{SCMP_SYS(listen), R_SUPERVISOR},
};

#ifdef __SANITIZE_ADDRESS__
/*
 * make SAN=1: LeakSanitizer's check at exit stops the world the way a debugger does. It
 * makes the process dumpable for a moment, clones a tracer (sharing memory, not a thread),
 * lets it ptrace the process and lists /proc/PID/task; a report reads /proc/self/maps
 * (open, readlink). Only in that build, with reads of /proc (enter_landlock).
 */
static const int sanitizer_calls[] = {
	SCMP_SYS(prctl),  SCMP_SYS(clone),    SCMP_SYS(ptrace),       SCMP_SYS(wait4),
	SCMP_SYS(gettid), SCMP_SYS(getppid),  SCMP_SYS(getdents),     SCMP_SYS(sigaltstack),
	SCMP_SYS(open),   SCMP_SYS(readlink), SCMP_SYS(rt_sigaction),
};
#endif

#ifdef __SANITIZE_ADDRESS__
#define SANITIZER_CALLS " and the sanitizer's"
#else
#define SANITIZER_CALLS ""
#endif

#define ALLOW(f, nr, ...) seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(nr), __VA_ARGS__)

/* The TCP sockets a role may open: exactly the type and flags our own code asks for. */
static int
add_socket_rule(scmp_filter_ctx f, int family)
{
	return ALLOW(f, socket, 3, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)family),
		     SCMP_A1(SCMP_CMP_EQ, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC),
		     SCMP_A2(SCMP_CMP_EQ, 0));
}

/* The calls allowed with some arguments only. Returns the number of calls, or -1. */
static int
add_rules(scmp_filter_ctx f, const struct sandbox *sb, enum sandbox_role role)
{
	/* No file opened for writing, created or truncated; nothing made executable. */
	const scmp_datum_t wflags =
		O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | (O_TMPFILE & ~O_DIRECTORY);
	int rc = ALLOW(f, openat, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, wflags, 0)) |
		 ALLOW(f, mmap, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) |
		 ALLOW(f, mprotect, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) |
		 /* Sends on connected sockets only: no address, so no TCP Fast Open connect. */
		 ALLOW(f, sendto, 1, SCMP_A4(SCMP_CMP_EQ, 0)) |
		 /* isatty() */
		 ALLOW(f, ioctl, 1, SCMP_A1(SCMP_CMP_EQ, TCGETS)) |
		 /* getrlimit/setrlimit of this process (the server fits its slots to
		  * RLIMIT_NOFILE, which may be lowered while it runs) */
		 ALLOW(f, prlimit64, 1, SCMP_A0(SCMP_CMP_EQ, 0)) |
		 /* O_NONBLOCK and FD_CLOEXEC; not F_SETOWN, whose SIGIO reaches other processes */
		 ALLOW(f, fcntl, 1, SCMP_A1(SCMP_CMP_EQ, F_GETFL)) |
		 ALLOW(f, fcntl, 1, SCMP_A1(SCMP_CMP_EQ, F_SETFL)) |
		 ALLOW(f, fcntl, 1, SCMP_A1(SCMP_CMP_EQ, F_GETFD)) |
		 ALLOW(f, fcntl, 1, SCMP_A1(SCMP_CMP_EQ, F_SETFD));
	int n = 7;

	if (role == SANDBOX_SERVER || role == SANDBOX_SUPERVISOR) {
		rc |= ALLOW(f, prctl, 1, SCMP_A0(SCMP_CMP_EQ, PR_SET_PDEATHSIG));
		n++;
	}
	if (role == SANDBOX_TAP) {
		rc |= add_socket_rule(f, sb->tcp_family);
		n++;
	}
	if (role == SANDBOX_SUPERVISOR) {
		/* fork(), as glibc makes it: a process, never a thread or a namespace. */
		rc |= ALLOW(f, clone, 1,
			    SCMP_A0(SCMP_CMP_EQ,
				    CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD)) |
		      ALLOW(f, kill, 1, SCMP_A1(SCMP_CMP_EQ, SIGTERM)) |
		      ALLOW(f, kill, 1, SCMP_A1(SCMP_CMP_EQ, SIGHUP)) |
		      ALLOW(f, kill, 1, SCMP_A1(SCMP_CMP_EQ, SIGKILL)) |
		      /* each worker adds its narrower filter */
		      ALLOW(f, seccomp, 1, SCMP_A0(SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER)) |
		      add_socket_rule(f, AF_INET) | add_socket_rule(f, AF_INET6);
		n += 4;
	}
	return rc == 0 ? n : -1;
}

/* A filter for role, or NULL; *ncalls is how many system calls it allows. */
static scmp_filter_ctx
build_filter(const struct sandbox *sb, enum sandbox_role role, int *ncalls)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_TRAP);
	int n = 0, more;

	if (f == NULL)
		return NULL;
	/* A call made through another architecture's entry (int 0x80 on x86-64) is not
	 * decoded by this filter at all: it ends the process without a word. */
	if (seccomp_attr_set(f, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) != 0 ||
	    seccomp_attr_set(f, SCMP_FLTATR_CTL_OPTIMIZE, 2) != 0)
		goto fail;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		if (!(allowed[i].roles & (1U << role)))
			continue;
		if (seccomp_rule_add(f, SCMP_ACT_ALLOW, allowed[i].nr, 0) != 0)
			goto fail;
		n++;
	}
#ifdef __SANITIZE_ADDRESS__
	for (size_t i = 0; i < sizeof(sanitizer_calls) / sizeof(sanitizer_calls[0]); i++)
		if (seccomp_rule_add(f, SCMP_ACT_ALLOW, sanitizer_calls[i], 0) != 0)
			goto fail;
#endif
	more = add_rules(f, sb, role);
	if (more < 0)
		goto fail;
	*ncalls = n + more;
	return f;
fail:
	seccomp_release(f);
	return NULL;
}

static void
append(char *buf, size_t cap, size_t *len, const char *s)
{
	while (*s != '\0' && *len + 1 < cap)
		buf[(*len)++] = *s++;
}

static void
append_number(char *buf, size_t cap, size_t *len, long v)
{
	char digits[24];
	size_t n = 0;

	if (v < 0) {
		append(buf, cap, len, "-");
		v = -v;
	}
	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) > 0 && n < sizeof(digits));
	while (n > 0 && *len + 1 < cap)
		buf[(*len)++] = digits[--n];
}

/*
 * A call the filter does not allow: one line naming it (async-signal-safe calls only), then
 * the end. execve(NULL) is refused by every filter here (nothing in squirrel runs programs),
 * and a trap while SIGSYS is blocked, as it is inside its own handler, makes the kernel put
 * SIGSYS back to its default action and deliver it: the process dies of SIGSYS, as a parent
 * expects of a seccomp kill. Were execve allowed, execve(NULL) would fail with EFAULT.
 */
static void
on_sigsys(int sig, siginfo_t *si, void *uc)
{
	char line[256];
	size_t n = 0;
	int nr = si->si_syscall;

	(void)sig;
	(void)uc;
	append(line, sizeof(line), &n, msg_prog());
	append(line, sizeof(line), &n, ": error: sandbox: system call ");
	if (nr >= 0 && nr < NAMES_MAX && sb_state.names[nr][0] != '\0')
		append(line, sizeof(line), &n, sb_state.names[nr]);
	else
		append(line, sizeof(line), &n, "number");
	append(line, sizeof(line), &n, " (");
	append_number(line, sizeof(line), &n, nr);
	append(line, sizeof(line), &n,
	       ") is not allowed; stopping (--no-sandbox turns the sandbox "
	       "off, for debugging)\n");
	nowait_write(STDERR_FILENO, &sb_state.stderr_kind, line, n, 100);
	syscall(SYS_execve, NULL, NULL, NULL);
	_exit(128 + SIGSYS);
}

static void
name_calls(void)
{
	for (int nr = 0; nr < NAMES_MAX; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		if (name != NULL)
			snprintf(sb_state.names[nr], NAME_LEN, "%s", name);
		free(name);
	}
}

/* In each worker the supervisor forks: from its first instruction, the worker's filter. */
static void
narrow_worker(void)
{
	static const char why[] = ": error: sandbox: a worker cannot narrow its system calls\n";

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &sb_state.worker) == 0)
		return;
	(void)!write(STDERR_FILENO, msg_prog(), strlen(msg_prog()));
	(void)!write(STDERR_FILENO, why, sizeof(why) - 1);
	_exit(EXIT_FAILURE);
}

/* The worker's filter as BPF, kept for narrow_worker (libseccomp only writes it to a file). */
static int
export_worker_filter(const struct sandbox *sb)
{
	int ncalls, fd = memfd_create("squirrel-worker-filter", MFD_CLOEXEC), rc = -1;
	scmp_filter_ctx f = build_filter(sb, SANDBOX_SERVER, &ncalls);
	struct stat st;
	void *bpf;

	if (f != NULL && fd >= 0 && seccomp_export_bpf(f, fd) == 0 && fstat(fd, &st) == 0 &&
	    st.st_size > 0 && st.st_size % (off_t)sizeof(struct sock_filter) == 0 &&
	    (bpf = malloc((size_t)st.st_size)) != NULL) {
		if (pread(fd, bpf, (size_t)st.st_size, 0) == st.st_size) {
			sb_state.worker.filter = bpf;
			sb_state.worker.len =
				(unsigned short)(st.st_size / (off_t)sizeof(struct sock_filter));
			rc = pthread_atfork(NULL, NULL, narrow_worker) == 0 ? 0 : -1;
		} else {
			free(bpf);
		}
	}
	if (fd >= 0)
		close(fd);
	if (f != NULL)
		seccomp_release(f);
	return rc;
}

static int
enter_seccomp(const struct sandbox *sb, struct report *r, char *err, size_t errlen)
{
	struct sigaction sa;
	scmp_filter_ctx f;
	int ncalls = 0, rc;

	f = build_filter(sb, sb->role, &ncalls);
	if (f == NULL || (sb->role == SANDBOX_SUPERVISOR && export_worker_filter(sb) < 0)) {
		snprintf(err, errlen, "seccomp: cannot build the filter");
		if (f != NULL)
			seccomp_release(f);
		return -1;
	}
	name_calls();
	sb_state.stderr_kind = nowait_kind_of(STDERR_FILENO);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
	rc = seccomp_load(f);
	seccomp_release(f);
	if (rc != 0) {
		snprintf(err, errlen, "seccomp: cannot load the filter: %s", strerror(-rc));
		return -1;
	}
	add(r->done, "seccomp (%d system calls%s; any other ends the process)", ncalls,
	    SANITIZER_CALLS);
	return 0;
}

/* ---- the whole ------------------------------------------------------------------------- */

static void
say(const struct sandbox *sb, const struct report *r)
{
	if (sb->quiet)
		return;
	if (r->missing[0] == '\0')
		msg_info("sandbox: %s", r->done);
	else
		msg_warn("sandbox: %s; not available here, so left out: %s", r->done, r->missing);
}

int
sandbox_enter(const struct sandbox *sb, char *err, size_t errlen)
{
	struct rlimit no_core = {0, 0};
	struct report r = {"", ""};
	int abi, seccomp_ok;

	if (sb->off) {
		if (!sb->quiet)
			msg_warn(
				"sandbox: off (--no-sandbox): a flaw exploited here could read and "
				"write what this user can, and run programs");
		return 0;
	}
	/* glibc reads /etc/localtime once, at the first conversion to local time, which
	 * wolfSSL's certificate date checks make: read now, while files can still be opened. */
	tzset();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "sandbox: cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
	add(r.done, "no new privileges");
	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	add(r.done, "no core dumps");
	abi = landlock_abi();
	if (abi < 0)
		add(r.missing, "Landlock (%s)", strerror(errno));
	if (switch_user(sb, abi > 0 && (sb->reads[0] != NULL || sb->read_dir != NULL), &r, err,
			errlen) < 0)
		return -1;
	if (abi > 0 && enter_landlock(sb, abi, &r, err, errlen) < 0)
		return -1;
	seccomp_ok = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
	if (!seccomp_ok)
		add(r.missing, "seccomp (%s)", strerror(errno));
	if (seccomp_ok && enter_seccomp(sb, &r, err, errlen) < 0)
		return -1;
	say(sb, &r);
	return 0;
}

int
sandbox_may_read(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (!sb_state.landlock)
		return 0;
	if (stat(path, &st) < 0)
		return 0; /* the read says why, in its own words */
	for (size_t i = 0; i < sb_state.nreads; i++)
		if (sb_state.dev[i] == st.st_dev && sb_state.ino[i] == st.st_ino)
			return 0;
	snprintf(err, errlen,
		 "%s: now another file than at start-up (replaced by a rename, or a link "
		 "pointed elsewhere), and the sandbox lets the server read only the files it "
		 "started with; write new contents into the same file (cp, not mv), or restart",
		 path);
	return -1;
}
