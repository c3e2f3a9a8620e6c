#!/usr/bin/python3
"""Record the TLS transcripts of tests/vectors/tls/ that are not RFC 8448's.

Each transcript is one real connection: openssl s_server -WWW serving 'fluffy tail', a client
that writes its secrets to a key log (Python's ssl with SSLContext.keylog_filename, or
openssl s_client -keylogfile), and between them a recording proxy that keeps every chunk it
relays, in order, with its direction. The file holds the key log lines, then the chunks:

    keylog CLIENT_HANDSHAKE_TRAFFIC_SECRET <64 hex> <hex>
    c 160301...        bytes the client sent, as one read of the proxy
    s 160303...        bytes the server sent

The secrets are of throwaway connections to a throwaway certificate, made for these files.

    /usr/bin/python3 tests/vectors/tls/record.py [NAME...]     (default: all of them)
"""
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# name: (client, server options, client options)
CASES = {
    "tls13-aes256": ("python", ["-ciphersuites", "TLS_AES_256_GCM_SHA384"], {}),
    "tls13-chacha": ("python", ["-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"], {}),
    "tls12-aes128": ("python", ["-no_tls1_3", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"],
                     {"max": ssl.TLSVersion.TLSv1_2}),
    "tls12-aes256": ("python", ["-no_tls1_3", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"],
                     {"max": ssl.TLSVersion.TLSv1_2}),
    "tls12-chacha": ("python", ["-no_tls1_3", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"],
                     {"max": ssl.TLSVersion.TLSv1_2}),
    "tls13-keyupdate": ("s_client", ["-ciphersuites", "TLS_AES_128_GCM_SHA256"], {}),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """Accept one client, relay it to the server, keep each read as (direction, bytes)."""

    def __init__(self, upstream):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.upstream = upstream
        self.chunks = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def pump(self, src, dst, tag):
        while True:
            b = src.recv(65536)
            if not b:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            with self.lock:
                self.chunks.append((tag, b))
            dst.sendall(b)

    def run(self):
        c, _ = self.sock.accept()
        u = socket.create_connection(("127.0.0.1", self.upstream))
        t = threading.Thread(target=self.pump, args=(u, c, "s"), daemon=True)
        t.start()
        try:
            self.pump(c, u, "c")
        except OSError:
            pass
        t.join(10)
        c.close()
        u.close()


def python_client(port, cafile, keylog, opts):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.keylog_filename = keylog
    if "max" in opts:
        ctx.maximum_version = opts["max"]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(b"GET /secret.txt HTTP/1.0\r\n\r\n")
            body = b""
            while True:
                b = s.recv(4096)
                if not b:
                    break
                body += b
    return body


def s_client(port, cafile, keylog):
    """openssl s_client sends a KeyUpdate ('k' on its own line) before the request; its
    commands work only without -ign_eof, so stdin stays open until the answer came."""
    p = subprocess.Popen(["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
                          "-servername", "localhost", "-CAfile", cafile, "-keylogfile", keylog,
                          "-crlf"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    p.stdin.write(b"k\n")
    p.stdin.flush()
    time.sleep(0.5)
    p.stdin.write(b"GET /secret.txt HTTP/1.0\n\n")
    p.stdin.flush()
    time.sleep(1)
    p.stdin.close()
    out = p.stdout.read()
    p.wait(10)
    return out


def record(name, work):
    kind, server_opts, client_opts = CASES[name]
    key, cert = os.path.join(work, "key.pem"), os.path.join(work, "cert.pem")
    keylog = os.path.join(work, f"{name}.keys")
    port = free_port()
    srv = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", cert,
                            "-key", key, "-WWW", "-quiet", "-num_tickets", "1", *server_opts],
                           cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        rec = Recorder(port)
        if kind == "python":
            body = python_client(rec.port, cert, keylog, client_opts)
        else:
            body = s_client(rec.port, cert, keylog)
        rec.thread.join(10)
        assert b"fluffy tail" in body, body
    finally:
        srv.terminate()
        srv.wait(10)
    with open(keylog) as f:
        keys = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    with open(os.path.join(HERE, f"{name}.txt"), "w") as out:
        out.write(f"# {name}: recorded by record.py ({kind} client, openssl s_server "
                  f"{' '.join(server_opts)})\n")
        for k in keys:
            out.write(f"keylog {k}\n")
        for tag, b in rec.chunks:
            out.write(f"{tag} {b.hex()}\n")
    print(f"{name}: {len(rec.chunks)} chunks, {len(keys)} key log lines")


def main():
    names = sys.argv[1:] or list(CASES)
    with tempfile.TemporaryDirectory() as work:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                        os.path.join(work, "key.pem"), "-out", os.path.join(work, "cert.pem"),
                        "-days", "1", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost"],
                       check=True, capture_output=True)
        with open(os.path.join(work, "secret.txt"), "w") as f:
            f.write("fluffy tail")
        for name in names:
            record(name, work)


if __name__ == "__main__":
    main()
