"""The key exchange, named: squirrel-client -v and the server's access log say which protocol
version, cipher suite (by its IANA name) and group a TLS session uses, and agree with what
openssl s_client says it negotiated."""
import re
import subprocess

import pytest

from conftest import free_port, need, run, wait_port


@pytest.fixture
def tls_server(start_server, pki):
    def start():
        s = start_server("--mode", "tls", "--cert", pki.server_cert, "--key", pki.server_key)
        s.https = f"https://localhost:{s.port}/"
        return s
    return start


def test_verbose_names_suite_and_group(tls_server, pki):
    s = tls_server()
    r = run("squirrel-client", "-v", "--cacert", pki.ca_cert, s.https)
    assert ("* TLS TLSv1.3, cipher TLS_AES_128_GCM_SHA256, key exchange X25519, session new "
            "(full handshake)\n") in r.stderr
    assert re.search(r'"GET /" 200 11 \d+us TLSv1\.3 TLS_AES_128_GCM_SHA256 X25519\n',
                     s.wait_log('"GET /"'))


def test_verbose_names_what_openssl_chose(procs, pki, tmp_path):
    """TLS 1.2 and P-384, chosen by openssl s_server."""
    need("openssl")
    port = free_port()
    (tmp_path / "secret.txt").write_text("fluffy tail")
    procs.start(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", pki.server_cert,
                 "-key", pki.server_key, "-WWW", "-quiet", "-tls1_2", "-groups", "P-384"],
                cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    r = run("squirrel-client", "-v", "--cacert", pki.ca_cert,
            f"https://localhost:{port}/secret.txt")
    assert ("* TLS TLSv1.2, cipher TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, key exchange "
            "secp384r1, session new (full handshake)\n") in r.stderr, r.stderr


@pytest.mark.parametrize("args,suite,group,temp_key", [
    (["-tls1_3", "-groups", "P-256"], "TLS_AES_128_GCM_SHA256", "secp256r1", "ECDH, prime256v1"),
    (["-tls1_3", "-groups", "P-384", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"],
     "TLS_CHACHA20_POLY1305_SHA256", "secp384r1", "ECDH, secp384r1"),
    (["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"],
     "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "X25519", "X25519"),
], ids=["p256", "p384-chacha", "tls12-x25519"])
def test_access_log_names_what_openssl_negotiated(tls_server, args, suite, group, temp_key):
    """openssl s_client chooses the group and suite; its own account ("Server Temp Key") and
    our access log must name the same exchange."""
    need("openssl")
    s = tls_server()
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{s.port}", "-servername",
                        "localhost", "-ign_eof", *args],
                       input=b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                       capture_output=True, timeout=20)
    assert f"Server Temp Key: {temp_key}".encode() in r.stdout, r.stdout[-1500:]
    version = "TLSv1.3" if "-tls1_3" in args else "TLSv1.2"
    assert re.search(rf'"GET /" 200 11 \d+us {version} {suite} {group}\n', s.wait_log('"GET /"'))
