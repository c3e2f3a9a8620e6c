"""What an eavesdropper with a packet capture sees, as the tutorial shows with Wireshark:
plain -> the secret; fernet -> a token and no secret; tls -> TLS records and no secret.
A real capture with tcpdump on loopback (root in CI); skipped, with the reason, where it
cannot capture (requires("packet-capture"))."""
import os
import signal
import socket
import struct
import subprocess
import time

import pytest
from cryptography.fernet import Fernet

from conftest import requires, run

SECRET = b"fluffy tail"


def segments(pcap_path):
    """(source port, destination port, TCP flags, payload bytes) of every packet in a classic
    pcap file (Ethernet or Linux cooked)."""
    with open(pcap_path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    link_len = {1: 14, 113: 16, 276: 20, 0: 4}.get(linktype)
    assert link_len is not None, f"unexpected link type {linktype}"
    out, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        ip = pkt[link_len:]
        if not ip:
            continue
        if ip[0] >> 4 == 4:
            ihl = (ip[0] & 15) * 4
            proto, l4 = ip[9], ip[ihl:]
        elif ip[0] >> 4 == 6:
            proto, l4 = ip[6], ip[40:]
        else:
            continue
        if proto != 6 or len(l4) < 20:
            continue
        sport, dport = struct.unpack(">HH", l4[0:4])
        out.append((sport, dport, l4[13], l4[(l4[12] >> 4) * 4:]))
    return out


def payloads(pcap_path):
    """TCP payload bytes of every packet in a classic pcap file."""
    return [data for _, _, _, data in segments(pcap_path)]


@pytest.fixture
def capture(tmp_path):
    requires("packet-capture")
    started = []

    def start(port):
        pcap = tmp_path / f"cap-{port}.pcap"
        p = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "--immediate-mode", "-s", "0", "-w", str(pcap),
                              f"tcp port {port}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 10
        line = ""
        while time.monotonic() < deadline:
            line = p.stderr.readline()
            if "listening on" in line or not line:
                break
        if "listening on" not in line:
            p.kill()
            err = line + p.stderr.read()
            raise AssertionError(f"tcpdump did not start: {err}")
        started.append(p)
        return p, pcap

    def stop(p):
        time.sleep(0.2)
        p.send_signal(signal.SIGINT)
        p.wait(timeout=10)

    yield start, stop
    for p in started:
        if p.poll() is None:
            p.kill()


def test_plain_secret_is_on_the_wire(start_server, capture):
    start, stop = capture
    s = start_server()
    p, pcap = start(s.port)
    assert run("squirrel-client", "--raw", s.url).stdout == SECRET.decode()
    stop(p)
    wire = b"".join(payloads(pcap))
    assert b"GET / HTTP/1.1" in wire
    assert SECRET in wire


def test_fernet_shows_only_a_token(start_server, capture):
    start, stop = capture
    key = Fernet.generate_key().decode()
    s = start_server("--mode", "fernet", env={"SECRET_KEY": key})
    p, pcap = start(s.port)
    assert run("squirrel-client", "--raw", s.url, env={"SECRET_KEY": key}).stdout == SECRET.decode()
    stop(p)
    wire = b"".join(payloads(pcap))
    assert SECRET not in wire
    assert b"gAAAAA" in wire


def test_tls_shows_only_records(start_server, capture, pki):
    start, stop = capture
    s = start_server("--mode", "tls", "--cert", pki.server_cert, "--key", pki.server_key)
    p, pcap = start(s.port)
    r = run("squirrel-client", "--raw", "--cacert", pki.ca_cert, f"https://localhost:{s.port}/")
    assert r.stdout == SECRET.decode(), r.stderr
    stop(p)
    segs = [x for x in payloads(pcap) if x]
    wire = b"".join(segs)
    assert SECRET not in wire and b"HTTP/1.1" not in wire
    # Every payload-carrying segment of the conversation starts TLS records: handshake (22) then
    # application data (23), version 0x0303 on the wire.
    assert any(x[:3] == b"\x16\x03\x01" or x[:3] == b"\x16\x03\x03" for x in segs)
    assert any(x[:3] == b"\x17\x03\x03" for x in segs)


TCP_FIN = 0x01


def one_shot_answers(start_server, capture, n):
    """n curl requests with Connection: close, each on its own connection, under capture.
    Returns, per connection, the server's segments to it in order: (TCP flags, payload)."""
    start, stop = capture
    s = start_server()
    p, pcap = start(s.port)
    for _ in range(n):
        r = subprocess.run(["curl", "-sS", "-H", "Connection: close", s.url], capture_output=True,
                           text=True, timeout=20)
        assert r.stdout == SECRET.decode(), r.stderr
    stop(p)
    segs = segments(pcap)
    # curl's connections (the port probe that start_server made may show up too).
    clients = [dport for sport, dport, _, data in segs if sport == s.port and SECRET in data]
    assert len(clients) == n, segs
    return [[(flags, data) for sport, dport, flags, data in segs if sport == s.port and dport == c]
            for c in clients]


def test_closing_answer_carries_the_fin(start_server, capture):
    """A Connection: close answer and the server's FIN travel in one segment (MSG_MORE before
    the close): one packet fewer for both ends of a connection-per-request client."""
    (ours,) = one_shot_answers(start_server, capture, 1)
    answer = [flags for flags, data in ours if SECRET in data]
    assert len(answer) == 1 and answer[0] & TCP_FIN, ours
    # No second FIN on its own.
    assert sum(1 for flags, _ in ours if flags & TCP_FIN) == 1, ours


TCP_ACK = 0x10


def kernel_inherits_quickack_off():
    """Whether a socket accepted from a listener with TCP_QUICKACK 0 starts out of quick-ACK
    mode (Linux 6.18 here: yes). The server relies on that; where the kernel does not do it,
    the server works as before and this saving is simply absent."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 0)
        with socket.create_connection(listener.getsockname(), timeout=5):
            accepted, _ = listener.accept()
            with accepted:
                return accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK) == 0


def test_request_gets_no_bare_ack(start_server, capture):
    """The listener turns quick-ACK mode off, and accepted sockets inherit that: a new
    connection's first request is acknowledged by the answer that follows it, not by a bare
    ACK of its own. (Seen without it: one such ACK on every connection, always.) A server
    slower than the delayed-ACK timer (40 ms) still sends one, so a few may show on a busy
    machine; the old behaviour shows on all of them."""
    if not kernel_inherits_quickack_off():
        pytest.skip(f"kernel {os.uname().release} does not pass TCP_QUICKACK 0 from a listener "
                    "to accepted sockets: nothing to test")
    acked_bare = 0
    for ours in one_shot_answers(start_server, capture, 5):
        answer = next(i for i, (_, data) in enumerate(ours) if SECRET in data)
        acked_bare += any(flags == TCP_ACK and not data for flags, data in ours[:answer])
    assert acked_bare <= 2, f"{acked_bare} of 5 requests got a bare ACK before their answer"
