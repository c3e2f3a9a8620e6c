/*
 * Standard output for squirrel-pki's subcommands. What they print is their product (a key, a
 * description, a verdict) or the receipt for a file: lost on a full disk or a closed pipe, it
 * must not pass for printed, and the one line that says so must say why. stdio forgets the
 * why (errno) once it drops the buffer that failed, so these calls keep the first one.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "msg.h"

/* errno of the first write to standard output that failed; 0 while none has. */
static int out_errno;

static int
out_failed(void)
{
	if (out_errno == 0)
		out_errno = errno != 0 ? errno : EIO;
	return -1;
}

static int out_vfprintf(FILE *f, const char *fmt, va_list ap) MSG_FMT(2, 0);

static int
out_vfprintf(FILE *f, const char *fmt, va_list ap)
{
	errno = 0;
	if (vfprintf(f, fmt, ap) >= 0)
		return 0;
	return f == stdout ? out_failed() : -1;
}

int
cmd_fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = out_vfprintf(f, fmt, ap);
	va_end(ap);
	return rc;
}

int
cmd_printf(const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = out_vfprintf(stdout, fmt, ap);
	va_end(ap);
	return rc;
}

int
cmd_write(const void *buf, size_t len)
{
	errno = 0;
	return fwrite(buf, 1, len, stdout) == len ? 0 : out_failed();
}

int
cmd_stdout_close(const char *cmd, int rc)
{
	int pending = fflush(stdout) != 0 || ferror(stdout);

	if (pending)
		out_failed();
	/* Closing reports what a flush cannot (a delayed write error on NFS). With nothing
	 * printed, a standard output that was never open (EBADF) lost nothing. */
	errno = 0;
	if (fclose(stdout) != 0 && (pending || errno != EBADF))
		out_failed();
	if (out_errno == 0)
		return rc;
	if (cmd != NULL)
		msg_error("%s: cannot write to standard output: %s", cmd, strerror(out_errno));
	else
		msg_error("cannot write to standard output: %s", strerror(out_errno));
	/* An earlier failure keeps its own exit code, as show's first failing file does. */
	return rc != PKI_EXIT_OK ? rc : PKI_EXIT_WRITE;
}
