"""A program or a shell on a pseudo-terminal of its own, as a person's terminal runs it: the
terminal is its controlling terminal (so /dev/tty prompts, job control and Ctrl-C work as they
do for a reader), output is collected by a thread, and the test types into it.

    t = Term(["bash", "--norc"], env=..., cwd=...)
    t.expect(b"Password: ")        # wait for text to appear
    t.wait_echo(False)             # the program has turned echo off
    t.send(b"secret\\n")           # typed, through the line discipline
    t.send(b"\\x03")               # Ctrl-C: SIGINT to the foreground process group
    status = t.wait()              # raw wait status of the program
"""
import errno
import fcntl
import os
import pty
import select
import signal
import struct
import termios
import threading
import time


def session_members(sid):
    """The pids of the processes in session sid (the session leader's pid)."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp session ...: comm may hold spaces and parentheses.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 3 and int(fields[3]) == sid:
            pids.append(int(name))
    return pids


class Term:
    def __init__(self, argv, env=None, cwd=None, cols=200, rows=50, preexec=None):
        pid, fd = pty.fork()
        if pid == 0:  # the child: only exec from here
            try:
                if cwd:
                    os.chdir(cwd)
                if preexec:
                    preexec()
                os.execvpe(argv[0], argv, env if env is not None else os.environ)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.buf = bytearray()
        self.closed = False
        self.status = None
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        while True:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.5)
                if not ready:
                    continue
                chunk = os.read(self.fd, 65536)
            except OSError as e:
                # EIO: every process holding the terminal's other side has gone.
                if e.errno not in (errno.EIO, errno.EBADF):
                    raise
                chunk = b""
            with self._cond:
                if not chunk:
                    self.closed = True
                else:
                    self.buf += chunk
                self._cond.notify_all()
            if not chunk:
                return

    def text(self, start=0):
        with self._cond:
            return bytes(self.buf[start:])

    def expect(self, needle, start=0, timeout=10.0):
        """Wait until needle (bytes) shows at or after offset start; return the offset just
        after it. AssertionError, with what was shown, on timeout or when the terminal closes."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                at = self.buf.find(needle, start)
                if at >= 0:
                    return at + len(needle)
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise AssertionError(f"{needle!r} not shown within {timeout} s; the terminal "
                                         f"showed:\n{bytes(self.buf[start:])[-3000:]!r}")
                self._cond.wait(min(left, 0.5))

    def wait_quiet(self, quiet=0.15, timeout=10.0):
        """Wait until nothing new has been shown for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            n = len(self.buf)
            while time.monotonic() < deadline:
                self._cond.wait(quiet)
                if len(self.buf) == n:
                    return
                n = len(self.buf)

    def echo(self):
        """Is the terminal echoing what is typed? (On Linux a pty's master reports the
        terminal's modes.)"""
        return bool(termios.tcgetattr(self.fd)[3] & termios.ECHO)

    def wait_echo(self, on, timeout=10.0):
        deadline = time.monotonic() + timeout
        while self.echo() != on:
            if time.monotonic() > deadline:
                raise AssertionError(f"echo still {'off' if on else 'on'} after {timeout} s")
            time.sleep(0.01)

    def send(self, data):
        os.write(self.fd, data)

    def poll(self):
        if self.status is None:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.status = status
        return self.status

    def wait(self, timeout=10.0):
        """The program's raw wait status; AssertionError (after killing it) on timeout."""
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"still running after {timeout} s:\n"
                                     f"{self.text()[-2000:]!r}")
            time.sleep(0.02)
        return self.status

    def kill(self):
        """End the program and everything it started on this terminal (a shell's jobs have
        process groups of their own, but stay in its session)."""
        for pid in session_members(self.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.poll() is None:
            _, self.status = os.waitpid(self.pid, 0)

    def close(self):
        self.kill()
        self._thread.join(timeout=2)
        try:
            os.close(self.fd)
        except OSError:
            pass
