"""Request bodies the server reads only to discard: a chunked body is bounded by its bytes on
the wire (SRV_MAX_BODY, 64 KiB), not by its data alone.

Before the fix only the data counted: chunk extensions, size lines and CRLFs were free, so a
client could make the server read about 68 MB per connection (65,536 chunks of one byte, each
with a 1 KiB extension), and then keep the connection alive.
"""
import socket
import time

import pytest

from conftest import fd_count, read_head, wait_for

HEAD = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def post_chunked(port, body):
    """POST a chunked body (given whole, as it goes on the wire), then GET on the same
    connection. Returns the GET's answer head, or b"" if the server closed first."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(HEAD)
        assert read_head(s).startswith(b"HTTP/1.1 405 ")
        try:
            for i in range(0, len(body), 65536):
                s.sendall(body[i:i + 65536])
            s.sendall(GET)
            return read_head(s)
        except (ConnectionResetError, BrokenPipeError):
            return b""


def extended(chunks):
    """One data byte per chunk behind a 1000-byte chunk extension (HTTP_MAX_CHUNK_LINE is
    1 KiB), then the last chunk."""
    return (b"1;" + b"a" * 1000 + b"\r\nX\r\n") * chunks + b"0\r\n\r\n"


@pytest.mark.parametrize("body,kept", [
    (extended(60), True),                                        # 60 KiB on the wire
    ((b"1000\r\n" + b"x" * 4096 + b"\r\n") * 15 + b"0\r\n\r\n", True),  # 60 KiB of data
    (extended(1000), False),                                     # 1 MB on the wire, 1,000 data bytes
    ((b"1000\r\n" + b"x" * 4096 + b"\r\n") * 16 + b"0\r\n\r\n", False),  # 64 KiB of data and framing
    ((b"1000\r\n" + b"x" * 4096 + b"\r\n") * 15 + b"0\r\n"            # 60 KiB of data
     + (b"T: " + b"t" * 1000 + b"\r\n") * 8 + b"\r\n", False),         # and 8 KiB of trailers
], ids=["ext-60k", "data-60k", "ext-1m", "data-64k", "trailers"])
def test_chunked_body_limit_counts_wire_bytes(start_server, body, kept):
    server = start_server()
    t0 = time.monotonic()
    answer = post_chunked(server.port, body)
    if kept:
        assert answer.startswith(b"HTTP/1.1 200 "), f"{len(body)} bytes on the wire refused"
    else:
        assert answer == b"", f"{len(body)} bytes of chunked body read, then {answer[:20]!r}"
        server.wait_log("closed: chunked request body too large")
    assert time.monotonic() - t0 < 10


def test_extension_flood_stops_at_the_limit(start_server):
    """The reviewer's case, bounded: 8 MB of one-byte chunks with extensions. The server
    must close after about 64 KiB, not read on."""
    server = start_server("--quiet")
    pid = server.proc.pid
    fds = fd_count(pid)
    block = (b"1;" + b"a" * 1000 + b"\r\nX\r\n") * 1000
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(HEAD)
        assert read_head(s).startswith(b"HTTP/1.1 405 ")
        try:
            while sent < 8_000_000:
                s.sendall(block)
                sent += len(block)
        except (ConnectionResetError, BrokenPipeError):
            pass
    # Socket buffers on both sides hold a few MB at most; a reader of everything gets 8 MB.
    assert sent < 8_000_000, "the server read an 8 MB chunked body of 8,000 data bytes"
    assert wait_for(lambda: fd_count(pid) <= fds, 5)
