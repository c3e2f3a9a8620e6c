#!/usr/bin/python3
"""make bench: squirrel-server and squirrel-client side by side with nginx and curl, on loopback.

    /usr/bin/python3 tests/bench/bench.py [--quick] [--only a,b,...] [--workers N] [--out FILE.md]
                                          [--nginx-vs-nginx]

Environment (`make bench` sets the first two):
  SQUIRREL_BIN      folder with squirrel-server and squirrel-client (default: <repo>/bin)
  BENCH_BIN         folder with the compiled tests/bench/*.c programs (bench_crypto, bench_fernet,
                    bench_floor)
  SQUIRREL_BIN_ALT  optional: the same programs linked with the other wolfSSL flavour (for example
  BENCH_BIN_ALT     a `make WOLFSSL=source` build); the TLS and crypto rows then show both

Rows (names for --only): a b c d ec e s idle client fernet crypto. docs/benchmarks.md says what each
measures, with which tool, and what limits it. Only ratios measured in the same run mean anything:
the machine is small and shared, and the load generator competes with the server for CPU.
The wrk rows also give p50 / p99 latency (tests/bench/latency.lua); rows a and b also run the floor
server (bench_floor); rows a, c and d also run squirrel-server --no-sandbox when it has the flag;
row d also measures each library's RSA-2048 signature rate, the ceiling of its handshakes/s.
At the end, tests/bench/charts.py draws two SVG charts beside the table.

Every load is bounded in time and connections. Every process started here runs in its own process
group and is stopped on exit, on error, on Ctrl-C and on SIGTERM; the temporary folder is removed.
"""
import argparse
import asyncio
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MESSAGE = b"fluffy tail"
ROWS = ["a", "b", "c", "d", "ec", "e", "s", "idle", "client", "fernet", "crypto"]
TICK_US = 1e6 / os.sysconf("SC_CLK_TCK")
NOFILE = 65536          # for the servers and for us: 10,000 idle connections plus headroom
WRK_CONNS = 50          # issue 8: wrk -t1 -c50
REPS = 3                # interleaved repetitions (--reps); the table shows medians
BAD_RUN = 0.01          # a run with more than 1% errors or non-2xx answers is not counted
LATENCY_LUA = os.path.join(REPO, "tests", "bench", "latency.lua")  # wrk's percentiles, printed at the end
CHARTS_PY = os.path.join(REPO, "tests", "bench", "charts.py")
NO_SANDBOX = "--no-sandbox"  # squirrel-server without its confinement: the confinement comparison

# The wrk rows. goal: squirrel's req/s against nginx's (None: no goal); source_goal: judged only for
# the wolfSSL source build (Debian's has no assembly); lat: limits on squirrel's latency against
# nginx's as (p50, p99) ratios, None where there is none (issue 19); floor: the row also runs
# bench_floor, with floor_goal the limit on squirrel's CPU per request against the floor's;
# confine: the row also runs squirrel-server --no-sandbox; ceiling: the row measures each server's
# RSA-2048 signature rate between its repetitions.
LOAD_ROWS = {
    "a": dict(title="a. plain keep-alive req/s", kind="plain", close=False, tls=None, goal=1.2,
              lat=(None, 1.0), floor=True, floor_goal=1.05, confine=True),
    "b": dict(title="b. plain, one connection per request, req/s", kind="plain", close=True, tls=None,
              goal=1.2, lat=(None, 1.0), floor=True),
    "c": dict(title="c. TLS keep-alive req/s", kind="rsa", close=False, tls="count", goal=1.0,
              source_goal=True, lat=(None, 1.0), confine=True),
    "d": dict(title="d. TLS full RSA-2048 handshake per request, req/s", kind="rsa", close=True,
              tls="fresh", goal=1.0, source_goal=True, lat=(2.0, 1.0), confine=True, ceiling=True),
    "ec": dict(title="ec. TLS full ECDSA P-256 handshake per request, req/s", kind="ec", close=True,
               tls="fresh"),
    "e": dict(title="e. TLS resumed handshake per request, req/s", kind="rsa", close=True,
              tls="resume", goal=1.0),
}
# Target names in a wrk row's runs (and in the JSON), in the order they are interleaved.
TARGET_ORDER = ("squirrel", "squirrel-nosb", "squirrel-alt", "floor", "nginx")
# Our server's timeouts set to nginx's defaults (client_header_timeout 60 s, which also bounds nginx's
# TLS handshake, and the keepalive_timeout written in its config below), so that neither server drops
# the idle connections of the memory test while the other keeps them: opening 10,000 TLS connections
# takes longer than squirrel's own 10 s defaults.
MATCHED_TIMEOUTS = (("--header-timeout", 60), ("--handshake-timeout", 60), ("--idle-timeout", 75))

# wrk resumes TLS sessions on its own: it reuses each SSL object with SSL_shutdown + SSL_clear, which
# keeps the session (measured: 393 of 396 nginx handshakes resumed with Connection: close). This
# LD_PRELOAD shim counts full and resumed handshakes (for every TLS row), and with BENCH_TLS_FRESH set
# drops the kept session before each connect so every handshake is a full one (row d).
TLS_SHIM_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
typedef struct ssl_st SSL;
typedef struct ssl_session_st SSL_SESSION;
static unsigned long n_full, n_resumed;
int SSL_connect(SSL *s);
int SSL_connect(SSL *s)
{
	static int (*real)(SSL *);
	static int (*set_session)(SSL *, SSL_SESSION *);
	static int (*reused)(const SSL *);
	static int (*in_before)(const SSL *);
	static int fresh;
	if (!real) {
		real = (int (*)(SSL *))dlsym(RTLD_NEXT, "SSL_connect");
		set_session = (int (*)(SSL *, SSL_SESSION *))dlsym(RTLD_NEXT, "SSL_set_session");
		reused = (int (*)(const SSL *))dlsym(RTLD_NEXT, "SSL_session_reused");
		in_before = (int (*)(const SSL *))dlsym(RTLD_NEXT, "SSL_in_before");
		fresh = getenv("BENCH_TLS_FRESH") != NULL;
	}
	if (fresh && in_before(s))
		set_session(s, NULL);
	int r = real(s);
	if (r == 1)
		__atomic_add_fetch(reused(s) ? &n_resumed : &n_full, 1, __ATOMIC_RELAXED);
	return r;
}
__attribute__((destructor)) static void report(void)
{
	const char *p = getenv("BENCH_TLS_COUNT");
	FILE *f = p ? fopen(p, "w") : NULL;
	if (f) {
		fprintf(f, "full %lu\nresumed %lu\n", n_full, n_resumed);
		fclose(f);
	}
}
"""


def log(text):
    print(f"bench: {text}", file=sys.stderr, flush=True)


# ---- processes: everything we start is stopped, whatever happens ---------------------------------

def signal_group(proc, pgid, sig, grace):
    """Send sig to process group pgid, then give its leader proc up to grace seconds to exit."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        pass


def group_pids(pgid):
    """Live (non-zombie) processes of process group pgid, from /proc."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rfind(")") + 2:].split()
        if int(rest[2]) == pgid and rest[0] != "Z":
            pids.append(int(name))
    return pids


class Reaper:
    """Every child we start, so that exit, errors and signals all end the same way."""

    def __init__(self):
        self.live = []

    def add(self, proc, graceful):
        self.live.append((proc, graceful))

    def stop(self, proc, graceful, grace=5.0):
        pgid = proc.pid
        if graceful and proc.poll() is None:
            # The leader is alive, so the group id is still ours: the servers' masters forward TERM
            # to their workers, and workers that get it directly exit as well.
            signal_group(proc, pgid, signal.SIGTERM, grace)
        # Anything left (a leader ignoring TERM, orphaned workers) gets SIGKILL. A group id cannot be
        # reused while one of its members lives, so this never reaches another program.
        if proc.poll() is None or group_pids(pgid):
            signal_group(proc, pgid, signal.SIGKILL, grace)
        deadline = time.monotonic() + grace
        while group_pids(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.live = [(p, g) for p, g in self.live if p is not proc]

    def stop_all(self):
        for proc, graceful in list(reversed(self.live)):
            self.stop(proc, graceful)


REAPER = Reaper()


def raise_nofile():
    """RLIMIT_NOFILE to NOFILE (root may raise the hard limit), else to the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def pinned(cpus, also=None):
    """A preexec_fn: run `also`, then keep the child (and what it forks) on `cpus` if given."""
    def preexec():
        if also:
            also()
        if cpus:
            os.sched_setaffinity(0, cpus)
    return preexec


def run_tool(argv, timeout, env=None, cpus=None):
    """Run a load tool to completion in its own process group, killed at `timeout`, on `cpus`
    if given. Returns (exit status or None on timeout, stdout, stderr, wall seconds)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=full_env, start_new_session=True,
                            preexec_fn=pinned(cpus))
    REAPER.add(proc, False)
    try:
        out, err = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        REAPER.stop(proc, False)
        out, err = proc.communicate()
        rc = None
    finally:
        if proc.poll() is None:
            REAPER.stop(proc, False)
        REAPER.live = [(p, g) for p, g in REAPER.live if p is not proc]
    return rc, out.decode(errors="replace"), err.decode(errors="replace"), time.monotonic() - t0


def children_cpu_s():
    """CPU seconds (user + system) of every child process reaped so far: around one run_tool
    call, what that tool used."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def alternate(targets, rep):
    """Targets in order on even repetitions, reversed on odd ones, so that neither server always
    runs right after the other (or first after a pause)."""
    return list(targets) if rep % 2 == 0 else list(reversed(targets))


def percentile(values, p):
    """The p-th percentile (0 to 100) of values, nearest rank, or None if there are none."""
    vals = sorted(values)
    if not vals:
        return None
    rank = max(1, -(-len(vals) * p // 100))  # ceil(n p / 100), at least the first
    return vals[min(len(vals), int(rank)) - 1]


def run_median(runs, field):
    """Median of one field over the counted runs (those without an error), or None."""
    vals = [r[field] for r in runs if "error" not in r and r.get(field) is not None]
    return statistics.median(vals) if vals else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port, tls=None, timeout=5.0, with_length=False):
    """One GET / on a new connection (TLS when `tls` is an SSLContext).
    Returns (status, body, seconds, (tls version, cipher) or None), and the answer's length in
    bytes after them if with_length."""
    t0 = time.monotonic()
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s = raw
    info = None
    buf = b""
    try:
        if tls is not None:
            s = tls.wrap_socket(raw, server_hostname="localhost")
            info = (s.version(), s.cipher()[0])
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        while True:
            try:
                chunk = s.recv(65536)
            except (ssl.SSLError, ConnectionResetError):
                break
            if not chunk:
                break
            buf += chunk
            head, sep, body = buf.partition(b"\r\n\r\n")
            m = re.search(rb"(?im)^content-length:[ \t]*(\d+)", head) if sep else None
            if m and len(body) >= int(m.group(1)):
                break
    finally:
        s.close()
    seconds = time.monotonic() - t0
    head, _, body = buf.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    result = (int(m.group(1)) if m else 0), body, seconds, info
    return result + (len(buf),) if with_length else result


# ---- servers ---------------------------------------------------------------------------------------

class Server:
    """One server under test: its own process group, log file, and /proc figures."""

    def __init__(self, role, label, tls, port, log_path):
        self.role, self.label, self.tls, self.port, self.log_path = role, label, tls, port, log_path
        self.env = None  # extra environment variables, or None
        self.proc = None
        self.error = None
        self.exit_status = None  # set when it exited before listening
        self.tls_info = None
        self.answer_len = None   # bytes of its answer to GET / (head and body)

    def argv(self):
        raise NotImplementedError

    def url(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/"

    def start(self, ctx):
        """Start and check one answer; on failure self.error says why (never raises)."""
        try:
            argv = self.argv()
        except OSError as e:
            self.error = str(e)
            return False
        logf = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                         preexec_fn=pinned(ctx.server_cpus, raise_nofile),
                                         start_new_session=True,
                                         env=dict(os.environ, **self.env) if self.env else None)
        except OSError as e:
            self.error = f"cannot run {argv[0]}: {e.strerror}"
            return False
        finally:
            logf.close()
        REAPER.add(self.proc, True)
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                self.exit_status = self.proc.returncode
                self.error = f"exited with status {self.proc.returncode} before listening{self.log_tail()}"
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.error = f"nothing listens on port {self.port} after 10 s{self.log_tail()}"
                    return False
                time.sleep(0.05)
        time.sleep(0.3)  # let a master fork its workers before anything is measured
        try:
            status, body, _, self.tls_info, self.answer_len = http_get(
                self.port, ctx.client_tls if self.tls else None, with_length=True)
        except (OSError, ssl.SSLError) as e:
            self.error = f"no answer to GET /: {e}{self.log_tail()}"
            return False
        if status != 200 or body != MESSAGE:
            self.error = f"GET / answered {status} {body[:40]!r}, not 200 {MESSAGE!r}"
            return False
        return True

    def log_tail(self):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return f": {lines[-1][:200]}" if lines else ""

    def pids(self):
        return group_pids(self.proc.pid) if self.proc else []

    def cpu_us(self):
        total = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            rest = stat[stat.rfind(")") + 2:].split()
            total += sum(int(x) for x in rest[11:15])  # utime stime cutime cstime
        return total * TICK_US

    def status_kib(self, field):
        total = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith(field + ":"):
                            total += int(line.split()[1])
            except OSError:
                continue
        return total

    def nfds(self):
        total = 0
        for pid in self.pids():
            try:
                total += len(os.listdir(f"/proc/{pid}/fd"))
            except OSError:
                continue
        return total

    def stop(self):
        if self.proc is not None:
            REAPER.stop(self.proc, True)


class Squirrel(Server):
    def __init__(self, role, label, tls, port, log_path, bin_dir, cert, key, workers, extra):
        super().__init__(role, label, tls, port, log_path)
        self.bin_dir, self.cert, self.key, self.workers = bin_dir, cert, key, workers
        self.extra = extra

    def argv(self):
        prog = os.path.join(self.bin_dir, "squirrel-server")
        if not os.access(prog, os.X_OK):
            raise OSError(f"{prog} not found (run make first)")
        argv = [prog, "--mode", "tls" if self.tls else "plain"]
        if self.tls:
            argv += ["--cert", self.cert, "--key", self.key]
        argv += ["--listen", f"127.0.0.1:{self.port}", "--quiet"]
        if self.workers is not None:
            argv += ["--workers", str(self.workers)]
        return argv + self.extra


class Floor(Server):
    """tests/bench/bench_floor.c: accept, read, one prebuilt answer; the least a poll() server spends."""

    def __init__(self, role, port, log_path, bench_bin):
        super().__init__(role, "floor", False, port, log_path)
        self.bench_bin = bench_bin

    def argv(self):
        prog = os.path.join(self.bench_bin, "bench_floor") if self.bench_bin else ""
        if not prog or not os.access(prog, os.X_OK):
            raise OSError("bench_floor not built (BENCH_BIN; make bench builds it)")
        return [prog, str(self.port)]


class Nginx(Server):
    def __init__(self, role, label, tls, port, log_path, tmp, cert, key, workers):
        super().__init__(role, label, tls, port, log_path)
        self.dir = os.path.join(tmp, role)
        self.cert, self.key, self.workers = cert, key, workers

    def argv(self):
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.makedirs(os.path.join(self.dir, "tmp", sub), exist_ok=True)
        d = self.dir
        ssl_lines = ""
        if self.tls:
            ssl_lines = (f"        ssl_certificate {self.cert};\n"
                         f"        ssl_certificate_key {self.key};\n"
                         "        ssl_protocols TLSv1.2 TLSv1.3;\n"
                         "        ssl_session_tickets on;\n")
        # worker_connections covers the 10,000 idle connections; backlog as SOMAXCONN (4096 here).
        conf = f"""daemon off;
master_process on;
worker_processes {self.workers};
worker_rlimit_nofile {NOFILE};
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{
    worker_connections 20480;
}}
http {{
    access_log off;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    keepalive_requests 100000000;
    keepalive_timeout 75s;
    server {{
        listen 127.0.0.1:{self.port}{' ssl' if self.tls else ''} backlog=4096;
{ssl_lines}        location / {{
            default_type text/plain;
            return 200 "fluffy tail";
        }}
    }}
}}
"""
        path = os.path.join(d, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        return ["nginx", "-p", d + "/", "-c", path, "-e", os.path.join(d, "error.log")]


# ---- the run -----------------------------------------------------------------------------------

class Bench:
    def __init__(self, args, tmp):
        self.args, self.tmp = args, tmp
        self.quick = args.quick
        self.secs = 2 if self.quick else 5
        self.warmup = not self.quick
        self.rows = []
        self.notes = []
        self.raw = {}
        self.servers = {}
        self.bin = os.environ.get("SQUIRREL_BIN") or os.path.join(REPO, "bin")
        self.bench_bin = os.environ.get("BENCH_BIN") or ""
        self.alt_bin = os.environ.get("SQUIRREL_BIN_ALT") or ""
        self.alt_bench_bin = os.environ.get("BENCH_BIN_ALT") or ""
        self.flavor = self.read_flavor(self.bin)
        self.alt_flavor = self.read_flavor(self.alt_bin) if self.alt_bin else None
        self.meta = {}
        self.shim = None
        self.load_cpus = self.server_cpus = None  # plan_pinning() sets them
        self.helps = {}
        self.has_no_sandbox = None  # known after the first row that starts squirrel-server --no-sandbox
        self.ceilings = {}          # row d: {name: [RSA-2048 signs/s per repetition]}

    @staticmethod
    def read_flavor(bin_dir):
        try:
            with open(os.path.join(bin_dir, ".flavor")) as f:
                return f.read().strip() or "unknown"
        except OSError:
            return "unknown"

    def flavor_words(self, flavor):
        if self.args.nginx_vs_nginx:
            return "nginx"
        return {"system": "Debian wolfSSL", "source": "wolfSSL source build",
                "system-san": "Debian wolfSSL + sanitizers",
                "source-san": "wolfSSL source build + sanitizers"}.get(flavor, f"wolfSSL {flavor}")

    # -- set-up --
    def make_certs(self):
        """RSA-2048 and EC P-256 certificates for localhost/127.0.0.1, same files for every server."""
        self.certs = {}
        for kind, newkey in (("rsa", ["-newkey", "rsa:2048"]),
                             ("ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])):
            cert = os.path.join(self.tmp, f"{kind}-cert.pem")
            key = os.path.join(self.tmp, f"{kind}-key.pem")
            rc, _, err, _ = run_tool(["openssl", "req", "-x509", *newkey, "-nodes", "-keyout", key,
                                      "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                                      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], 60)
            if rc != 0:
                raise SystemExit(f"bench: openssl req failed: {err.strip()}")
            self.certs[kind] = (cert, key)
        self.client_tls = ssl.create_default_context(cafile=self.certs["rsa"][0])
        self.client_tls.load_verify_locations(cafile=self.certs["ec"][0])

    def server_help(self, bin_dir):
        """squirrel-server --help of one build ("" if it does not run), to learn its flags."""
        if bin_dir not in self.helps:
            prog = os.path.join(bin_dir, "squirrel-server")
            text = ""
            if os.access(prog, os.X_OK):
                try:
                    _, out, err, _ = run_tool([prog, "--help"], 10)
                    text = out + err
                except OSError:
                    pass
            self.helps[bin_dir] = text
        return self.helps[bin_dir]

    def our_extra_args(self, bin_dir):
        args = []
        for flag, secs in MATCHED_TIMEOUTS:
            if flag in self.server_help(bin_dir):
                args += [flag, str(secs)]
        return args

    def detect_workers(self):
        """--workers N for both servers when ours has the flag; otherwise 1 worker for both."""
        want = self.args.workers
        self.our_workers = None
        has_flag = not self.args.nginx_vs_nginx and "--workers" in self.server_help(self.bin)
        if self.args.nginx_vs_nginx:
            self.workers = want
        elif has_flag:
            self.workers = want
            self.our_workers = want
        else:
            self.workers = 1
            if want != 1:
                self.notes.append(f"squirrel-server has no --workers yet: both servers ran 1 worker "
                                  f"instead of {want}")
        self.meta["workers"] = self.workers

    def plan_pinning(self):
        """Load generator and servers on CPUs of their own, when there are enough for both, so
        that both servers meet the same placement and the scheduler's choices are out of the
        comparison. (It does not make runs steadier here: docs/benchmarks.md, "Pinning".)"""
        cpus = sorted(os.sched_getaffinity(0))
        want = self.args.wrk_threads + self.workers
        if self.args.no_pin:
            self.meta["pinning"] = "off (--no-pin)"
        elif len(cpus) < want:
            self.meta["pinning"] = (f"off: {len(cpus)} CPUs for {self.args.wrk_threads} wrk "
                                    f"thread(s) and {self.workers} worker(s)")
        else:
            self.load_cpus = set(cpus[:self.args.wrk_threads])
            self.server_cpus = set(cpus[self.args.wrk_threads:want])
            self.meta["pinning"] = (f"wrk and s_time on CPU {','.join(map(str, sorted(self.load_cpus)))}, "
                                    f"servers on CPU {','.join(map(str, sorted(self.server_cpus)))}")

    def build_shim(self):
        src = os.path.join(self.tmp, "tlscount.c")
        out = os.path.join(self.tmp, "tlscount.so")
        with open(src, "w") as f:
            f.write(TLS_SHIM_C)
        rc, _, err, _ = run_tool(["cc", "-O2", "-shared", "-fPIC", "-o", out, src, "-ldl"], 60)
        if rc == 0:
            self.shim = out
        else:
            self.notes.append(f"cannot build the TLS handshake counter ({err.strip()[:120]}): "
                              "row d cannot prevent wrk's resumption and is not reported")

    def server(self, role):
        """Start (once) and return the server for a role, or None; errors are kept on the object."""
        if role in self.servers:
            srv = self.servers[role]
            return srv if srv.error is None else None
        # who: ours | alt | nosb (ours with --no-sandbox) | floor | nginx; kind: plain | rsa | ec
        who, _, kind = role.partition("-")
        tls = kind != "plain"
        cert, key = self.certs["ec" if kind == "ec" else "rsa"]
        port = free_port()
        log_path = os.path.join(self.tmp, f"{role}.log")
        if who == "floor":
            srv = Floor(role, port, log_path, self.bench_bin)
        elif who == "nginx" or self.args.nginx_vs_nginx:
            srv = Nginx(role, "nginx", tls, port, log_path, self.tmp, cert, key, self.workers)
            srv.env = self.peer_env()
        else:
            bin_dir = self.alt_bin if who == "alt" else self.bin
            extra = self.our_extra_args(bin_dir)
            if extra:
                self.meta["squirrel_extra_args"] = " ".join(extra)
            if who == "nosb":
                extra = extra + [NO_SANDBOX]
            srv = Squirrel(role, "squirrel", tls, port, log_path, bin_dir, cert, key, self.our_workers, extra)
        self.servers[role] = srv
        log(f"starting {role} on 127.0.0.1:{port}")
        if not srv.start(self):
            log(f"{role}: {srv.error}")
            srv.stop()
            return None
        if srv.tls_info:
            self.meta.setdefault("tls", {})[role] = {"version": srv.tls_info[0], "cipher": srv.tls_info[1]}
        return srv

    def peer_env(self):
        """The environment that --peer-ia32cap gives nginx and `openssl speed` (not wrk, not
        s_time: the clients stay as they are), or None."""
        return {"OPENSSL_ia32cap": self.args.peer_ia32cap} if self.args.peer_ia32cap else None

    def why(self, role):
        srv = self.servers.get(role)
        return srv.error if srv is not None and srv.error else "not started"

    # -- rows --
    def add(self, key, metric, tool, unit, ours, peer, goal=None, note=None, raw=None):
        """goal: (kind, value, text) with kind in ratio>=, ratio<=, ours<=, ours<; or None."""
        self.rows.append({"key": key, "metric": metric, "tool": tool, "unit": unit,
                          "squirrel": ours, "peer": peer, "goal": goal, "note": note, "raw": raw})

    def targets(self, kind, with_alt):
        """(name, role) to interleave: ours first, then the alternative build, then nginx."""
        out = [("squirrel", f"ours-{kind}")]
        if with_alt and self.alt_bin and not self.args.nginx_vs_nginx:
            out.append(("squirrel-alt", f"alt-{kind}"))
        out.append(("nginx", f"nginx-{kind}"))
        return out

    def wrk_once(self, srv, seconds, close, tls_mode):
        argv = ["wrk", f"-t{self.args.wrk_threads}", f"-c{WRK_CONNS}", f"-d{seconds}s", "--timeout", "5s",
                "-s", LATENCY_LUA]
        if close:
            argv += ["-H", "Connection: close"]
        argv.append(srv.url())
        env = {}
        count_path = None
        if srv.tls and self.shim:
            count_path = os.path.join(self.tmp, "tlscount.txt")
            if os.path.exists(count_path):
                os.unlink(count_path)
            env = {"LD_PRELOAD": self.shim, "BENCH_TLS_COUNT": count_path}
            if tls_mode == "fresh":
                env["BENCH_TLS_FRESH"] = "1"
        cpu0 = srv.cpu_us()
        wrk0 = children_cpu_s()
        rc, out, err, wall = run_tool(argv, seconds + 20, env, self.load_cpus)
        wrk_cpu = children_cpu_s() - wrk0
        cpu1 = srv.cpu_us()
        run = {"rc": rc, "wall_s": round(wall, 3)}
        m = re.search(r"(\d+) requests in", out)
        r = re.search(r"Requests/sec:\s+([\d.]+)", out)
        if rc != 0 or not m or not r:
            run["error"] = f"wrk failed ({'timeout' if rc is None else rc}): {(err or out).strip()[:160]}"
            return run
        reqs = int(m.group(1))
        errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        errors += int(non2xx.group(1)) if non2xx else 0
        run.update(requests=reqs, rps=float(r.group(1)), errors=errors,
                   cpu_us_per_req=(cpu1 - cpu0) / reqs if reqs else None,
                   server_cores=(cpu1 - cpu0) / 1e6 / wall, wrk_cores=wrk_cpu / wall)
        # tests/bench/latency.lua's table: [percentile, microseconds], from 0 (min) to 100 (max).
        pct = [[float(p), int(us)] for p, us in re.findall(r"^latency_us ([\d.]+) (\d+)$", out, re.M)]
        if pct:
            table = dict((p, us) for p, us in pct)
            run.update(latency_pct_us=pct, p50_us=table.get(50.0), p99_us=table.get(99.0))
        if count_path and os.path.exists(count_path):
            with open(count_path) as f:
                counts = dict(line.split() for line in f if line.strip())
            run["handshakes_full"] = int(counts.get("full", 0))
            run["handshakes_resumed"] = int(counts.get("resumed", 0))
        if reqs == 0 or errors > BAD_RUN * reqs:
            run["error"] = f"{errors} errors or non-2xx answers in {reqs} requests"
        return run

    # -- the wrk rows --
    def start_targets(self, spec):
        """Start a wrk row's servers. Returns [(name, role, server or None)] in TARGET_ORDER: ours,
        ours with --no-sandbox (rows that compare confinement), the other wolfSSL build (TLS rows),
        the floor (rows a and b, one worker), nginx."""
        kind = spec["kind"]
        roles = {"squirrel": f"ours-{kind}", "nginx": f"nginx-{kind}"}
        with_ours = not self.args.nginx_vs_nginx
        if kind != "plain" and self.alt_bin and with_ours:
            roles["squirrel-alt"] = f"alt-{kind}"
        if spec.get("floor") and self.workers == 1:
            roles["floor"] = "floor-plain"
        elif spec.get("floor"):
            text = f"the floor server has one process: left out with {self.workers} workers per server"
            if text not in self.notes:
                self.notes.append(text)
        if spec.get("confine") and with_ours and self.has_no_sandbox is not False:
            roles["squirrel-nosb"] = f"nosb-{kind}"
        out = []
        for name in TARGET_ORDER:
            if name not in roles:
                continue
            srv = self.server(roles[name])
            if name == "squirrel-nosb":
                if srv is None and self.servers[roles[name]].exit_status == 2:
                    # Exit 2 is the usage error a squirrel-server without the flag gives.
                    self.has_no_sandbox = False
                    text = f"confinement comparison skipped: this squirrel-server has no {NO_SANDBOX}"
                    print(text, file=sys.stderr, flush=True)
                    self.notes.append(text)
                    continue
                self.has_no_sandbox = srv is not None
            out.append((name, roles[name], srv))
        return out

    def wrk_tool(self, spec):
        tool = f"wrk -t{self.args.wrk_threads} -c{WRK_CONNS} -d{self.secs}s"
        if spec["close"]:
            tool += " + Connection: close"
        if spec["tls"] == "fresh":
            tool += ", resumption off (shim)"
        elif spec["tls"] == "resume":
            tool += ", wrk resumes"
        return tool

    def run_load(self, key, spec, targets):
        """--reps interleaved wrk runs of every live target (after a warm-up in full mode); row d
        also measures the signature ceilings after each repetition. Returns {name: [run]}."""
        close, tls_mode = spec["close"], spec["tls"]
        live = [(n, s) for n, _, s in targets if s is not None]
        if tls_mode == "fresh" and not self.shim:
            live = []
        runs = {n: [] for n, _, _ in targets}
        log(f"row {key}: {spec['title']} ({self.wrk_tool(spec)})")
        if self.warmup:
            for n, srv in live:
                self.wrk_once(srv, 1, close, tls_mode)
        for rep in range(self.args.reps):
            for n, srv in alternate(live, rep):
                run = self.wrk_once(srv, self.secs, close, tls_mode)
                runs[n].append(run)
                lat = (f", p50 {run['p50_us'] / 1000:.2f} ms, p99 {run['p99_us'] / 1000:.2f} ms"
                       if run.get("p99_us") is not None else "")
                log(f"  {n} {rep + 1}/{self.args.reps}: {run.get('rps', 0):,.0f} req/s{lat}"
                    + (f" ({run['error']})" if "error" in run else ""))
            if spec.get("ceiling") and live:
                self.ceiling_once(rep)
        return runs

    def load_row(self, key):
        """One wrk row: interleaved targets, --reps runs each, medians; with its CPU-per-request and
        latency rows, and the floor, confinement and ceiling rows where the row has them."""
        spec = LOAD_ROWS[key]
        targets = self.start_targets(spec)
        runs = self.run_load(key, spec, targets)
        self.raw[key] = runs
        self.report_load(key, spec, targets, runs)
        names = [n for n, _, _ in targets]
        if "floor" in names:
            self.report_floor(key, spec, targets, runs)
        if "squirrel-nosb" in names:
            self.report_confinement(key, spec, targets, runs)
        if spec.get("ceiling"):
            self.report_ceiling(key, runs)

    def target_notes(self, name, role, srv, runs):
        """Why a target has no figure, or how many of its runs were not counted; or None."""
        if srv is None:
            return f"{name}: n/a ({self.why(role)})"
        bad = [r["error"] for r in runs[name] if "error" in r]
        if bad and len(bad) == len(runs[name]):
            return f"{name}: n/a ({bad[0]})"
        if bad:
            return f"{name}: {len(bad)} of {len(runs[name])} runs not counted ({bad[0]})"
        return None

    @staticmethod
    def spread_note(runs, names):
        """The range beside the median: on a shared 2-core machine one run can move 20%."""
        spread = []
        for who in names:
            rates = [r["rps"] for r in runs.get(who, []) if "error" not in r]
            if len(rates) > 1:
                spread.append(f"{who} {min(rates):,.0f} to {max(rates):,.0f}")
        return "runs (req/s): " + ", ".join(spread) if spread else None

    @staticmethod
    def handshake_notes(name, runs, tls_mode):
        full = sum(r.get("handshakes_full", 0) for r in runs[name])
        resumed = sum(r.get("handshakes_resumed", 0) for r in runs[name])
        pfull = sum(r.get("handshakes_full", 0) for r in runs["nginx"])
        presumed = sum(r.get("handshakes_resumed", 0) for r in runs["nginx"])
        notes = [f"handshakes full/resumed: {name} {full}/{resumed}, nginx {pfull}/{presumed}"]
        if tls_mode == "resume" and full + resumed and resumed < 0.9 * (full + resumed):
            notes.append(f"{name} resumed fewer than 90% of handshakes: this row mixes in full ones")
        if tls_mode == "fresh" and resumed + presumed:
            notes.append("some handshakes were resumed although the shim dropped every session")
        return notes

    @staticmethod
    def latency_ms(runs):
        """(median p50, median p99) in ms over the counted runs, or None."""
        p50, p99 = run_median(runs, "p50_us"), run_median(runs, "p99_us")
        return (p50 / 1000, p99 / 1000) if p50 is not None and p99 is not None else None

    @staticmethod
    def latency_goal(lat):
        """LOAD_ROWS' (p50, p99) limits as a table goal, or None."""
        if not lat or lat == (None, None):
            return None
        words = [f"{w} <= {v:g}x" for w, v in zip(("p50", "p99"), lat) if v is not None]
        return ("pair<=", lat, ", ".join(words))

    def report_load(self, key, spec, targets, runs):
        """req/s, CPU per request and latency of each squirrel build against nginx."""
        by_name = {n: (role, srv) for n, role, srv in targets}
        tool = self.wrk_tool(spec)
        for name in ("squirrel", "squirrel-alt"):
            if name not in by_name:
                continue
            role, srv = by_name[name]
            flavor = self.alt_flavor if name == "squirrel-alt" else self.flavor
            tag = "" if spec["kind"] == "plain" else f" [{self.flavor_words(flavor)}]"
            notes = [x for x in (self.target_notes(name, role, srv, runs),
                                 self.target_notes("nginx", *by_name["nginx"], runs),
                                 self.spread_note(runs, (name, "nginx"))) if x]
            if spec["tls"] and srv is not None:
                notes += self.handshake_notes(name, runs, spec["tls"])
            judged = not spec.get("source_goal") or flavor.startswith("source")
            goal = ("ratio>=", spec["goal"], f">= {spec['goal']:g}x") if spec.get("goal") else None
            lat_goal = self.latency_goal(spec.get("lat"))
            if not judged:
                goal = goal and ("info", goal[1], f"{goal[2]} (source build)")
                lat_goal = lat_goal and ("info", lat_goal[1], f"{lat_goal[2]} (source build)")
            self.add(key, spec["title"] + tag, tool, "req/s", run_median(runs[name], "rps"),
                     run_median(runs["nginx"], "rps"), goal, "; ".join(notes) or None)
            # Cores the server kept busy: well below 1 (per worker) means the load generator or the
            # other tenants of the machine, not the server, set the rate. wrk near 1 core per thread:
            # the load generator set it.
            busy = [f"{who} {run_median(runs[who], 'server_cores'):.2f}" for who in (name, "nginx")
                    if run_median(runs[who], "server_cores") is not None]
            busy += [f"wrk against {who} {run_median(runs[who], 'wrk_cores'):.2f}" for who in (name, "nginx")
                     if run_median(runs[who], "wrk_cores") is not None]
            self.add(key + ".cpu", f"{key}. server CPU per request{tag}", "/proc utime+stime", "us",
                     run_median(runs[name], "cpu_us_per_req"), run_median(runs["nginx"], "cpu_us_per_req"),
                     None, f"busy (cores): {', '.join(busy)}" if busy else None)
            self.add(key + ".lat", f"{key}. latency p50 / p99{tag}", "wrk, tests/bench/latency.lua", "ms2",
                     self.latency_ms(runs[name]), self.latency_ms(runs["nginx"]), lat_goal)

    def report_floor(self, key, spec, targets, runs):
        """squirrel-server's CPU per request against bench_floor's, from the same runs."""
        by_name = {n: (role, srv) for n, role, srv in targets}
        ours, floor = runs["squirrel"], runs["floor"]
        notes = [x for x in (self.target_notes("squirrel", *by_name["squirrel"], runs),
                             self.target_notes("floor", *by_name["floor"], runs),
                             self.spread_note(runs, ("floor",))) if x]
        lat = self.latency_ms(floor)
        if run_median(floor, "rps") is not None and lat:
            notes.append(f"floor: {run_median(floor, 'rps'):,.0f} req/s, p50 / p99 {lat[0]:.2f} / "
                         f"{lat[1]:.2f} ms, {run_median(floor, 'server_cores') or 0:.2f} cores busy")
        nginx_cpu, floor_cpu = run_median(runs["nginx"], "cpu_us_per_req"), run_median(floor, "cpu_us_per_req")
        if nginx_cpu and floor_cpu:
            notes.append(f"nginx's CPU per request is {nginx_cpu / floor_cpu:.2f}x the floor's")
        mine, theirs = by_name["squirrel"][1], by_name["floor"][1]
        if mine and theirs and mine.answer_len != theirs.answer_len:
            notes.append(f"the floor answers {theirs.answer_len} bytes and squirrel-server "
                         f"{mine.answer_len}: make FLOOR_HEAD in tests/bench/bench_floor.c match")
        goal = spec.get("floor_goal")
        self.add(key + ".floor", f"{key}. server CPU per request (peer: the floor, bench_floor)",
                 "/proc utime+stime", "us", run_median(ours, "cpu_us_per_req"), floor_cpu,
                 ("ratio<=", goal, f"<= {goal:g}x the floor") if goal else None, "; ".join(notes) or None)

    def report_confinement(self, key, spec, targets, runs):
        """The default squirrel-server against the same build run with --no-sandbox."""
        by_name = {n: (role, srv) for n, role, srv in targets}
        tag = "" if spec["kind"] == "plain" else f" [{self.flavor_words(self.flavor)}]"
        notes = [x for x in (self.target_notes("squirrel-nosb", *by_name["squirrel-nosb"], runs),
                             self.spread_note(runs, ("squirrel", "squirrel-nosb"))) if x]
        lat = self.latency_ms(runs["squirrel-nosb"])
        if lat:
            notes.append(f"{NO_SANDBOX}: p50 / p99 {lat[0]:.2f} / {lat[1]:.2f} ms")
        for field, unit, words, tool in (("rps", "req/s", "req/s", self.wrk_tool(spec)),
                                         ("cpu_us_per_req", "us", "server CPU per request", "/proc utime+stime")):
            self.add(key + ".confine", f"{key}. {words} with the sandbox{tag} (peer: {NO_SANDBOX})",
                     tool, unit, run_median(runs["squirrel"], field),
                     run_median(runs["squirrel-nosb"], field), None,
                     "; ".join(notes) if notes and field == "rps" else None)

    def ceiling_jobs(self):
        """(name, argv, env) of the RSA-2048 signature measurements: bench_crypto of each wolfSSL
        build, and `openssl speed` for nginx, which links the same Debian libcrypto."""
        secs = 0.5 if self.quick else 1
        speed = (["openssl", "speed", "-elapsed", "-mr", "-seconds", "1", "rsa2048"], self.peer_env())
        jobs = []
        for name, bench_dir in (("squirrel", self.bench_bin), ("squirrel-alt", self.alt_bench_bin)):
            prog = os.path.join(bench_dir, "bench_crypto") if bench_dir else ""
            if self.args.nginx_vs_nginx:
                jobs += [(name, *speed)] if name == "squirrel" else []
            elif (name == "squirrel" or self.alt_bin) and prog and os.access(prog, os.X_OK):
                jobs.append((name, [prog, str(secs), "rsa"], None))
        return jobs + [("nginx", *speed)]

    def ceiling_once(self, rep):
        """One RSA-2048 signature rate per server's library, on the servers' CPU, interleaved."""
        for name, argv, env in alternate(self.ceiling_jobs(), rep):
            rc, out, err, _ = run_tool(argv, 120, env=env, cpus=self.server_cpus)
            m = (re.search(r"^rsa2048_sign_ops_per_s ([\d.]+)$", out, re.M)
                 or re.search(r"\+F2:\d+:2048:([\d.]+):", out))
            rate = float(m.group(1)) if rc == 0 and m else None
            self.ceilings.setdefault(name, []).append(rate)
            log(f"  ceiling {name} {rep + 1}/{self.args.reps}: "
                + (f"{rate:,.0f} RSA-2048 signs/s" if rate else f"failed: {(err or out).strip()[:120]}"))

    def report_ceiling(self, key, runs):
        """Row d against the crypto ceiling: 1 / (one RSA-2048 signature) times the workers, for
        each server's library, and each server's rate as a share of its own ceiling."""
        self.raw[key + ".ceiling"] = self.ceilings

        def ceiling(name):
            vals = [v for v in self.ceilings.get(name, []) if v]
            return statistics.median(vals) * self.workers if vals else None

        def share(name):
            rate, top = run_median(runs.get(name, []), "rps"), ceiling(name)
            return rate / top if rate and top else None

        per = "one core" if self.workers == 1 else f"{self.workers} cores"
        for name in ("squirrel", "squirrel-alt"):
            if name not in runs:
                continue
            tag = f" [{self.flavor_words(self.alt_flavor if name == 'squirrel-alt' else self.flavor)}]"
            self.add(key + ".ceiling", f"{key}. ceiling: RSA-2048 signs/s on {per}{tag} (peer: nginx's OpenSSL)",
                     "bench_crypto rsa / openssl speed rsa2048", "ops/s", ceiling(name), ceiling("nginx"))
            self.add(key + ".share", f"{key}. handshakes/s as a share of its own ceiling{tag}",
                     "row d / ceiling", "%", share(name), share("nginx"))

    def stime_rows(self):
        """openssl s_time, one sequential client: -new (full) and -reuse (resumed) handshakes."""
        secs = 2 if self.quick else 5
        for mode, key, title in (("-new", "s.new", "s. TLS full handshakes/s, one client"),
                                 ("-reuse", "s.reuse", "s. TLS resumed handshakes/s, one client")):
            targets = [(n, r, self.server(r)) for n, r in self.targets("rsa", with_alt=True)]
            runs = {n: [] for n, _, _ in targets}
            log(f"row {key}: {title} (openssl s_time {mode} -time {secs})")
            for rep in range(self.args.reps):
                for name, role, srv in alternate(targets, rep):
                    if srv is None:
                        continue
                    argv = ["openssl", "s_time", "-connect", f"127.0.0.1:{srv.port}", "-www", "/",
                            "-time", str(secs), mode]
                    rc, out, err, wall = run_tool(argv, secs + 30, cpus=self.load_cpus)
                    m = re.search(r"(\d+) connections in [\d.]+s;", out)
                    run = {"rc": rc, "wall_s": round(wall, 3)}
                    if rc != 0 or not m:
                        run["error"] = f"s_time failed: {(err or out).strip()[-160:]}"
                    else:
                        marks = "".join(line for line in out.splitlines()
                                        if line and set(line) <= set("r*t3"))
                        run.update(connections=int(m.group(1)), rate=int(m.group(1)) / wall,
                                   resumed=marks.count("r"), marked=len(marks))
                    runs[name].append(run)
                    log(f"  {name} {rep + 1}/{self.args.reps}: {run.get('rate', 0):,.0f} conn/s"
                        + (f" ({run['error']})" if "error" in run else ""))
            self.raw[key] = runs
            peer = [r["rate"] for r in runs["nginx"] if "rate" in r]
            for name, role, srv in targets[:-1]:
                flavor = self.alt_flavor if name == "squirrel-alt" else self.flavor
                ours = [r["rate"] for r in runs[name] if "rate" in r]
                notes = []
                if srv is None:
                    notes.append(f"squirrel: n/a ({self.why(role)})")
                elif not ours and runs[name]:
                    notes.append(f"squirrel: n/a ({runs[name][0].get('error')})")
                if targets[-1][2] is None:
                    notes.append(f"nginx: n/a ({self.why('nginx-rsa')})")
                for who in (name, "nginx"):
                    got = [r for r in runs[who] if "rate" in r]
                    if got:
                        notes.append(f"{who} resumed {sum(r['resumed'] for r in got)} of "
                                     f"{sum(r['marked'] for r in got)}")
                self.add(key, f"{title} [{self.flavor_words(flavor)}]", f"openssl s_time {mode}",
                         "conn/s", statistics.median(ours) if ours else None,
                         statistics.median(peer) if peer else None, None, "; ".join(notes) or None)

    def peak_rss_rows(self):
        for kind, title in (("plain", "peak RSS, plain server"), ("rsa", "peak RSS, TLS server (RSA)")):
            for who in ("ours", "alt"):
                srv = self.servers.get(f"{who}-{kind}")
                peer = self.servers.get(f"nginx-{kind}")
                if srv is None or srv.error or peer is None or peer.error:
                    continue
                flavor = self.alt_flavor if who == "alt" else self.flavor
                label = title if kind == "plain" else f"{title} [{self.flavor_words(flavor)}]"
                self.add("rss", label, "/proc VmHWM, all processes", "MiB",
                         srv.status_kib("VmHWM") / 1024, peer.status_kib("VmHWM") / 1024, None)

    # -- idle connections --
    def wait_fds(self, srv, target, timeout=15.0):
        deadline = time.monotonic() + timeout
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            n = srv.nfds()
            if n >= target:
                return n
            if n != last:
                last, since = n, time.monotonic()
            elif time.monotonic() - since > 2.0:
                return n
            time.sleep(0.1)
        return srv.nfds()

    def idle_one(self, srv, n, tls):
        """Hold n idle connections (TLS: handshake done, no request) to srv; returns a dict."""
        base_rss, base_fds = srv.status_kib("VmRSS"), srv.nfds()
        res = {"wanted": n}

        def measure():
            held = self.wait_fds(srv, base_fds + n) - base_fds
            time.sleep(0.5)
            res["held"] = held
            res["rss_delta_kib"] = srv.status_kib("VmRSS") - base_rss
            res["kib_per_conn"] = res["rss_delta_kib"] / held if held > 0 else None
            # What the held connections cost while nothing happens: a server that polls or sweeps
            # them on a timer shows here.
            quiet = 1.0 if self.quick else 2.0
            cpu0 = srv.cpu_us()
            time.sleep(quiet)
            res["idle_cpu_ms_per_s"] = (srv.cpu_us() - cpu0) / 1000 / quiet
            times = []
            for _ in range(5):
                try:
                    status, body, secs, _ = http_get(srv.port, self.client_tls if tls else None)
                    times.append(secs * 1000 if status == 200 and body == MESSAGE else None)
                except (OSError, ssl.SSLError):
                    times.append(None)
            res["request_ms"] = times
            good = [t for t in times if t is not None]
            res["request_ms_median"] = statistics.median(good) if good else None
            if len(good) < len(times):
                res["error"] = f"{len(times) - len(good)} of {len(times)} requests failed while held"

        if not tls:
            socks = []
            try:
                for _ in range(n):
                    try:
                        socks.append(socket.create_connection(("127.0.0.1", srv.port), timeout=3))
                    except OSError as e:
                        res["error"] = f"connection {len(socks) + 1} failed: {e}"
                        break
                res["opened"] = len(socks)
                measure()
            finally:
                for s in socks:
                    s.close()
        else:
            asyncio.run(self.idle_tls(srv, n, res, measure))
        # Let the server notice the closes before the next measurement starts.
        deadline = time.monotonic() + 10
        while srv.nfds() > base_fds + 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        return res

    async def idle_tls(self, srv, n, res, measure):
        writers, errors = [], []
        gate = asyncio.Semaphore(64)

        async def one():
            async with gate:
                try:
                    _, w = await asyncio.wait_for(asyncio.open_connection(
                        "127.0.0.1", srv.port, ssl=self.client_tls, server_hostname="localhost"), 10)
                    writers.append(w)
                except (OSError, ssl.SSLError, asyncio.TimeoutError) as e:
                    errors.append(repr(e))

        try:
            await asyncio.gather(*(one() for _ in range(n)))
            res["opened"] = len(writers)
            if errors:
                res["error"] = f"{len(errors)} handshakes failed, first: {errors[0][:120]}"
            measure()
        finally:
            for w in writers:
                w.transport.abort()
            await asyncio.sleep(0)

    def idle_rows(self):
        limit = raise_nofile()
        n_plain = 2000 if self.quick else 10000
        n_tls = 1000 if self.quick else 10000
        n_plain, n_tls = min(n_plain, limit - 500), min(n_tls, limit - 500)
        # TLS idle connections use the EC certificate: the memory held per connection does not depend
        # on the key type, and with Debian's wolfSSL a full ECDSA handshake costs the server about a
        # fifth of an RSA-2048 one (measured: 660 vs 3,600 us), so 10,000 of them open in seconds.
        for kind, n, tls, goal_kib in (("plain", n_plain, False, 4), ("ec", n_tls, True, 48)):
            results = {}
            roles = [("squirrel", f"ours-{kind}"), ("nginx", f"nginx-{kind}")]
            if tls and self.alt_bin and not self.args.nginx_vs_nginx:
                # The session object wolfSSL keeps per connection differs between the builds.
                roles.insert(1, ("squirrel-alt", f"alt-{kind}"))
            for name, role in roles:
                srv = self.server(role)
                if srv is None:
                    results[name] = {"error": self.why(role)}
                    continue
                log(f"idle: {n} {'TLS' if tls else 'plain'} connections to {name}")
                results[name] = self.idle_one(srv, n, tls)
                r = results[name]
                log(f"  held {r.get('held')}, {r.get('kib_per_conn') or 0:.1f} KiB each, request "
                    f"{r.get('request_ms_median') or 0:.2f} ms" + (f" ({r['error']})" if "error" in r else ""))
            self.raw[f"idle.{kind}"] = results
            o, p = results["squirrel"], results["nginx"]
            notes = [f"{who}: {r['error']}" for who, r in results.items() if "error" in r]
            notes += [f"{who} held {r['held']} of the {r.get('opened')} opened (did it time them out?)"
                      for who, r in results.items() if "held" in r and r["held"] < 0.98 * n]
            word = "TLS (handshake done)" if tls else "plain"
            self.add("idle", f"memory per idle {word} connection, {n:,} open", "python + /proc VmRSS",
                     "KiB", o.get("kib_per_conn"), p.get("kib_per_conn"),
                     ("ours<=", goal_kib, f"<= {goal_kib} KiB"), "; ".join(notes) or None)
            if "squirrel-alt" in results:
                a = results["squirrel-alt"]
                self.add("idle", f"memory per idle TLS (handshake done) connection, {n:,} open "
                         f"[{self.flavor_words(self.alt_flavor)}]", "python + /proc VmRSS", "KiB",
                         a.get("kib_per_conn"), p.get("kib_per_conn"),
                         ("ours<=", goal_kib, f"<= {goal_kib} KiB"),
                         f"squirrel-alt: {a['error']}" if "error" in a else None)
            self.add("idle", f"server CPU while {n:,} idle {'TLS ' if tls else ''}connections wait",
                     "/proc utime+stime", "ms/s", o.get("idle_cpu_ms_per_s"), p.get("idle_cpu_ms_per_s"))
            self.add("idle", f"one {'TLS ' if tls else ''}request while {n:,} are held",
                     "python, median of 5", "ms", o.get("request_ms_median"), p.get("request_ms_median"),
                     ("ours<", 50, "< 50 ms"))

    # -- client cost --
    def client_rows(self):
        ours = "curl" if self.args.nginx_vs_nginx else os.path.join(self.bin, "squirrel-client")
        for kind, scheme in (("plain", "http"), ("rsa", "https")):
            srv = self.server(f"nginx-{kind}")
            if srv is None:
                self.add("client", f"client time per {scheme} fetch", "hyperfine -N", "ms", None, None,
                         ("ratio<=", 0.5, "<= 0.5x"), f"nginx: n/a ({self.why('nginx-' + kind)})")
                continue
            url = f"{scheme}://127.0.0.1:{srv.port}/"
            ca = ["--cacert", self.certs["rsa"][0]] if scheme == "https" else []
            if ours == "curl":
                cmd_ours = ["curl", "-s", *ca, url]
            else:
                cmd_ours = [ours, "--raw", *ca, url]
            cmd_curl = ["curl", "-s", *ca, url]
            note = None
            try:
                rc, out, err, _ = run_tool(cmd_ours, 20)
                ok = rc == 0 and out.strip().encode() == MESSAGE
                if not ok:
                    note = (f"squirrel-client: n/a (exit {rc}, printed {out.strip()[:40]!r}"
                            f"{', ' + err.strip().splitlines()[-1][:100] if err.strip() else ''})")
            except OSError as e:
                ok, note = False, f"squirrel-client: n/a ({e.strerror})"
            cmds = [("squirrel-client", cmd_ours)] if ok else []
            cmds.append(("curl", cmd_curl))
            jpath = os.path.join(self.tmp, f"hyperfine-{scheme}.json")
            argv = ["hyperfine", "-N", "--style", "none", "--warmup", "3", "--min-runs", "20",
                    "--export-json", jpath]
            for name, cmd in cmds:
                argv += ["-n", name, shlex.join(cmd)]
            log(f"client: {scheme} fetches, {' vs '.join(n for n, _ in cmds)} (hyperfine)")
            rc, out, err, _ = run_tool(argv, 300)
            if rc == 0 and os.path.exists(jpath):
                with open(jpath) as f:
                    results = {r["command"]: self.client_times(r) for r in json.load(f)["results"]}
                self.raw[f"client.{scheme}"] = results
            else:
                results = {}
                note = (note + "; " if note else "") + f"hyperfine failed: {(err or out).strip()[:160]}"
            runs = ", ".join(f"{name} {r['runs']}" for name, r in results.items())
            note = "; ".join(x for x in (note, f"runs: {runs}" if runs else None) if x) or None
            pair = {name: (r["p50_ms"], r["p99_ms"]) for name, r in results.items()}
            self.add("client", f"client time per {scheme} fetch, p50 / p99", "hyperfine -N", "ms2",
                     pair.get("squirrel-client"), pair.get("curl"), ("pair<=", (0.5, None), "p50 <= 0.5x"),
                     note)

    @staticmethod
    def client_times(result):
        """One hyperfine result: its run count, p50 and p99 (ms), and its percentile table for the
        charts ([percentile, ms], as wrk's rows have in microseconds)."""
        times = [t * 1000 for t in result.get("times") or []]
        if not times:  # an old hyperfine without the run times: its median only
            times = [result["median"] * 1000]
        points = [0, 0.1, 0.5] + list(range(1, 100)) + [99.5, 99.9, 100]
        return {"runs": len(times), "p50_ms": percentile(times, 50), "p99_ms": percentile(times, 99),
                "latency_pct_ms": [[p, percentile(times, p) if p else min(times)] for p in points]}

    # -- fernet and crypto (in-process) --
    @staticmethod
    def parse_lines(text):
        vals = {}
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 2:
                try:
                    vals[parts[0]] = float(parts[1])
                except ValueError:
                    pass
        return vals

    def inproc_reps(self):
        """The crypto rows repeat REPS times, interleaved, in full mode; once in quick mode."""
        return 1 if self.quick else REPS

    @staticmethod
    def medians(runs):
        """{name: value} dicts from several runs -> {name: median over the runs that have it}."""
        keys = {k for r in runs for k in r}
        return {k: statistics.median([r[k] for r in runs if k in r]) for k in keys}

    def fernet_rows(self):
        ours_prog = os.path.join(self.bench_bin, "bench_fernet") if self.bench_bin else ""
        py_prog = os.path.join(REPO, "tests", "bench", "fernet_py.py")
        notes = []
        progs = []
        if self.args.nginx_vs_nginx:
            notes.append("not measured in --nginx-vs-nginx")
        else:
            if ours_prog and os.access(ours_prog, os.X_OK):
                progs.append(("squirrel", [ours_prog]))
            else:
                notes.append("bench_fernet not built (BENCH_BIN)")
            if os.path.exists(py_prog):
                progs.append(("python", [sys.executable, py_prog]))
            else:
                notes.append("tests/bench/fernet_py.py not found")
        # Always REPS runs: one quick run each is too noisy for a 20x goal, and they are short.
        runs = {"squirrel": [], "python": []}
        for rep in range(REPS if progs else 0):
            for name, argv in progs:
                log(f"fernet: {os.path.basename(argv[-1])} {rep + 1}/{REPS}")
                rc, out, err, _ = run_tool(argv + (["--quick"] if self.quick else []), 300)
                if rc == 0:
                    runs[name].append(self.parse_lines(out))
                elif rep == 0:
                    notes.append(f"{os.path.basename(argv[-1])} failed ({rc}): {err.strip()[:120]}")
        self.raw["fernet"] = runs
        ours, py = self.medians(runs["squirrel"]), self.medians(runs["python"])
        for op in ("encrypt", "decrypt"):
            k = f"fernet_{op}_ops_per_s"
            self.add("fernet", f"Fernet {op} ops/s (peer: Python cryptography)",
                     "bench_fernet / fernet_py.py", "ops/s", ours.get(k), py.get(k),
                     ("ratio>=", 20, ">= 20x"), "; ".join(notes) or None)

    def openssl_speed(self):
        """OpenSSL's figures for the bench_crypto names, wall-clock (-elapsed) like bench_crypto."""
        out = {}
        for k, args, pattern, scale in (
                ("rsa2048_sign_ops_per_s", ["rsa2048"], r"\+F2:\d+:2048:([\d.]+):", 1),
                ("ecdsa_p256_sign_ops_per_s", ["ecdsap256"], r"\+F4:\d+:256:([\d.]+):", 1),
                ("aes128gcm_1k_mb_per_s", ["-evp", "aes-128-gcm", "-bytes", "1024"],
                 r"\+F:\d+:AES-128-GCM:([\d.]+)", 1e-6),
                ("aes128gcm_16k_mb_per_s", ["-evp", "aes-128-gcm", "-bytes", "16384"],
                 r"\+F:\d+:AES-128-GCM:([\d.]+)", 1e-6)):
            rc, text, _, _ = run_tool(["openssl", "speed", "-elapsed", "-mr", "-seconds", "1", *args], 120,
                                      env=self.peer_env())
            m = re.search(pattern, text)
            if rc == 0 and m:
                out[k] = float(m.group(1)) * scale
        return out

    def crypto_rows(self):
        if self.args.nginx_vs_nginx:
            return
        secs = "0.5" if self.quick else "1"
        progs = []
        for bench_dir in (self.bench_bin, self.alt_bench_bin):
            prog = os.path.join(bench_dir, "bench_crypto") if bench_dir else ""
            if prog and os.access(prog, os.X_OK):
                progs.append(prog)
        if not progs:
            self.notes.append("bench_crypto not built (BENCH_BIN): no crypto rows")
            return
        runs = {p: [] for p in progs}
        runs["openssl"] = []
        for rep in range(self.inproc_reps()):
            for prog in progs:
                log(f"crypto: {prog} {rep + 1}/{self.inproc_reps()}")
                rc, out, err, _ = run_tool([prog, secs], 120)
                if rc == 0:
                    runs[prog].append(self.parse_lines(out))
                elif rep == 0:
                    self.notes.append(f"{prog} failed ({rc}): {err.strip()[:120]}")
            log(f"crypto: openssl speed {rep + 1}/{self.inproc_reps()}")
            runs["openssl"].append(self.openssl_speed())
        self.raw["crypto"] = runs
        peer = self.medians(runs["openssl"])
        for prog in progs:
            vals = self.medians(runs[prog])
            if not vals:
                continue
            word = ("wolfSSL with SP asm + AES-NI" if vals.get("wolfssl_sp_asm") == 1
                    else "wolfSSL without asm")
            for k, title, unit in (("rsa2048_sign_ops_per_s", "RSA-2048 signs/s", "ops/s"),
                                   ("ecdsa_p256_sign_ops_per_s", "ECDSA P-256 signs/s", "ops/s"),
                                   ("aes128gcm_1k_mb_per_s", "AES-128-GCM 1 KiB", "MB/s"),
                                   ("aes128gcm_16k_mb_per_s", "AES-128-GCM 16 KiB", "MB/s")):
                self.add("crypto", f"{title} [{word}] (peer: OpenSSL)", "bench_crypto / openssl speed",
                         unit, vals.get(k), peer.get(k), None)

    # -- output --
    @staticmethod
    def ratio_of(o, p):
        """squirrel / peer; for a (p50, p99) pair, a pair of ratios; None where a figure is missing."""
        if isinstance(o, (tuple, list)) or isinstance(p, (tuple, list)):
            if not o or not p:
                return None
            return tuple(a / b if a is not None and b else None for a, b in zip(o, p))
        return o / p if o is not None and p else None

    def judge(self, row):
        o, p, g = row["squirrel"], row["peer"], row["goal"]
        ratio = self.ratio_of(o, p)
        row["ratio"] = ratio
        if g is None or g[0] == "info":
            row["pass"] = None
        elif g[0] == "ratio>=":
            row["pass"] = None if ratio is None else ratio >= g[1]
        elif g[0] == "ratio<=":
            row["pass"] = None if ratio is None else ratio <= g[1]
        elif g[0] == "pair<=":
            # Limits on a (p50, p99) ratio pair; None where that percentile has no limit.
            checks = [(r, lim) for r, lim in zip(ratio or (None, None), g[1]) if lim is not None]
            row["pass"] = (None if any(r is None for r, _ in checks)
                           else all(r <= lim for r, lim in checks))
        elif g[0] == "ours<=":
            row["pass"] = None if o is None else o <= g[1]
        elif g[0] == "ours<":
            row["pass"] = None if o is None else o < g[1]

    @staticmethod
    def fmt(v, unit):
        if v is None:
            return "n/a"
        if unit == "ms2":  # (p50, p99) in ms
            return " / ".join(f"{x:.2f}" if x < 10 else f"{x:.1f}" for x in v) + " ms"
        if unit == "%":
            return f"{v * 100:.0f}%"
        if unit in ("req/s", "conn/s", "ops/s", "MB/s"):
            return f"{v:,.0f}"
        if unit == "ms":
            return f"{v:.2f} ms"
        if unit == "us":
            return f"{v:,.1f} us"
        return f"{v:.1f} {unit}"

    @staticmethod
    def fmt_ratio(ratio):
        if ratio is None:
            return "-"
        if isinstance(ratio, tuple):
            return " / ".join("-" if r is None else f"{r:.2f}x" for r in ratio)
        return f"{ratio:.2f}x"

    def markdown_head(self):
        m = self.meta
        lines = [
            f"# make bench: {m['date']}",
            "",
            f"- command: `{m['command']}` ({m['mode']} mode, {m['elapsed_s']:.0f} s)",
            f"- machine: {m['cpu']}, {m['cpus']} CPUs, Linux {m['kernel']}, load average "
            f"{m['load_start']} at start, {m['load_end']} at the end",
            f"- workers: {m['workers']} per server; pinning: {m.get('pinning', '?')}; "
            + ("squirrel programs: not used (--nginx-vs-nginx)" if self.args.nginx_vs_nginx else
               f"squirrel programs: {m['squirrel_bin']} ({self.flavor_words(self.flavor)})"
               + (f"; also {m['squirrel_bin_alt']} ({self.flavor_words(self.alt_flavor)})"
                  if self.alt_bin else "")),
            f"- peers: {m['versions'].get('nginx', '?')}, {m['versions'].get('wrk', '?')}, "
            f"{m['versions'].get('openssl', '?')}, {m['versions'].get('curl', '?')}, "
            f"{m['versions'].get('hyperfine', '?')}",
        ]
        if m.get("squirrel_extra_args"):
            lines.append(f"- squirrel-server ran with `{m['squirrel_extra_args']}` (nginx's default timeouts)")
        if m.get("tls"):
            lines.append("- TLS negotiated with Python's client: " + ", ".join(
                f"{role} {v['version']} {v['cipher']}" for role, v in sorted(m["tls"].items())))
        if self.args.peer_ia32cap:
            lines.append(f"- **the peers' OpenSSL ran with `OPENSSL_ia32cap={self.args.peer_ia32cap}`** "
                         "(nginx and `openssl speed` only; wrk and s_time unchanged): a control "
                         "run, not the comparison issue 8 asks for")
        if self.args.nginx_vs_nginx:
            lines.append("- **sanity check: the 'squirrel' column is a second nginx with the same "
                         "configuration; ratios should be close to 1.0**")
        if m.get("part_seconds"):
            lines.append("- seconds per part (servers' start-up included where they start): " + ", ".join(
                f"{k} {v:.0f}" for k, v in m["part_seconds"].items()))
        if m.get("charts"):
            lines.append(f"- charts from this run: {', '.join(m['charts'])}")
        return lines

    def handshake_table(self):
        """Row d as issue 19 tabulates it: latency under a full-handshake load, per server."""
        runs = self.raw.get("d")
        if not runs:
            return []
        lines = ["", "## Latency under handshake load (row d)", "",
                 f"wrk -t{self.args.wrk_threads} -c{WRK_CONNS} -d{self.secs}s, `Connection: close`, a full "
                 "RSA-2048 handshake per request (the shim), servers and wrk on CPUs of their own when "
                 "pinning is on, interleaved; medians of the counted runs. Latency runs from writing the "
                 "request (after the handshake) to the end of its answer. Ceiling: 1 / (one RSA-2048 "
                 "signature) of the server's own library, measured between the repetitions.", "",
                 "| server | p50 | p99 | requests/s | server CPU per request | ceiling (signs/s) | "
                 "share of ceiling |", "|---|---:|---:|---:|---:|---:|---:|"]
        ceilings = self.raw.get("d.ceiling", {})
        for name in ("nginx", "squirrel", "squirrel-alt", "squirrel-nosb"):
            if name not in runs:
                continue
            lat = self.latency_ms(runs[name])
            rps, cpu = run_median(runs[name], "rps"), run_median(runs[name], "cpu_us_per_req")
            vals = [v for v in ceilings.get("squirrel" if name == "squirrel-nosb" else name, []) if v]
            top = statistics.median(vals) * self.workers if vals else None
            lines.append(f"| {self.target_label(name)} | {self.fmt(lat and lat[0], 'ms')} | "
                         f"{self.fmt(lat and lat[1], 'ms')} | {self.fmt(rps, 'req/s')} | "
                         f"{self.fmt(cpu, 'us')} | {self.fmt(top, 'ops/s')} | "
                         f"{self.fmt(rps / top if rps and top else None, '%')} |")
        return lines

    def markdown(self):
        peer_word = "nginx (as ours)" if self.args.nginx_vs_nginx else "squirrel"
        lines = self.markdown_head()
        lines += ["", f"| metric | tool | {peer_word} | peer | ratio | goal | result |",
                  "|---|---|---:|---:|---:|---|---|"]
        for row in self.rows:
            self.judge(row)
            g = row["goal"]
            mark = {True: "PASS", False: "FAIL", None: "-" if g is None or g[0] == "info" else "n/a"}[row["pass"]]
            if self.args.peer_ia32cap and row["pass"] is not None:
                mark += " (control)"  # against a handicapped peer: not a verdict on the goal
            lines.append(f"| {row['metric']} | {row['tool']} | {self.fmt(row['squirrel'], row['unit'])} | "
                         f"{self.fmt(row['peer'], row['unit'])} | {self.fmt_ratio(row['ratio'])} | "
                         f"{g[2] if g else '-'} | {mark} |")
        lines += self.handshake_table()
        notes = [f"- {row['metric']}: {row['note']}" for row in self.rows if row["note"]] + \
                [f"- {n}" for n in self.notes]
        if notes:
            lines += ["", "Notes:", ""] + notes
        lines += ["", "Peer: nginx for the server rows, curl for the client rows, Python `cryptography` "
                  "for Fernet, OpenSSL for crypto, bench_floor for the floor rows and the same "
                  f"squirrel-server with {NO_SANDBOX} for the sandbox rows. ratio = squirrel / peer. "
                  f"Medians of {self.args.reps} interleaved runs for wrk and s_time rows. Latency: "
                  "p50 / p99 in ms, from wrk (tests/bench/latency.lua) or hyperfine's run times."]
        return "\n".join(lines) + "\n"

    def target_label(self, name):
        """What a target name stands for, in the tables and the charts."""
        v = self.meta.get("versions", {})
        if name == "nginx":
            return f"{v.get('nginx', 'nginx')} ({v.get('openssl', 'OpenSSL')})"
        if name == "floor":
            return "bench_floor (the floor)"
        if self.args.nginx_vs_nginx:
            return "nginx (as ours)"
        flavor = self.flavor_words(self.alt_flavor if name == "squirrel-alt" else self.flavor)
        return f"squirrel-server{' ' + NO_SANDBOX if name == 'squirrel-nosb' else ''} ({flavor})"

    def collect_meta(self, t0):
        m = self.meta
        m["date"] = time.strftime("%Y-%m-%d %H:%M:%S %z")
        m["command"] = " ".join(shlex.quote(a) for a in sys.argv)
        m["mode"] = "quick" if self.quick else "full"
        m["cpus"] = os.cpu_count()
        m["kernel"] = platform.release()
        m["cpu"] = "?"
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith("model name"):
                        m["cpu"] = line.split(":", 1)[1].strip()
                        break
        except OSError:
            pass
        m["squirrel_bin"] = self.bin
        m["squirrel_flavor"] = self.flavor
        if self.alt_bin:
            m["squirrel_bin_alt"] = self.alt_bin
            m["squirrel_flavor_alt"] = self.alt_flavor
        versions = {}
        for name, argv in (("nginx", ["nginx", "-v"]), ("wrk", ["wrk", "-v"]),
                           ("openssl", ["openssl", "version"]), ("curl", ["curl", "--version"]),
                           ("hyperfine", ["hyperfine", "--version"])):
            try:
                _, out, err, _ = run_tool(argv, 10)
                text = (out + err).strip().splitlines()
                words = text[0].replace("nginx version: ", "").split() if text else ["?"]
                versions[name] = " ".join(words[:2] if name != "nginx" else words[:1])
            except OSError:
                versions[name] = "missing"
        m["versions"] = versions


def main():
    ap = argparse.ArgumentParser(description="squirrel vs nginx/curl benchmark (see docs/benchmarks.md)")
    ap.add_argument("--quick", action="store_true",
                    help="shorter runs, fewer idle connections, no row s unless in --only (~2 min)")
    ap.add_argument("--only", default="", help=f"comma-separated rows: {','.join(ROWS)}")
    ap.add_argument("--workers", type=int, default=1, help="worker processes per server (default 1)")
    ap.add_argument("--wrk-threads", type=int, default=1,
                    help="wrk threads (default 1, as issue 8's figures)")
    ap.add_argument("--reps", type=int, default=REPS,
                    help=f"interleaved runs per wrk and s_time row (default {REPS}); more runs, "
                         "steadier medians on a noisy machine")
    ap.add_argument("--no-pin", action="store_true",
                    help="let the scheduler place wrk and the servers (default: CPUs of their own)")
    ap.add_argument("--out", default=os.path.join(REPO, "build", "bench-results.md"),
                    help="Markdown table (the JSON goes beside it)")
    ap.add_argument("--peer-ia32cap", default="", metavar="MASK",
                    help="OPENSSL_ia32cap for nginx and openssl speed, e.g. ':~0x200000' to turn off "
                         "OpenSSL's AVX-512 IFMA RSA, which no wolfSSL build has (a control run)")
    ap.add_argument("--nginx-vs-nginx", action="store_true",
                    help="sanity check: a second nginx (and curl) in the squirrel column")
    args = ap.parse_args()
    # --quick leaves out the s_time cross-check unless asked for: it keeps the run near 2 minutes.
    only = [x.strip() for x in args.only.split(",") if x.strip()] or \
        [r for r in ROWS if not (args.quick and r == "s")]
    unknown = [x for x in only if x not in ROWS]
    if unknown:
        ap.error(f"unknown rows {unknown}; choose from {','.join(ROWS)}")
    if args.workers < 1 or args.reps < 1 or args.wrk_threads < 1:
        ap.error("--workers, --reps and --wrk-threads take a number >= 1")
    missing = [t for t in ("nginx", "wrk", "openssl", "curl", "hyperfine", "cc") if shutil.which(t) is None]
    if missing:
        print(f"bench: missing tools: {' '.join(missing)}; run: sh .ci/deps bench", file=sys.stderr)
        return 1

    # Ctrl-C raises KeyboardInterrupt; TERM and HUP are turned into SystemExit. Either way the finally
    # clause below stops every process and removes the temporary folder.
    def on_signal(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with INT ignored
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="squirrel-bench-")
    bench = Bench(args, tmp)
    status = 0
    try:
        raise_nofile()
        bench.meta["load_start"] = "%.2f %.2f %.2f" % os.getloadavg()
        bench.make_certs()
        bench.detect_workers()
        bench.plan_pinning()
        if any(k in only for k in ("c", "d", "ec", "e")):
            bench.build_shim()
        # Peak RSS is read after the load rows and before the idle connections raise it.
        parts = [(key, lambda key=key: bench.load_row(key)) for key in LOAD_ROWS]
        parts += [("s", bench.stime_rows), ("rss", bench.peak_rss_rows), ("idle", bench.idle_rows),
                  ("client", bench.client_rows), ("fernet", bench.fernet_rows),
                  ("crypto", bench.crypto_rows)]
        for name, run in parts:
            if name == "rss" and any(k in only for k in ("a", "b", "c", "d", "e", "s")):
                run()
            elif name in only:
                t_part = time.monotonic()
                run()
                bench.meta.setdefault("part_seconds", {})[name] = round(time.monotonic() - t_part, 1)
    except KeyboardInterrupt:
        log("interrupted; stopping everything")
        status = 130
    except SystemExit as e:
        if isinstance(e.code, int) and e.code > 128:
            log(f"signal {e.code - 128}; stopping everything")
            status = e.code
        else:
            raise
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for srv in bench.servers.values():
            srv.stop()
        REAPER.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if status:
        return status

    bench.meta["load_end"] = "%.2f %.2f %.2f" % os.getloadavg()
    bench.meta["elapsed_s"] = time.monotonic() - t0
    bench.collect_meta(t0)
    bench.meta["targets"] = {n: bench.target_label(n) for n in TARGET_ORDER}
    out_md = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out_md), exist_ok=True)
    out_json = os.path.splitext(out_md)[0] + ".json"
    for row in bench.rows:
        bench.judge(row)
    with open(out_json, "w") as f:
        json.dump({"meta": bench.meta, "rows": bench.rows, "runs": bench.raw, "notes": bench.notes},
                  f, indent=1, default=str)
    charts = draw_charts(out_json)
    if charts:
        bench.meta["charts"] = [os.path.relpath(c, os.path.dirname(out_md)) for c in charts]
    text = bench.markdown()
    with open(out_md, "w") as f:
        f.write(text)
    print(text)
    print(f"bench: wrote {out_md}, {out_json}" + "".join(f", {c}" for c in charts), file=sys.stderr)
    return 0


def draw_charts(out_json):
    """tests/bench/charts.py on this run's JSON; returns the SVG files it wrote (none if it failed:
    the tables do not depend on it)."""
    t0 = time.monotonic()
    rc, out, err, _ = run_tool([sys.executable, CHARTS_PY, out_json], 120)
    if rc != 0:
        log(f"charts not drawn: {(err or out).strip().splitlines()[-1] if (err or out).strip() else rc}")
        return []
    log(f"charts drawn in {time.monotonic() - t0:.1f} s")
    return [line.strip() for line in out.splitlines() if line.strip().endswith(".svg")]


if __name__ == "__main__":
    sys.exit(main())
