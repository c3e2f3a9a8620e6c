"""squirrel-pki against real peers: the OpenSSL command line, Python's ssl module (a real TLS
handshake with VERIFY_X509_STRICT on loopback) and Python's cryptography, which both reads
what we write and writes the tutorial's own files for us to read.

Keys are made in tmp_path; mostly EC P-256, a few RSA-2048 (slow on Debian's wolfSSL).
"""
import os
import pty
import select
import signal
import socket
import ssl
import stat
import subprocess
import termios
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import WRAP, assert_no_sanitizer_report, need, preload, prog, requires, run

# Exit codes (pki/cmd.h, squirrel-pki(1)).
OK, USAGE, EXISTS, READ, WRITE, PASSWORD, INPUT, MISMATCH, VERIFY = 0, 2, 3, 4, 5, 6, 7, 8, 9

CA_PW = "secret_password"
SERVER_PW = "serverpassword"


def pki_run(*args, **kw):
    return run("squirrel-pki", *args, **kw)


def ok(*args):
    r = pki_run(*args)
    assert r.returncode == OK, f"squirrel-pki {' '.join(map(str, args))}: {r.stderr}"
    return r


def fails(code, *args):
    r = pki_run(*args)
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    # One line per problem, the program's name first, never a crash.
    lines = r.stderr.splitlines()
    assert lines and all(line.startswith("squirrel-pki: ") for line in lines), r.stderr
    return r


def pwfile(path, text):
    path.write_text(text + "\n")
    return path


def openssl(*args, check=True):
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True,
                          check=check, timeout=60)


def quiet(*args):
    """A step of the walk-through: succeeds with one line on stdout and nothing on stderr."""
    r = ok(*args)
    assert r.stderr == "" and len(r.stdout.splitlines()) == 1, (r.stdout, r.stderr)
    return r


def make_tutorial_files(d, key_type="rsa2048"):
    """The tutorial's five files, made by squirrel-pki alone (docs/pki.md)."""
    ca_pw = pwfile(d / "ca.pw", CA_PW)
    srv_pw = pwfile(d / "server.pw", SERVER_PW)
    quiet("key", "--out", d / "ca-private-key.pem", "--type", key_type, "--password-file", ca_pw)
    quiet("ca", "--key", d / "ca-private-key.pem", "--password-file", ca_pw,
          "--out", d / "ca-public-key.pem", "--country", "US", "--state", "Maryland",
          "--locality", "Baltimore", "--org", "My CA Company", "--cn", "my-ca.com")
    quiet("key", "--out", d / "server-private-key.pem", "--type", key_type,
          "--password-file", srv_pw)
    quiet("csr", "--key", d / "server-private-key.pem", "--password-file", srv_pw,
          "--out", d / "server-csr.pem", "--country", "US", "--state", "Maryland",
          "--locality", "Baltimore", "--org", "My Company", "--cn", "my-site.com",
          "--san", "localhost", "--san", "127.0.0.1", "--san", "::1", "--san", "my-site.com")
    quiet("sign", "--csr", d / "server-csr.pem", "--ca-cert", d / "ca-public-key.pem",
          "--ca-key", d / "ca-private-key.pem", "--ca-password-file", ca_pw,
          "--out", d / "server-public-key.pem")
    return d


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory):
    need("openssl")
    return make_tutorial_files(tmp_path_factory.mktemp("tutorial"))


@pytest.fixture(scope="module")
def ec_chain(tmp_path_factory):
    return make_tutorial_files(tmp_path_factory.mktemp("ec"), "ec-p256")


def handshake(ca, cert, key, password, host, strict=True):
    """Python's own TLS server and client on loopback, using our chain. Returns None when the
    client accepted the server, else the client's verify message."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(str(cert), str(key), password=password)
    client = ssl.create_default_context(cafile=str(ca))
    if strict:
        client.verify_flags |= ssl.VERIFY_X509_STRICT
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(10)

    def serve():
        try:
            conn, _ = listener.accept()
            with server.wrap_socket(conn, server_side=True) as s:
                s.recv(1)
        except (OSError, ssl.SSLError):
            pass

    t = threading.Thread(target=serve)
    t.start()
    try:
        with socket.create_connection(listener.getsockname(), timeout=10) as raw:
            with client.wrap_socket(raw, server_hostname=host) as s:
                s.send(b"x")
                return None
    except ssl.SSLCertVerificationError as e:
        return e.verify_message
    finally:
        t.join(10)
        listener.close()


# ---- the five tutorial files -----------------------------------------------------------

def test_tutorial_files_verify_with_openssl(tutorial):
    r = openssl("verify", "-CAfile", tutorial / "ca-public-key.pem",
                tutorial / "server-public-key.pem")
    assert r.stdout.strip().endswith(": OK")
    r = openssl("req", "-in", tutorial / "server-csr.pem", "-noout", "-verify")
    assert "verify OK" in (r.stdout + r.stderr)
    for key in ("ca-private-key.pem", "server-private-key.pem"):
        assert stat.S_IMODE(os.stat(tutorial / key).st_mode) == 0o600
        assert (tutorial / key).read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    for pub in ("ca-public-key.pem", "server-csr.pem", "server-public-key.pem"):
        assert stat.S_IMODE(os.stat(tutorial / pub).st_mode) == 0o644


def test_openssl_text_shows_strict_extensions(tutorial):
    ca = openssl("x509", "-in", tutorial / "ca-public-key.pem", "-noout", "-text").stdout
    assert "X509v3 Basic Constraints: critical\n                CA:TRUE" in ca
    assert "X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign" in ca
    assert "X509v3 Subject Key Identifier" in ca
    assert "Signature Algorithm: sha256WithRSAEncryption" in ca
    leaf = openssl("x509", "-in", tutorial / "server-public-key.pem", "-noout", "-text").stdout
    assert "X509v3 Basic Constraints: critical\n                CA:FALSE" in leaf
    assert "Digital Signature, Key Encipherment" in leaf
    assert "TLS Web Server Authentication" in leaf
    assert ("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:my-site.com"
            in leaf)
    assert "X509v3 Authority Key Identifier" in leaf
    assert "Issuer: C = US, ST = Maryland, L = Baltimore, O = My CA Company, CN = my-ca.com" in leaf
    assert "Subject: C = US, ST = Maryland, L = Baltimore, O = My Company, CN = my-site.com" in leaf


def test_cryptography_sees_the_same(tutorial):
    ca = x509.load_pem_x509_certificate((tutorial / "ca-public-key.pem").read_bytes())
    leaf = x509.load_pem_x509_certificate((tutorial / "server-public-key.pem").read_bytes())
    bc = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca
    ku = ca.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign
    assert not ku.value.digital_signature
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski.digest == x509.SubjectKeyIdentifier.from_public_key(ca.public_key()).digest
    assert ca.serial_number > 2**64 and ca.version == x509.Version.v3
    assert (ca.not_valid_after - ca.not_valid_before).days == 30
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    lbc = leaf.extensions.get_extension_for_class(x509.BasicConstraints)
    assert lbc.critical and not lbc.value.ca
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost", "my-site.com"]
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]
    assert leaf.issuer == ca.subject
    assert leaf.not_valid_after <= ca.not_valid_after
    # Our signatures verify under the CA key, as cryptography checks them.
    ca.public_key().verify(leaf.signature, leaf.tbs_certificate_bytes, padding.PKCS1v15(),
                           leaf.signature_hash_algorithm)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "::1", "my-site.com"])
def test_python_strict_handshake(tutorial, host):
    assert handshake(tutorial / "ca-public-key.pem", tutorial / "server-public-key.pem",
                     tutorial / "server-private-key.pem", SERVER_PW, host) is None


def test_python_strict_handshake_ec_and_wrong_host(ec_chain):
    args = (ec_chain / "ca-public-key.pem", ec_chain / "server-public-key.pem",
            ec_chain / "server-private-key.pem", SERVER_PW)
    assert handshake(*args, "localhost") is None
    assert "Hostname mismatch" in handshake(*args, "example.com")
    r = openssl("verify", "-x509_strict", "-CAfile", ec_chain / "ca-public-key.pem",
                ec_chain / "server-public-key.pem")
    assert r.stdout.strip().endswith(": OK")


def test_show_and_verify_agree_with_openssl(tutorial):
    r = ok("show", tutorial / "server-public-key.pem")
    fp = openssl("x509", "-in", tutorial / "server-public-key.pem", "-noout", "-fingerprint",
                 "-sha256").stdout.strip().split("=", 1)[1]
    assert f"SHA-256 fingerprint: {fp}\n" in r.stdout
    assert "names (SAN):   DNS:localhost, IP:127.0.0.1, IP:::1, DNS:my-site.com" in r.stdout
    assert "CA:            no (basicConstraints CA:FALSE, critical)" in r.stdout
    assert " I am my-site.com according to my-ca.com\n" in r.stdout
    leaf = x509.load_pem_x509_certificate((tutorial / "server-public-key.pem").read_bytes())
    nb = leaf.not_valid_before.strftime("%Y-%m-%d %H:%M:%S")
    na = leaf.not_valid_after.strftime("%Y-%m-%d %H:%M:%S")
    assert f"From {nb} to {na} I am my-site.com according to my-ca.com" in r.stdout
    r = ok("verify", "--ca", tutorial / "ca-public-key.pem", "--host", "localhost", "--strict",
           tutorial / "server-public-key.pem")
    assert r.stdout.startswith(f"{tutorial / 'server-public-key.pem'}: OK, strict")
    r = ok("show", tutorial / "server-csr.pem", tutorial / "server-private-key.pem")
    assert "signature:     sha256WithRSAEncryption (verifies)" in r.stdout
    assert "PBKDF2-hmacWithSHA256, 20000 iterations, AES-256-CBC" in r.stdout


# ---- our keys in other tools, and theirs in ours ---------------------------------------

def test_encrypted_keys_open_elsewhere(tutorial, ec_chain, tmp_path):
    for d in (tutorial, ec_chain):
        key = d / "server-private-key.pem"
        r = openssl("pkey", "-in", key, "-passin", f"file:{d / 'server.pw'}", "-noout",
                    "-text", check=False)
        assert r.returncode == 0, r.stderr
        r = openssl("pkey", "-in", key, "-passin", "pass:wrong", "-noout", check=False)
        assert r.returncode != 0
        data = key.read_bytes()
        k = serialization.load_pem_private_key(data, password=SERVER_PW.encode())
        # The key in the file is the key in the certificate.
        cert = x509.load_pem_x509_certificate((d / "server-public-key.pem").read_bytes())
        assert k.public_key().public_numbers() == cert.public_key().public_numbers()
        with pytest.raises(ValueError):
            serialization.load_pem_private_key(data, password=b"wrong")
        with pytest.raises(TypeError):
            serialization.load_pem_private_key(data, password=None)


def test_plain_key_and_der_inputs(tmp_path):
    ok("key", "--out", tmp_path / "k.pem", "--type", "ec-p256", "--no-password")
    text = (tmp_path / "k.pem").read_text()
    assert text.startswith("-----BEGIN PRIVATE KEY-----")
    serialization.load_pem_private_key(text.encode(), password=None)
    assert stat.S_IMODE(os.stat(tmp_path / "k.pem").st_mode) == 0o600
    # DER forms of the key and of the CSR, as openssl converts them.
    openssl("pkey", "-in", tmp_path / "k.pem", "-outform", "DER", "-out", tmp_path / "k.der")
    ok("csr", "--key", tmp_path / "k.der", "--out", tmp_path / "c.pem", "--cn", "der.test",
       "--san", "der.test")
    openssl("req", "-in", tmp_path / "c.pem", "-outform", "DER", "-out", tmp_path / "c.der")
    ok("ca", "--key", tmp_path / "k.pem", "--out", tmp_path / "ca.pem", "--cn", "DER CA")
    ok("sign", "--csr", tmp_path / "c.der", "--ca-cert", tmp_path / "ca.pem", "--ca-key",
       tmp_path / "k.der", "--out", tmp_path / "leaf.pem")
    assert "der.test" in ok("show", tmp_path / "c.der").stdout
    assert openssl("verify", "-CAfile", tmp_path / "ca.pem",
                   tmp_path / "leaf.pem").stdout.strip().endswith(": OK")


def tutorial_python_files(d, ca_extensions=False, san=True, pkcs8=False):
    """The tutorial's pki_helpers as written there: legacy encrypted RSA keys
    (TraditionalOpenSSL + BestAvailableEncryption), a CA with no extensions, a CSR."""
    fmt = (serialization.PrivateFormat.PKCS8 if pkcs8
           else serialization.PrivateFormat.TraditionalOpenSSL)

    def key(path, password):
        k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path.write_bytes(k.private_bytes(serialization.Encoding.PEM, fmt,
                                         serialization.BestAvailableEncryption(password)))
        return k

    def name(org, cn):
        return x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Maryland"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, "Baltimore"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = key(d / "ca-private-key.pem", CA_PW.encode())
    subject = name("My CA Company", "my-ca.com")
    now = time.time()
    import datetime
    start = datetime.datetime.utcfromtimestamp(now)
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
         .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=30)))
    if ca_extensions:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    (d / "ca-public-key.pem").write_bytes(
        b.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    srv_key = key(d / "server-private-key.pem", SERVER_PW.encode())
    csr = x509.CertificateSigningRequestBuilder().subject_name(name("My Company", "my-site.com"))
    if san:
        csr = csr.add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]),
                                critical=False)
    (d / "server-csr.pem").write_bytes(
        csr.sign(srv_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    pwfile(d / "ca.pw", CA_PW)
    pwfile(d / "server.pw", SERVER_PW)
    pwfile(d / "bad.pw", "not the password")
    return d


def test_tutorial_python_files_are_accepted(tmp_path):
    d = tutorial_python_files(tmp_path)
    r = ok("show", d / "ca-public-key.pem", d / "server-csr.pem", d / "server-private-key.pem")
    assert "CA:            not stated (no basicConstraints)" in r.stdout
    assert "(verifies)" in r.stdout
    assert "legacy OpenSSL PEM, AES-256-CBC; the tutorial's format" in r.stdout
    r = ok("show", "--password-file", d / "server.pw", d / "server-private-key.pem")
    assert "type:          RSA 2048" in r.stdout
    fails(PASSWORD, "show", "--password-file", d / "bad.pw", d / "server-private-key.pem")
    r = ok("sign", "--csr", d / "server-csr.pem", "--ca-cert", d / "ca-public-key.pem",
           "--ca-key", d / "ca-private-key.pem", "--ca-password-file", d / "ca.pw",
           "--out", d / "server-public-key.pem")
    # We say what OpenSSL-based clients will think of a CA that is not marked as one.
    assert "does not say CA:TRUE" in r.stderr and "invalid CA certificate" in r.stderr
    leaf = x509.load_pem_x509_certificate((d / "server-public-key.pem").read_bytes())
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    # wolfSSL (our client and server) accepts such a chain; OpenSSL calls the CA invalid.
    ok("verify", "--ca", d / "ca-public-key.pem", "--host", "localhost",
       d / "server-public-key.pem")
    r = openssl("verify", "-CAfile", d / "ca-public-key.pem", d / "server-public-key.pem",
                check=False)
    assert r.returncode != 0 and "invalid CA certificate" in (r.stdout + r.stderr)
    # --strict names each defect of that CA, as a user needs to hear before trying curl.
    r = fails(VERIFY, "verify", "--strict", "--ca", d / "ca-public-key.pem",
              d / "server-public-key.pem")
    assert "strict: CA certificate: no basicConstraints extension" in r.stderr
    assert "strict: CA certificate: no keyUsage extension" in r.stderr
    assert "strict: CA certificate: no subjectKeyIdentifier extension" in r.stderr


def test_tutorial_python_files_with_marked_ca_pass_strict(tmp_path):
    """A tutorial CA with only basicConstraints: our leaf passes Python's non-strict check;
    --strict still names what the CA lacks."""
    d = tutorial_python_files(tmp_path, ca_extensions=True, pkcs8=True)
    ok("sign", "--csr", d / "server-csr.pem", "--ca-cert", d / "ca-public-key.pem",
       "--ca-key", d / "ca-private-key.pem", "--ca-password-file", d / "ca.pw",
       "--out", d / "server-public-key.pem")
    assert handshake(d / "ca-public-key.pem", d / "server-public-key.pem",
                     d / "server-private-key.pem", SERVER_PW, "localhost", strict=False) is None
    r = fails(VERIFY, "verify", "--strict", "--ca", d / "ca-public-key.pem",
              d / "server-public-key.pem")
    assert "no keyUsage extension" in r.stderr and "no subjectKeyIdentifier" in r.stderr
    assert "basicConstraints" not in r.stderr


def test_csr_without_san_gets_its_cn(tmp_path):
    d = tutorial_python_files(tmp_path, san=False)
    r = ok("sign", "--csr", d / "server-csr.pem", "--ca-cert", d / "ca-public-key.pem",
           "--ca-key", d / "ca-private-key.pem", "--ca-password-file", d / "ca.pw",
           "--out", d / "s.pem")
    assert "has no subjectAltName; the certificate names only its CN 'my-site.com'" in r.stderr
    leaf = x509.load_pem_x509_certificate((d / "s.pem").read_bytes())
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["my-site.com"]


@pytest.mark.parametrize("cn,signs", [("My Site", False), ("my-site.com", True),
                                      ("127.0.0.1", True)])
def test_csr_without_san_warns_what_sign_will_do(tmp_path, cn, signs):
    """csr's warning about a CSR without --san tells what sign then does: use a CN that
    names a host, refuse one that does not."""
    ok("key", "--out", tmp_path / "ca.key", "--type", "ec-p256", "--no-password")
    ok("ca", "--key", tmp_path / "ca.key", "--out", tmp_path / "ca.pem", "--cn", "Warn CA")
    ok("key", "--out", tmp_path / "k.pem", "--type", "ec-p256", "--no-password")
    r = ok("csr", "--key", tmp_path / "k.pem", "--out", tmp_path / "c.csr", "--cn", cn)
    sign = pki_run("sign", "--csr", tmp_path / "c.csr", "--ca-cert", tmp_path / "ca.pem",
                   "--ca-key", tmp_path / "ca.key", "--out", tmp_path / "c.pem")
    if signs:
        assert (f"sign will put its CN '{cn}' in the certificate's subjectAltName"
                in r.stderr), r.stderr
        assert sign.returncode == OK, sign.stderr
    else:
        assert r.stderr == (f"squirrel-pki: warning: {tmp_path / 'c.csr'}: no --san given "
                            f"and the CN '{cn}' is not a host name, so sign will refuse this "
                            "CSR (make it again with --san NAME)\n")
        assert sign.returncode == INPUT
        assert f"its CN '{cn}' is not a host name" in sign.stderr


def test_legacy_key_wrong_passwords_are_refused(tmp_path):
    """wolfSSL 'decrypts' a legacy PEM key under any password; we must not."""
    k = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "legacy.pem"
    path.write_bytes(k.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.TraditionalOpenSSL,
                                     serialization.BestAvailableEncryption(b"right")))
    for i in range(20):
        fails(PASSWORD, "csr", "--key", path, "--password-file",
              pwfile(tmp_path / "pw", f"wrong{i}"), "--out", tmp_path / "x.csr", "--cn", "x")
        assert not (tmp_path / "x.csr").exists()
    ok("csr", "--key", path, "--password-file", pwfile(tmp_path / "pw", "right"),
       "--out", tmp_path / "x.csr", "--cn", "x.test", "--san", "x.test")
    csr = x509.load_pem_x509_csr((tmp_path / "x.csr").read_bytes())
    assert csr.is_signature_valid
    assert csr.public_key().public_numbers() == k.public_key().public_numbers()


# ---- files are never clobbered --------------------------------------------------------

def test_rerun_without_force_leaves_files_untouched(tutorial, tmp_path):
    d = tutorial
    steps = [
        ["key", "--out", d / "ca-private-key.pem", "--password-file", d / "ca.pw"],
        ["ca", "--key", d / "ca-private-key.pem", "--password-file", d / "ca.pw",
         "--out", d / "ca-public-key.pem", "--cn", "my-ca.com"],
        ["key", "--out", d / "server-private-key.pem", "--password-file", d / "server.pw"],
        ["csr", "--key", d / "server-private-key.pem", "--password-file", d / "server.pw",
         "--out", d / "server-csr.pem", "--cn", "my-site.com", "--san", "localhost"],
        ["sign", "--csr", d / "server-csr.pem", "--ca-cert", d / "ca-public-key.pem",
         "--ca-key", d / "ca-private-key.pem", "--ca-password-file", d / "ca.pw",
         "--out", d / "server-public-key.pem"],
    ]
    for step in steps:
        out = step[step.index("--out") + 1]
        before = (out.read_bytes(), os.stat(out).st_mtime_ns, os.stat(out).st_ino)
        r = fails(EXISTS, *step)
        assert r.stderr.strip() == (f"squirrel-pki: error: {out}: already exists, left "
                                    "untouched (use --force to replace it)")
        assert (out.read_bytes(), os.stat(out).st_mtime_ns, os.stat(out).st_ino) == before
    # --force replaces, atomically, keeping the private mode of keys.
    copy = tmp_path / "copy.pem"
    copy.write_bytes((d / "server-public-key.pem").read_bytes())
    ok("sign", "--csr", d / "server-csr.pem", "--ca-cert", d / "ca-public-key.pem",
       "--ca-key", d / "ca-private-key.pem", "--ca-password-file", d / "ca.pw",
       "--out", copy, "--force")
    assert copy.read_bytes() != (d / "server-public-key.pem").read_bytes()
    k = tmp_path / "k.pem"
    k.write_text("old")
    os.chmod(k, 0o644)
    ok("key", "--out", k, "--type", "ec-p256", "--no-password", "--force")
    assert stat.S_IMODE(os.stat(k).st_mode) == 0o600
    assert not [p for p in os.listdir(tmp_path) if ".tmp-" in p]


def test_force_never_writes_over_an_input(ec_chain, tmp_path):
    """--force replaces an old output, never a file the command reads: with --out naming its
    own --key (or CA key, CSR, CA certificate, password file), the key would be lost."""
    d = tmp_path
    for name in ("ca-private-key.pem", "ca-public-key.pem", "server-private-key.pem",
                 "server-csr.pem", "ca.pw", "server.pw"):
        (d / name).write_bytes((ec_chain / name).read_bytes())
    os.chmod(d / "ca-private-key.pem", 0o600)
    sign = ["sign", "--csr", d / "server-csr.pem", "--ca-cert", d / "ca-public-key.pem",
            "--ca-key", d / "ca-private-key.pem", "--ca-password-file", d / "ca.pw"]
    steps = [
        (["ca", "--key", d / "ca-private-key.pem", "--password-file", d / "ca.pw",
          "--cn", "my-ca.com", "--out", "./ca-private-key.pem"], "--key"),
        (["ca", "--key", d / "ca-private-key.pem", "--password-file", d / "ca.pw",
          "--cn", "my-ca.com", "--out", d / "ca.pw"], "--password-file"),
        (["csr", "--key", d / "server-private-key.pem", "--password-file", d / "server.pw",
          "--cn", "my-site.com", "--san", "localhost", "--out", d / "server-private-key.pem"],
         "--key"),
        (sign + ["--out", d / "ca-private-key.pem"], "--ca-key"),
        (sign + ["--out", d / "server-csr.pem"], "--csr"),
        (sign + ["--out", d / "ca-public-key.pem"], "--ca-cert"),
        (["key", "--type", "ec-p256", "--password-file", d / "server.pw",
          "--out", d / "server.pw"], "--password-file"),
    ]
    for step, option in steps:
        out = step[step.index("--out") + 1]
        path = d / out if isinstance(out, str) else out
        before = (path.read_bytes(), os.stat(path).st_ino, stat.S_IMODE(os.stat(path).st_mode))
        r = subprocess.run(prog("squirrel-pki") + [str(a) for a in step] + ["--force"],
                           capture_output=True, text=True, cwd=d, timeout=60)
        assert r.returncode == USAGE, (step, r.stdout, r.stderr)
        assert r.stderr.startswith(f"squirrel-pki: error: {out}: ") and option in r.stderr, \
            r.stderr
        assert r.stderr.count("\n") == 1 and r.stdout == ""
        assert (path.read_bytes(), os.stat(path).st_ino,
                stat.S_IMODE(os.stat(path).st_mode)) == before
    # A symbolic link named as --out is replaced, not what it points to: allowed.
    os.symlink(d / "ca-public-key.pem", d / "link.pem")
    ok(*sign, "--out", d / "link.pem", "--force")
    assert not os.path.islink(d / "link.pem")
    assert (d / "ca-public-key.pem").read_bytes() == (ec_chain / "ca-public-key.pem").read_bytes()


# ---- passwords ------------------------------------------------------------------------

def test_password_refused_without_terminal(tmp_path):
    """No --password-file, no --no-password, no terminal: refuse and say what to do."""
    r = subprocess.run(prog("squirrel-pki") + ["key", "--out", str(tmp_path / "k.pem")],
                       capture_output=True, text=True, start_new_session=True,
                       stdin=subprocess.DEVNULL, timeout=60)
    assert r.returncode == PASSWORD
    assert "--password-file FILE, or --no-password" in r.stderr
    assert not (tmp_path / "k.pem").exists()
    ok("key", "--out", tmp_path / "k.pem", "--type", "ec-p256", "--password-file",
       pwfile(tmp_path / "pw", "pw"))
    r = subprocess.run(prog("squirrel-pki") + ["csr", "--key", str(tmp_path / "k.pem"),
                                               "--out", str(tmp_path / "c.pem"), "--cn", "x"],
                       capture_output=True, text=True, start_new_session=True,
                       stdin=subprocess.DEVNULL, timeout=60)
    assert r.returncode == PASSWORD
    assert "no terminal to ask for its password (use --password-file FILE)" in r.stderr


def tty_session(argv, answers, timeout=60):
    """Run argv with a pseudo-terminal as its controlling terminal, answering each
    (prompt, answer) once the prompt has appeared (never earlier: a prompt flushes the
    terminal's pending input). Returns (exit code, everything the terminal showed)."""
    requires("pseudo-terminal")
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    seen, pending, mark = b"", list(answers), 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        if pending:
            prompt, answer = pending[0]
            at = seen.find(prompt.encode(), mark)
            if at >= 0:
                mark = at + len(prompt)
                pending.pop(0)
                os.write(fd, answer.encode() + b"\n")
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")


NEW_KEY = "Password for the new key: "
AGAIN = "The same password again: "


def test_password_prompt_twice_without_echo(tmp_path):
    key = tmp_path / "k.pem"
    code, shown = tty_session(prog("squirrel-pki") + ["key", "--out", str(key), "--type",
                                                      "ec-p256"],
                              [(NEW_KEY, "tty-secret-1"), (AGAIN, "tty-secret-1")])
    assert code == OK, shown
    assert "tty-secret-1" not in shown  # echo was off
    serialization.load_pem_private_key(key.read_bytes(), password=b"tty-secret-1")
    # Two different answers: nothing is written.
    code, shown = tty_session(prog("squirrel-pki") + ["key", "--out", str(tmp_path / "k2.pem")],
                              [(NEW_KEY, "one"), (AGAIN, "two")])
    assert code == PASSWORD and "the two passwords differ" in shown
    assert not (tmp_path / "k2.pem").exists()
    # Reading an encrypted key asks once, by the file's name; show never asks.
    code, shown = tty_session(prog("squirrel-pki") + ["show", str(key)], [])
    assert code == OK and "Password" not in shown
    code, shown = tty_session(prog("squirrel-pki") + ["csr", "--key", str(key), "--out",
                                                      str(tmp_path / "c.pem"), "--cn", "t"],
                              [(f"Password for {key}: ", "tty-secret-1")])
    assert code == OK, shown
    assert "tty-secret-1" not in shown


@pytest.mark.requires("pseudo-terminal")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP],
                         ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_signal_at_prompt_restores_echo(tmp_path, sig):
    """Ctrl-C (or SIGTERM, SIGHUP) at a password prompt: the terminal gets its echo back, and
    the program still dies by that signal, as OpenSSL's prompt leaves it."""
    master, slave = os.openpty()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(master)
            os.login_tty(slave)
            # Under nohup (or any parent that ignores it) SIGHUP would stay ignored, as it
            # should: the program leaves an ignored signal alone. The test wants it live.
            signal.signal(sig, signal.SIG_DFL)
            argv = prog("squirrel-pki") + ["key", "--out", str(tmp_path / "k.pem")]
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    try:
        seen = b""
        deadline = time.monotonic() + (600 if WRAP else 60)
        while NEW_KEY.encode() not in seen and time.monotonic() < deadline:
            if select.select([master], [], [], 0.5)[0]:
                seen += os.read(master, 4096)
        assert NEW_KEY.encode() in seen, seen
        assert not termios.tcgetattr(slave)[3] & termios.ECHO  # asking, echo off
        if sig == signal.SIGINT:
            os.write(master, b"\x03")  # Ctrl-C, through the terminal's line discipline
        else:
            os.kill(pid, sig)
        deadline = time.monotonic() + (60 if WRAP else 10)
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError(f"still at the prompt long after {sig.name}")
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == sig, status
        assert termios.tcgetattr(slave)[3] & termios.ECHO, "echo left off"
        assert not (tmp_path / "k.pem").exists()
    finally:
        os.close(master)
        os.close(slave)


def test_password_errors(tutorial, tmp_path):
    d = tutorial
    r = fails(PASSWORD, "ca", "--key", d / "ca-private-key.pem", "--password-file",
              pwfile(tmp_path / "bad.pw", "nope"), "--out", tmp_path / "ca.pem", "--cn", "x")
    assert f"{d / 'ca-private-key.pem'}: wrong password" in r.stderr
    assert not (tmp_path / "ca.pem").exists()
    r = fails(PASSWORD, "ca", "--key", d / "ca-private-key.pem", "--password-file",
              tmp_path / "missing.pw", "--out", tmp_path / "ca.pem", "--cn", "x")
    assert "missing.pw: cannot read the password" in r.stderr
    (tmp_path / "empty.pw").write_text("\n")
    fails(PASSWORD, "key", "--out", tmp_path / "k.pem", "--password-file", tmp_path / "empty.pw")
    # A NUL first: empty as a C string, and the CR check must not look before the buffer.
    (tmp_path / "nul.pw").write_bytes(b"\0abc\n")
    r = fails(PASSWORD, "key", "--out", tmp_path / "k.pem", "--password-file",
              tmp_path / "nul.pw")
    assert "empty" in r.stderr
    fails(USAGE, "key", "--out", tmp_path / "k.pem", "--password-file", d / "ca.pw",
          "--no-password")
    # The password file's first line is the password, as OpenSSL's file: reads it.
    (tmp_path / "two.pw").write_text("first\nsecond\n")
    ok("key", "--out", tmp_path / "k.pem", "--type", "ec-p256", "--password-file",
       tmp_path / "two.pw")
    assert openssl("pkey", "-in", tmp_path / "k.pem", "-passin", "pass:first", "-noout",
                   check=False).returncode == 0


def test_crlf_password_file_reads_as_openssl_reads_it(tmp_path):
    """OpenSSL 3's -passin file: cuts at '\\n' alone, so a '\\r' before it is part of the
    password. A key made with such a file opens in OpenSSL with the same file, and with a
    warning here, since it is rarely meant."""
    need("openssl")
    crlf = tmp_path / "crlf.pw"
    crlf.write_bytes(b"abc\r\n")
    key = tmp_path / "k.pem"
    r = ok("key", "--out", key, "--type", "ec-p256", "--password-file", crlf)
    assert r.stderr == (f"squirrel-pki: warning: {crlf}: the password ends in a carriage return "
                        "(a Windows line end); it is part of the password, as OpenSSL reads "
                        "it\n")
    assert openssl("pkey", "-in", key, "-passin", f"file:{crlf}", "-noout",
                   check=False).returncode == 0
    assert openssl("pkey", "-in", key, "-passin", "pass:abc", "-noout",
                   check=False).returncode != 0
    # Reading the key takes the same password from the same file, and not without the '\r'.
    ok("csr", "--key", key, "--password-file", crlf, "--out", tmp_path / "c.csr", "--cn",
       "x.test", "--san", "x.test")
    fails(PASSWORD, "csr", "--key", key, "--password-file", pwfile(tmp_path / "lf.pw", "abc"),
          "--out", tmp_path / "d.csr", "--cn", "x.test", "--san", "x.test")


@pytest.mark.requires("dev-full")
@pytest.mark.parametrize("sub", ["show", "verify"])
def test_show_and_verify_exit_5_when_stdout_cannot_be_written(tutorial, sub):
    """What they print is their product: lost on a full disk, it must not look like success."""
    args = [tutorial / "server-public-key.pem"]
    if sub == "verify":
        args = ["--ca", tutorial / "ca-public-key.pem"] + args
    with open("/dev/full", "w") as full:
        r = subprocess.run(prog("squirrel-pki") + [sub] + [str(a) for a in args], stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == WRITE, r.stderr
    assert r.stderr == (f"squirrel-pki: error: {sub}: cannot write to standard output: "
                        "No space left on device\n")


def test_show_exits_with_the_first_failure(tutorial, tmp_path):
    """Several files: each failure gets its line, the good ones are still shown, and the exit
    code is the first failure's, not the last one's."""
    good, missing = tutorial / "server-public-key.pem", tmp_path / "missing.pem"
    (tmp_path / "garbage.pem").write_text("not a certificate\n")
    garbage = tmp_path / "garbage.pem"
    r = fails(READ, "show", missing, garbage, good)
    assert len(r.stderr.splitlines()) == 2 and r.stdout.startswith(f"{good}: ")
    r = fails(INPUT, "show", garbage, good, missing)
    assert len(r.stderr.splitlines()) == 2 and r.stdout.startswith(f"{good}: ")


# ---- garbage in, one clear line out ---------------------------------------------------

def test_garbage_inputs(tutorial, tmp_path):
    d = tutorial
    junk = {
        "empty.pem": b"",
        "text.pem": b"hello world\n",
        "random.bin": os.urandom(512),
        "half.pem": (d / "server-public-key.pem").read_bytes()[:400],
        "badb64.pem": b"-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n",
        "wrongtype.pem": (d / "server-csr.pem").read_bytes(),
    }
    for name, data in junk.items():
        p = tmp_path / name
        p.write_bytes(data)
        for args in (["show", p],
                     ["sign", "--csr", p, "--ca-cert", d / "ca-public-key.pem", "--ca-key",
                      d / "ca-private-key.pem", "--ca-password-file", d / "ca.pw", "--out",
                      tmp_path / "o.pem"],
                     ["sign", "--csr", d / "server-csr.pem", "--ca-cert", p, "--ca-key",
                      d / "ca-private-key.pem", "--ca-password-file", d / "ca.pw", "--out",
                      tmp_path / "o.pem"],
                     ["csr", "--key", p, "--out", tmp_path / "o.pem", "--cn", "x"],
                     ["verify", "--ca", d / "ca-public-key.pem", p],
                     ["verify", "--ca", p, d / "server-public-key.pem"]):
            r = pki_run(*args)
            if name == "wrongtype.pem" and args[0] in ("show",):
                assert r.returncode == OK
                continue
            if name == "wrongtype.pem" and "--csr" in args and args[2] == p:
                assert r.returncode == OK, r.stderr
                (tmp_path / "o.pem").unlink()
                continue
            assert r.returncode in (INPUT, READ), (name, args, r.returncode, r.stderr)
            assert len(r.stderr.splitlines()) == 1, r.stderr
            assert r.stderr.startswith(f"squirrel-pki: error: {p}: "), r.stderr
            assert not (tmp_path / "o.pem").exists()
    fails(READ, "show", tmp_path / "does-not-exist.pem")


def test_tampered_csr_and_wrong_ca_key(tutorial, tmp_path):
    d = tutorial
    subprocess.run(["openssl", "req", "-in", str(d / "server-csr.pem"), "-outform", "DER",
                    "-out", str(tmp_path / "c.der")], check=True)
    der = bytearray((tmp_path / "c.der").read_bytes())
    der[-10] ^= 0x01  # inside the signature
    (tmp_path / "t.der").write_bytes(bytes(der))
    r = fails(MISMATCH, "sign", "--csr", tmp_path / "t.der", "--ca-cert", d / "ca-public-key.pem",
              "--ca-key", d / "ca-private-key.pem", "--ca-password-file", d / "ca.pw",
              "--out", tmp_path / "o.pem")
    assert "signature does not verify" in r.stderr
    r = fails(MISMATCH, "sign", "--csr", d / "server-csr.pem", "--ca-cert",
              d / "ca-public-key.pem", "--ca-key", d / "server-private-key.pem",
              "--ca-password-file", d / "server.pw", "--out", tmp_path / "o.pem")
    assert "the CA key does not belong to the CA certificate" in r.stderr
    assert not (tmp_path / "o.pem").exists()


def test_csr_requesting_an_unknown_critical_extension_is_signed(ec_chain, tmp_path):
    """A CSR may request any extension; the CA decides what the certificate carries (of the
    CSR's, only its names). wolfSSL reports a requested critical extension it does not know
    only after the CSR's signature has verified: that is no bad signature."""
    need("openssl")
    d = ec_chain
    ok("key", "--out", tmp_path / "k.pem", "--type", "ec-p256", "--no-password")
    openssl("req", "-new", "-key", tmp_path / "k.pem", "-subj", "/CN=localhost", "-addext",
            "subjectAltName=DNS:localhost", "-addext", "1.2.3.4=critical,DER:0500",
            "-outform", "DER", "-out", tmp_path / "crit.der")
    r = ok("show", tmp_path / "crit.der")
    assert "ecdsa-with-SHA256 (verifies)" in r.stdout
    sign = ["sign", "--ca-cert", d / "ca-public-key.pem", "--ca-key", d / "ca-private-key.pem",
            "--ca-password-file", d / "ca.pw"]
    ok(*sign, "--csr", tmp_path / "crit.der", "--out", tmp_path / "crit.pem")
    cert = x509.load_pem_x509_certificate((tmp_path / "crit.pem").read_bytes())
    assert x509.ObjectIdentifier("1.2.3.4") not in [e.oid for e in cert.extensions]
    assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value == \
        x509.SubjectAlternativeName([x509.DNSName("localhost")])
    openssl("verify", "-x509_strict", "-CAfile", d / "ca-public-key.pem", tmp_path / "crit.pem")
    # Altered, it is still refused.
    der = bytearray((tmp_path / "crit.der").read_bytes())
    der[der.index(b"localhost")] ^= 0x20
    (tmp_path / "t.der").write_bytes(bytes(der))
    r = fails(MISMATCH, *sign, "--csr", tmp_path / "t.der", "--out", tmp_path / "t.pem")
    assert "signature does not verify" in r.stderr


def test_usage_errors(tmp_path):
    fails(USAGE, "key")
    fails(USAGE, "key", "--out", tmp_path / "k", "--type", "dsa")
    fails(USAGE, "key", "--out", tmp_path / "k", "--bogus")
    fails(USAGE, "ca", "--out", tmp_path / "c", "--cn", "x")
    fails(USAGE, "sign", "--csr", "a", "--ca-cert", "b", "--ca-key", "c", "--out", "d",
          "--days", "-1")
    fails(USAGE, "sign", "--csr", "a", "--ca-cert", "b", "--ca-key", "c", "--out", "d",
          "--not-before", "someday")
    ok("key", "--out", tmp_path / "k.pem", "--type", "ec-p256", "--no-password")
    r = fails(USAGE, "csr", "--key", tmp_path / "k.pem", "--out", tmp_path / "c.pem",
              "--cn", "x", "--san", "not a name")
    assert "'not a name' is neither a host name" in r.stderr
    # Broken addresses are not names either: clients parse them as addresses (RFC 3696 §2:
    # no top-level domain is a number, hex with 0x included, as squirrel-client reads them
    # too). Names with digits in them are fine.
    for broken in ("256.1.1.1", "1.2.3", "1234", "a.0x1f"):
        r = fails(USAGE, "csr", "--key", tmp_path / "k.pem", "--out", tmp_path / "c.pem",
                  "--cn", "x", "--san", broken)
        assert f"'{broken}' is neither a host name" in r.stderr
    for fine in ("1e100.net", "3com.com", "a.1b"):
        ok("csr", "--key", tmp_path / "k.pem", "--out", tmp_path / "fine.csr", "--force",
           "--cn", "x", "--san", fine)
    r = fails(USAGE, "ca", "--key", tmp_path / "k.pem", "--out", tmp_path / "c.pem",
              "--cn", "x", "--country", "USA")
    assert "two-letter" in r.stderr
    for sub in ("key", "ca", "csr", "sign", "show", "verify"):
        r = pki_run(sub, "--help")
        assert r.returncode == OK and r.stdout.startswith(f"usage: squirrel-pki {sub}")


def test_an_option_of_another_subcommand_is_named(tmp_path):
    # The message names the option, whether its value follows as a word or after '=', never
    # the value ("option 'h' does not apply here" would send the user looking for '-h').
    for args in (("--host", "h"), ("--host=h",), ("--ho", "h"), ("--strict",)):
        r = fails(USAGE, "key", "--out", tmp_path / "k.pem", "--no-password", *args)
        want = "--strict" if args[0] == "--strict" else "--host"
        assert f"key: option '{want}' does not apply here" in r.stderr, r.stderr
    r = fails(USAGE, "sign", "--csr", "a", "--ca-cert", "b", "--ca-key", "c", "--out", "d",
              "--san", "foo")
    assert "sign: option '--san' does not apply here" in r.stderr, r.stderr
    assert not (tmp_path / "k.pem").exists()


# ---- dates and verify -----------------------------------------------------------------

def test_expired_and_not_yet_valid(tmp_path):
    need("openssl")
    ok("key", "--out", tmp_path / "ca.key", "--type", "ec-p256", "--no-password")
    ok("key", "--out", tmp_path / "leaf.key", "--type", "ec-p256", "--no-password")
    ok("ca", "--key", tmp_path / "ca.key", "--out", tmp_path / "ca.pem", "--cn", "Dated CA",
       "--days", "10")
    ok("csr", "--key", tmp_path / "leaf.key", "--out", tmp_path / "leaf.csr", "--cn",
       "localhost", "--san", "localhost")
    common = ["--csr", tmp_path / "leaf.csr", "--ca-cert", tmp_path / "ca.pem", "--ca-key",
              tmp_path / "ca.key"]
    ok("sign", *common, "--out", tmp_path / "expired.pem", "--not-before", "-3d", "--days", "1")
    ok("sign", *common, "--out", tmp_path / "future.pem", "--not-before", "+2d", "--days", "1")
    r = openssl("verify", "-CAfile", tmp_path / "ca.pem", tmp_path / "expired.pem", check=False)
    assert "certificate has expired" in r.stdout + r.stderr
    r = openssl("verify", "-CAfile", tmp_path / "ca.pem", tmp_path / "future.pem", check=False)
    assert "certificate is not yet valid" in r.stdout + r.stderr
    # The words the client uses, and what to do (common/tls_words.c).
    r = fails(VERIFY, "verify", "--ca", tmp_path / "ca.pem", tmp_path / "expired.pem")
    assert ("certificate verify failed: certificate has expired (issue a new one with "
            "'squirrel-pki sign')") in r.stderr
    r = fails(VERIFY, "verify", "--ca", tmp_path / "ca.pem", tmp_path / "future.pem")
    assert ("certificate verify failed: certificate is not yet valid (check the clock, or its "
            "--not-before)") in r.stderr
    assert "certificate has expired" in handshake(tmp_path / "ca.pem", tmp_path / "expired.pem",
                                                  tmp_path / "leaf.key", None, "localhost")
    # Asked for 30 days under a CA with 10 left: cut to the CA's end, and said so.
    r = ok("sign", *common, "--out", tmp_path / "clipped.pem")
    assert "validity cut to end with the CA certificate's" in r.stderr
    leaf = x509.load_pem_x509_certificate((tmp_path / "clipped.pem").read_bytes())
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.pem").read_bytes())
    assert leaf.not_valid_after == ca.not_valid_after
    # Starting after the CA's end: refused.
    r = fails(USAGE, "sign", *common, "--out", tmp_path / "never.pem", "--not-before", "+40d")
    assert "starts after the CA certificate ends" in r.stderr


def test_signing_under_an_expired_ca_says_what_to_do(tmp_path):
    """Issue 19: under a CA that has expired, sign refused with a usage error about the
    requested validity, or warned that nothing would verify, and neither said what to do."""
    ok("key", "--out", tmp_path / "ca.key", "--type", "ec-p256", "--no-password")
    ok("ca", "--key", tmp_path / "ca.key", "--out", tmp_path / "old-ca.pem", "--cn", "Old CA",
       "--not-before", "-3d", "--days", "1")
    ok("key", "--out", tmp_path / "leaf.key", "--type", "ec-p256", "--no-password")
    ok("csr", "--key", tmp_path / "leaf.key", "--out", tmp_path / "leaf.csr", "--cn", "localhost",
       "--san", "localhost")
    common = ["--csr", tmp_path / "leaf.csr", "--ca-cert", tmp_path / "old-ca.pem",
              "--ca-key", tmp_path / "ca.key"]
    r = fails(INPUT, "sign", *common, "--out", tmp_path / "never.pem")
    line = r.stderr.strip()
    assert line.startswith(f"squirrel-pki: error: {tmp_path / 'old-ca.pem'}: the CA certificate "
                           "expired on "), line
    assert "make a new one from the same key with 'squirrel-pki ca --key CAKEY'" in line
    assert not (tmp_path / "never.pem").exists()
    # Backdated inside the CA's life it is issued, with a warning that says what to do.
    r = ok("sign", *common, "--out", tmp_path / "old.pem", "--not-before", "-3d", "--days", "1")
    assert "the CA certificate is not valid now" in r.stderr
    assert f"renewed from the same key with 'squirrel-pki ca --key {tmp_path / 'ca.key'}'" in r.stderr


def test_verify_failures_use_the_clients_words(tutorial, ec_chain, tmp_path):
    r = fails(VERIFY, "verify", "--ca", ec_chain / "ca-public-key.pem",
              tutorial / "server-public-key.pem")
    assert ("certificate verify failed: unable to get local issuer certificate (is --ca the CA "
            "that issued it?)") in r.stderr
    r = fails(VERIFY, "verify", "--ca", tutorial / "ca-public-key.pem", "--host", "example.com",
              tutorial / "server-public-key.pem")
    assert ("hostname mismatch: certificate is not valid for 'example.com' (its names: "
            "DNS:localhost, IP:127.0.0.1, IP:::1, DNS:my-site.com)") in r.stderr
    # A chain file: the leaf, then its CA, verified against the CA.
    (tmp_path / "chain.pem").write_bytes((tutorial / "server-public-key.pem").read_bytes() +
                                         (tutorial / "ca-public-key.pem").read_bytes())
    ok("verify", "--ca", tutorial / "ca-public-key.pem", tmp_path / "chain.pem")


def test_verify_empty_host_is_a_usage_error(ec_chain):
    """Issue 19: --host "$HOST" with HOST unset is --host "", which checked no name at all
    and said OK."""
    d = ec_chain
    r = fails(USAGE, "verify", "--ca", d / "ca-public-key.pem", "--host", "",
              d / "server-public-key.pem")
    assert "--host is empty" in r.stderr
    ok("verify", "--ca", d / "ca-public-key.pem", "--host", "localhost",
       d / "server-public-key.pem")


def test_verify_refuses_an_anchor_that_is_no_ca(ec_chain, tmp_path):
    """Issue 19: a server's certificate (CA:FALSE) given as --ca vouched for anything signed
    with its key: wolfSSL trusts any anchor it is handed. OpenSSL refuses the chain, with
    -partial_chain or without, as curl and Python do; so does verify, and says why."""
    d = ec_chain
    (tmp_path / "f.ext").write_text("subjectAltName=DNS:bank.example\nbasicConstraints=CA:FALSE\n")
    openssl("req", "-new", "-key", d / "server-private-key.pem", "-passin",
            f"file:{d / 'server.pw'}", "-subj", "/CN=forged", "-out", tmp_path / "f.csr")
    openssl("x509", "-req", "-in", tmp_path / "f.csr", "-CA", d / "server-public-key.pem",
            "-CAkey", d / "server-private-key.pem", "-passin", f"file:{d / 'server.pw'}",
            "-set_serial", "9", "-days", "2", "-extfile", tmp_path / "f.ext",
            "-out", tmp_path / "forged.pem")
    r = fails(VERIFY, "verify", "--ca", d / "server-public-key.pem", tmp_path / "forged.pem")
    assert (f"{d / 'server-public-key.pem'}: CA certificate verify failed: invalid CA "
            "certificate (it says it is no CA") in r.stderr
    assert "give --ca the CA that issued" in r.stderr
    for extra in ([], ["-partial_chain"]):
        o = openssl("verify", *extra, "-CAfile", d / "server-public-key.pem",
                    tmp_path / "forged.pem", check=False)
        assert o.returncode != 0
    # A self-signed certificate trusted as its own anchor needs no CA, CA:FALSE or not.
    openssl("req", "-x509", "-key", d / "server-private-key.pem", "-passin",
            f"file:{d / 'server.pw'}", "-subj", "/CN=self", "-days", "2",
            "-addext", "basicConstraints=critical,CA:FALSE",
            "-addext", "subjectAltName=DNS:self.example", "-out", tmp_path / "self.pem")
    ok("verify", "--ca", tmp_path / "self.pem", tmp_path / "self.pem")
    openssl("verify", "-CAfile", tmp_path / "self.pem", tmp_path / "self.pem")


def test_verify_trusts_intermediates_only_if_they_are_cas(ec_chain, tmp_path):
    """A chain file's intermediates must say CA:TRUE (and keyCertSign): otherwise anyone with a
    server certificate could issue one for any name. Our client (wolfSSL), curl and OpenSSL
    refuse such a chain, and so does verify."""
    d = ec_chain

    def issue(name, ca_cert, ca_key, ca_pw, ext):
        ok("key", "--out", tmp_path / f"{name}.key", "--type", "ec-p256", "--no-password")
        openssl("req", "-new", "-key", tmp_path / f"{name}.key", "-subj", f"/CN={name}",
                "-out", tmp_path / f"{name}.csr")
        (tmp_path / f"{name}.ext").write_text(ext)
        openssl("x509", "-req", "-in", tmp_path / f"{name}.csr", "-CA", ca_cert, "-CAkey",
                ca_key, "-passin", f"file:{ca_pw}", "-set_serial", "7", "-days", "2",
                "-extfile", tmp_path / f"{name}.ext", "-out", tmp_path / f"{name}.pem")
        return tmp_path / f"{name}.pem"

    leaf_ext = "subjectAltName=DNS:bank.example\nbasicConstraints=CA:FALSE\n"
    # The server's certificate (CA:FALSE) signs one for another name.
    forged = issue("forged", d / "server-public-key.pem", d / "server-private-key.pem",
                   d / "server.pw", leaf_ext)
    chain = tmp_path / "forged-chain.pem"
    chain.write_bytes(forged.read_bytes() + (d / "server-public-key.pem").read_bytes())
    r = fails(VERIFY, "verify", "--ca", d / "ca-public-key.pem", "--host", "bank.example", chain)
    assert f"{chain}: certificate verify failed: invalid CA certificate" in r.stderr
    assert "lacks basicConstraints CA:TRUE" in r.stderr
    r = openssl("verify", "-CAfile", d / "ca-public-key.pem", "-untrusted",
                d / "server-public-key.pem", forged, check=False)
    assert r.returncode != 0 and "invalid CA certificate" in r.stdout + r.stderr
    # A real intermediate CA passes, as with OpenSSL.
    mid = issue("mid", d / "ca-public-key.pem", d / "ca-private-key.pem", d / "ca.pw",
                "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
    leaf = issue("leaf", mid, tmp_path / "mid.key", d / "ca.pw", leaf_ext)
    chain.write_bytes(leaf.read_bytes() + mid.read_bytes())
    ok("verify", "--ca", d / "ca-public-key.pem", "--host", "bank.example", chain)
    openssl("verify", "-CAfile", d / "ca-public-key.pem", "-untrusted", mid, leaf)
    # An intermediate that is a CA but may not sign certificates.
    mid = issue("mid2", d / "ca-public-key.pem", d / "ca-private-key.pem", d / "ca.pw",
                "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature\n")
    leaf = issue("leaf2", mid, tmp_path / "mid2.key", d / "ca.pw", leaf_ext)
    chain.write_bytes(leaf.read_bytes() + mid.read_bytes())
    r = fails(VERIFY, "verify", "--ca", d / "ca-public-key.pem", chain)
    assert "invalid CA certificate" in r.stderr


def test_client_certificate(ec_chain, tmp_path):
    d = ec_chain
    ok("key", "--out", tmp_path / "c.key", "--type", "ec-p256", "--no-password")
    ok("csr", "--key", tmp_path / "c.key", "--out", tmp_path / "c.csr", "--cn", "alice",
       "--san", "alice.example")
    ok("sign", "--csr", tmp_path / "c.csr", "--ca-cert", d / "ca-public-key.pem", "--ca-key",
       d / "ca-private-key.pem", "--ca-password-file", d / "ca.pw", "--out", tmp_path / "c.pem",
       "--client")
    assert openssl("verify", "-purpose", "sslclient", "-CAfile", d / "ca-public-key.pem",
                   tmp_path / "c.pem").stdout.strip().endswith(": OK")
    r = openssl("verify", "-purpose", "sslserver", "-CAfile", d / "ca-public-key.pem",
                tmp_path / "c.pem", check=False)
    assert r.returncode != 0


NOLINK_C = r"""
#include <errno.h>
int link(const char *a, const char *b) { (void)a; (void)b; errno = EPERM; return -1; }
int linkat(int fa, const char *a, int fb, const char *b, int f)
{ (void)fa; (void)a; (void)fb; (void)b; (void)f; errno = EPERM; return -1; }
"""


def test_files_are_saved_where_hard_links_are_not_allowed(tmp_path):
    """vfat, VirtualBox shared folders: link() fails with EPERM. Saving without --force must
    still work there, and still never replace a file that exists."""
    env = preload(tmp_path, "nolink", NOLINK_C)
    key = tmp_path / "k.pem"
    r = pki_run("key", "--out", key, "--type", "ec-p256", "--no-password", env=env)
    assert r.returncode == OK, r.stderr
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    before = key.read_bytes()
    r = pki_run("key", "--out", key, "--type", "ec-p256", "--no-password", env=env)
    assert r.returncode == EXISTS, r.stderr
    assert key.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []


# ---- a write cut short ------------------------------------------------------------------

# Stalls the program at one call for STALL_SECONDS: the fsync of the new file (while it is
# being written) or the rename that names it. The stalled call first creates $STALL_MARK, so
# the test knows when to strike. With NO_TMPFILE set, open(O_TMPFILE) fails as on filesystems
# without it (EOPNOTSUPP), forcing the named temporary file.
# With NO_EMPTY_PATH set, linkat(AT_EMPTY_PATH) fails as it does without CAP_DAC_READ_SEARCH.
STALL_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void stall(const char *call)
{
    const char *want = getenv("STALL_AT"), *mark = getenv("STALL_MARK");
    if (want == NULL || strcmp(want, call) != 0 || mark == NULL)
        return;
    close(open(mark, O_WRONLY | O_CREAT, 0600));
    for (int i = atoi(getenv("STALL_SECONDS")); i > 0; i--)
        sleep(1);
}

static int real_open(const char *name, const char *path, int flags, mode_t mode)
{
    int (*next)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, name);
    if (getenv("NO_TMPFILE") != NULL && (flags & O_TMPFILE) == O_TMPFILE) {
        errno = EOPNOTSUPP;
        return -1;
    }
    return next(path, flags, mode);
}

int open(const char *path, int flags, ...)
{
    va_list ap; mode_t mode;
    va_start(ap, flags); mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0; va_end(ap);
    return real_open("open", path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    va_list ap; mode_t mode;
    va_start(ap, flags); mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0; va_end(ap);
    return real_open("open64", path, flags, mode);
}

int fsync(int fd)
{
    int (*next)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        stall("fsync");
    return next(fd);
}

/* NO_EMPTY_PATH: as for a user without CAP_DAC_READ_SEARCH, who must link via /proc. */
int linkat(int fa, const char *a, int fb, const char *b, int flags)
{
    int (*next)(int, const char *, int, const char *, int) =
        (int (*)(int, const char *, int, const char *, int))dlsym(RTLD_NEXT, "linkat");
    if (getenv("NO_EMPTY_PATH") != NULL && (flags & AT_EMPTY_PATH)) {
        errno = ENOENT;
        return -1;
    }
    return next(fa, a, fb, b, flags);
}

int rename(const char *a, const char *b)
{
    int (*next)(const char *, const char *) =
        (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    stall("rename");
    return next(a, b);
}

int renameat2(int fa, const char *a, int fb, const char *b, unsigned flags)
{
    int (*next)(int, const char *, int, const char *, unsigned) =
        (int (*)(int, const char *, int, const char *, unsigned))dlsym(RTLD_NEXT, "renameat2");
    stall("renameat2");
    return next(fa, a, fb, b, flags);
}
"""

OLD = "old, but whole\n"


def tmpfile_supported(folder):
    try:
        os.close(os.open(folder, os.O_TMPFILE | os.O_WRONLY, 0o600))
        return True
    except OSError:
        return False


def stop_mid_write(tmp_path, stall_at, sig, force=False, no_tmpfile=False):
    """Run `key --out out/k.pem` (over an old k.pem with force), send sig while it stalls at
    stall_at; check that out/ holds no temporary file and that k.pem is absent, the old one or
    a whole new key. Returns the wait status."""
    out = tmp_path / "out"
    out.mkdir()
    key = out / "k.pem"
    if force:
        key.write_text(OLD)
    mark = tmp_path / "stalled"
    # fsync stalls until killed; a rename (which the program may hold signals off for, as it
    # is quick) only for a while, then goes on.
    env = preload(tmp_path, "stall", STALL_C, STALL_AT=stall_at, STALL_MARK=str(mark),
                  STALL_SECONDS="600" if stall_at == "fsync" else "2")
    if no_tmpfile:
        env["NO_TMPFILE"] = "1"
    argv = prog("squirrel-pki") + ["key", "--out", str(key), "--type", "ec-p256",
                                   "--no-password"] + (["--force"] if force else [])
    p = subprocess.Popen(argv, env=dict(os.environ, **env), stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, start_new_session=True,
                         preexec_fn=None if sig == signal.SIGKILL
                         else lambda: signal.signal(sig, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + (600 if WRAP else 60)
        while not mark.exists() and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert mark.exists(), f"never stalled at {stall_at}: {p.stderr.read()}"
        p.send_signal(sig)
        p.wait(timeout=600 if WRAP else 60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stderr.close()
    names = sorted(p.name for p in out.iterdir())
    assert names in ([], ["k.pem"]), names
    if names:
        text = key.read_text()
        if text != OLD:
            serialization.load_pem_private_key(text.encode(), password=None)
            assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    return p.returncode


@pytest.mark.parametrize("force", [False, True], ids=["new", "force"])
def test_killed_mid_write_leaves_no_temporary_file(tmp_path, force):
    """SIGKILL cannot be caught: the file is written unnamed (O_TMPFILE) and named only when
    whole, so there is nothing to leave behind, let alone half a private key."""
    if not tmpfile_supported(tmp_path):
        pytest.skip("O_TMPFILE not supported here")
    assert stop_mid_write(tmp_path, "fsync", signal.SIGKILL, force) == -signal.SIGKILL
    assert (tmp_path / "out" / "k.pem").exists() == force


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT],
                         ids=["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"])
@pytest.mark.parametrize("stall_at,force,no_tmpfile", [
    ("fsync", False, True), ("fsync", True, True), ("renameat2", False, True),
    ("rename", True, True), ("rename", True, False)],
    ids=["named", "named-force", "named-renaming", "named-force-renaming", "force-renaming"])
def test_signal_mid_write_leaves_no_temporary_file(tmp_path, sig, stall_at, force, no_tmpfile):
    """Where O_TMPFILE is missing the file is written under a temporary name, and --force
    gives the finished file one before renaming it over the old: Ctrl-C, kill or a closed
    terminal removes that name before the program dies by the signal."""
    if not no_tmpfile and not tmpfile_supported(tmp_path):
        pytest.skip("O_TMPFILE not supported here")
    assert stop_mid_write(tmp_path, stall_at, sig, force, no_tmpfile) == -sig


@pytest.mark.parametrize("how", ["unnamed", "unnamed-via-proc", "named"])
def test_a_file_made_mid_write_is_not_replaced(tmp_path, how):
    """Without --force, a file that appears between the early check and the naming is left
    as it is: linkat and renameat2(RENAME_NOREPLACE) never replace, and the key is not lost
    silently either (exit 3, nothing left behind)."""
    if how != "named" and not tmpfile_supported(tmp_path):
        pytest.skip("O_TMPFILE not supported here")
    key, mark = tmp_path / "k.pem", tmp_path / "stalled"
    env = preload(tmp_path, "stall", STALL_C, STALL_AT="fsync", STALL_MARK=str(mark),
                  STALL_SECONDS="2")
    env.update({"unnamed": {}, "unnamed-via-proc": {"NO_EMPTY_PATH": "1"},
                "named": {"NO_TMPFILE": "1"}}[how])
    p = subprocess.Popen(prog("squirrel-pki") + ["key", "--out", str(key), "--type", "ec-p256",
                                                 "--no-password"],
                         env=dict(os.environ, **env), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + (600 if WRAP else 60)
    while not mark.exists() and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    key.write_text("someone else's\n")
    out, err = p.communicate(timeout=600 if WRAP else 60)
    assert p.returncode == EXISTS, (out, err)
    assert err == (f"squirrel-pki: error: {key}: already exists, left untouched (use --force "
                   "to replace it)\n")
    assert key.read_text() == "someone else's\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("k.pem")) == ["k.pem"]


def test_keys_are_saved_without_cap_dac_read_search(tmp_path):
    """linkat(AT_EMPTY_PATH) is for root; anyone else names the unnamed file through /proc."""
    if not tmpfile_supported(tmp_path):
        pytest.skip("O_TMPFILE not supported here")
    env = preload(tmp_path, "stall", STALL_C, NO_EMPTY_PATH="1")
    for force in ([], ["--force"]):
        r = pki_run("key", "--out", tmp_path / "k.pem", "--type", "ec-p256", "--no-password",
                    *force, env=env)
        assert r.returncode == OK, r.stderr
    assert stat.S_IMODE(os.stat(tmp_path / "k.pem").st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("k.pem")) == ["k.pem"]


# ---- standard output that cannot be written --------------------------------------------

FULL = "cannot write to standard output: No space left on device"


def stdout_cases(d, out):
    """(name, argv, stdin) for every subcommand that prints to standard output."""
    ca = ["--ca-cert", d / "ca-public-key.pem", "--ca-key", d / "ca-private-key.pem",
          "--ca-password-file", d / "ca.pw"]
    english = "the quick brown fox jumps over the lazy dog " * 3
    return [
        ("caesar", ["caesar", "encrypt", "fluffy tail"], None),
        ("caesar", ["caesar", "decrypt"], "ekteex szhk\n" * 2000),  # fails mid-stream
        ("caesar", ["caesar", "crack", "--top", "26", english], None),
        ("caesar", ["caesar", "--help"], None),
        ("dh-demo", ["dh-demo"], None),
        ("dh-demo", ["dh-demo", "--help"], None),
        ("fernet-key", ["fernet-key"], None),
        ("show", ["show", d / "server-public-key.pem"], None),
        ("show", ["show"] + [d / "server-public-key.pem"] * 8, None),  # fails mid-way
        ("verify", ["verify", "--ca", d / "ca-public-key.pem", d / "server-public-key.pem"],
         None),
        ("key", ["key", "--out", out / "k.pem", "--type", "ec-p256", "--no-password"], None),
        ("key", ["key", "--help"], None),
        ("ca", ["ca", "--key", out / "k.pem", "--out", out / "ca.pem", "--cn", "x"], None),
        ("csr", ["csr", "--key", out / "k.pem", "--out", out / "x.csr", "--cn", "x.test",
                 "--san", "x.test"], None),
        ("sign", ["sign", "--csr", d / "server-csr.pem", *ca, "--out", out / "s.pem"], None),
    ]


def run_to(stdout, argv, stdin=None, **kw):
    r = subprocess.run(prog("squirrel-pki") + [str(a) for a in argv], stdout=stdout,
                       stderr=subprocess.PIPE, input=stdin, text=True,
                       timeout=600 if WRAP else 60, **kw)
    assert_no_sanitizer_report(r.stderr, " ".join(map(str, argv)))
    return r


@pytest.mark.requires("dev-full")
def test_every_subcommand_says_why_stdout_cannot_be_written(ec_chain, tmp_path):
    """What they print is their product or its receipt: lost on a full disk, each says so
    with the reason, in one line, and exits 5, whether the write failed mid-way or at the
    last flush. (A file they wrote is still written.)"""
    problems = []
    with open("/dev/full", "w") as full:
        for sub, argv, stdin in stdout_cases(ec_chain, tmp_path):
            r = run_to(full, argv, stdin)
            if (r.returncode, r.stderr) != (WRITE, f"squirrel-pki: error: {sub}: {FULL}\n"):
                problems.append((argv[:2], r.returncode, r.stderr))
        r = run_to(full, ["--help"])
        if (r.returncode, r.stderr) != (WRITE, f"squirrel-pki: error: {FULL}\n"):
            problems.append((["--help"], r.returncode, r.stderr))
    assert not problems, "\n".join(map(repr, problems))
    assert (tmp_path / "s.pem").exists()


def test_closed_stdout_is_a_write_failure_only_when_written(ec_chain, tmp_path):
    """With standard output closed, printing fails with EBADF; a command that prints nothing
    there (a usage error) has nothing to report about it."""
    closed = {"stdin": subprocess.DEVNULL, "close_fds": True,
              "preexec_fn": lambda: os.close(1)}
    r = subprocess.run(prog("squirrel-pki") + ["caesar", "encrypt", "x"], stdout=None,
                       stderr=subprocess.PIPE, text=True, timeout=60, **closed)
    assert (r.returncode, r.stderr) == (
        WRITE, "squirrel-pki: error: caesar: cannot write to standard output: Bad file "
        "descriptor\n")
    r = subprocess.run(prog("squirrel-pki") + ["caesar", "--shift"], stdout=None,
                       stderr=subprocess.PIPE, text=True, timeout=60, **closed)
    assert r.returncode == USAGE and "cannot write" not in r.stderr, r.stderr


def test_weak_rsa_keys_are_refused(ec_chain, tmp_path):
    # OpenSSL's default security level (2, Debian's), Python and browsers refuse RSA keys
    # under 2048 bits: a server using such a certificate fails every handshake, so sign, csr
    # and ca refuse them up front.
    d = ec_chain
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    (tmp_path / "weak.key").write_bytes(weak.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "weak.example")]))
           .add_extension(x509.SubjectAlternativeName([x509.DNSName("weak.example")]), False)
           .sign(weak, hashes.SHA256()))
    (tmp_path / "weak.csr").write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    r = fails(INPUT, "sign", "--csr", tmp_path / "weak.csr", "--ca-cert",
              d / "ca-public-key.pem", "--ca-key", d / "ca-private-key.pem",
              "--ca-password-file", d / "ca.pw", "--out", tmp_path / "weak.pem")
    assert "RSA 1024" in r.stderr and "2048" in r.stderr, r.stderr
    assert not (tmp_path / "weak.pem").exists()
    r = fails(INPUT, "csr", "--key", tmp_path / "weak.key", "--out", tmp_path / "w.csr",
              "--cn", "weak.example")
    assert "RSA 1024" in r.stderr and "2048" in r.stderr, r.stderr
    r = fails(INPUT, "ca", "--key", tmp_path / "weak.key", "--out", tmp_path / "ca.pem",
              "--cn", "Weak CA")
    assert "RSA 1024" in r.stderr and "2048" in r.stderr, r.stderr
    assert not (tmp_path / "w.csr").exists() and not (tmp_path / "ca.pem").exists()


def test_a_certificate_that_says_it_is_no_ca_cannot_sign(ec_chain, tmp_path):
    # A server's certificate (basicConstraints CA:FALSE, keyUsage without keyCertSign) as
    # --ca-cert: every verifier, wolfSSL included, refuses what it issues, so sign refuses it;
    # only the tutorial's CA, which has no extensions at all, gets a warning instead.
    d = ec_chain
    r = fails(INPUT, "sign", "--csr", d / "server-csr.pem", "--ca-cert",
              d / "server-public-key.pem", "--ca-key", d / "server-private-key.pem",
              "--ca-password-file", d / "server.pw", "--out", tmp_path / "o.pem")
    assert "CA:FALSE" in r.stderr and "squirrel-pki ca" in r.stderr, r.stderr
    assert not (tmp_path / "o.pem").exists()


# ---- what wolfSSL's own encoders and decoders would get wrong ------------------------------
# docs/architecture.md, "Hand-written DER in pki/, part by part"; tests/unit/test_pki.c runs
# wolfSSL 5.5.4's calls on the same cases (test_wolfssl_*).

def test_strict_verifiers_refuse_a_ca_without_critical_basic_constraints(ec_chain, tmp_path):
    """(a) wolfSSL's certificate encoder marks a CA's basicConstraints non-critical. OpenSSL's
    -x509_strict refuses such a CA, and verify --strict says so; ours marks it critical."""
    need("openssl")
    d = ec_chain
    ok("key", "--out", tmp_path / "ca.key", "--type", "ec-p256", "--no-password")
    openssl("req", "-x509", "-new", "-key", tmp_path / "ca.key", "-subj", "/CN=lax CA",
            "-days", "2", "-addext", "basicConstraints=CA:TRUE", "-addext",
            "keyUsage=critical,keyCertSign,cRLSign", "-out", tmp_path / "ca.pem")
    ok("sign", "--csr", d / "server-csr.pem", "--ca-cert", tmp_path / "ca.pem", "--ca-key",
       tmp_path / "ca.key", "--out", tmp_path / "leaf.pem")
    r = openssl("verify", "-x509_strict", "-CAfile", tmp_path / "ca.pem", tmp_path / "leaf.pem",
                check=False)
    assert r.returncode != 0
    assert "Basic Constraints of CA cert not marked critical" in r.stdout + r.stderr
    r = fails(VERIFY, "verify", "--strict", "--ca", tmp_path / "ca.pem", tmp_path / "leaf.pem")
    assert "strict: CA certificate: basicConstraints is not marked critical" in r.stderr
    openssl("verify", "-x509_strict", "-CAfile", d / "ca-public-key.pem",
            d / "server-public-key.pem")


def test_a_ca_name_with_zero_bytes_is_copied_exactly(ec_chain, tmp_path):
    """(a) A CA whose name holds a BMPString (0x00 bytes, as Windows CAs write): sign copies it
    byte for byte into the issuer, so the chain verifies. wolfSSL's encoder copies a raw
    issuer with strlen() and cuts it at the first 0x00."""
    need("openssl")
    (tmp_path / "req.cnf").write_text(
        "[req]\ndistinguished_name=dn\nstring_mask=default\n[dn]\n[v3]\n"
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
        "subjectKeyIdentifier=hash\n")
    ok("key", "--out", tmp_path / "ca.key", "--type", "ec-p256", "--no-password")
    openssl("req", "-x509", "-new", "-key", tmp_path / "ca.key", "-utf8", "-subj",
            "/O=Caf\u0100/CN=bmp-ca", "-config", tmp_path / "req.cnf", "-extensions", "v3",
            "-days", "2", "-out", tmp_path / "ca.pem")
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.pem").read_bytes())
    assert b"\x1e\x08\x00C\x00a\x00f\x01\x00" in ca.subject.public_bytes()
    ok("sign", "--csr", ec_chain / "server-csr.pem", "--ca-cert", tmp_path / "ca.pem",
       "--ca-key", tmp_path / "ca.key", "--out", tmp_path / "leaf.pem")
    leaf = x509.load_pem_x509_certificate((tmp_path / "leaf.pem").read_bytes())
    assert leaf.issuer.public_bytes() == ca.subject.public_bytes()
    openssl("verify", "-x509_strict", "-CAfile", tmp_path / "ca.pem", tmp_path / "leaf.pem")
    ok("verify", "--strict", "--host", "localhost", "--ca", tmp_path / "ca.pem",
       tmp_path / "leaf.pem")


def test_a_certificate_with_an_unknown_critical_extension_is_described(ec_chain, tmp_path):
    """(c) wolfSSL's decoder refuses a certificate carrying a critical extension it does not
    know, even when asked not to verify: show describes it, and verify --strict, like
    OpenSSL, names the defect."""
    need("openssl")
    d = ec_chain
    ok("key", "--out", tmp_path / "k.pem", "--type", "ec-p256", "--no-password")
    openssl("req", "-new", "-key", tmp_path / "k.pem", "-subj", "/CN=localhost",
            "-out", tmp_path / "k.csr")
    (tmp_path / "ext").write_text("subjectAltName=DNS:localhost\n1.2.3.4=critical,DER:0500\n")
    openssl("x509", "-req", "-in", tmp_path / "k.csr", "-CA", d / "ca-public-key.pem",
            "-CAkey", d / "ca-private-key.pem", "-passin", f"file:{d / 'ca.pw'}",
            "-set_serial", "9", "-days", "2", "-extfile", tmp_path / "ext",
            "-out", tmp_path / "crit.pem")
    r = ok("show", tmp_path / "crit.pem")
    assert "  names (SAN):   DNS:localhost\n" in r.stdout
    assert "  warning:       1 unknown critical extension(s)\n" in r.stdout
    r = fails(VERIFY, "verify", "--strict", "--ca", d / "ca-public-key.pem",
              tmp_path / "crit.pem")
    assert "strict: certificate: carries a critical extension verifiers do not know" in r.stderr
    r = openssl("verify", "-CAfile", d / "ca-public-key.pem", tmp_path / "crit.pem",
                check=False)
    assert r.returncode != 0 and "unhandled critical extension" in r.stdout + r.stderr


def test_old_pem_labels_are_read(ec_chain, tmp_path):
    """(e) 'X509 CERTIFICATE' and 'NEW CERTIFICATE REQUEST', the labels of older tools, which
    OpenSSL reads: wolfSSL's PEM reader knows one label per type and finds neither."""
    need("openssl")
    d = ec_chain

    def relabel(src, old, new):
        text = src.read_text().replace(f"BEGIN {old}-", f"BEGIN {new}-")
        dst = tmp_path / src.name
        dst.write_text(text.replace(f"END {old}-", f"END {new}-"))
        return dst

    ca = relabel(d / "ca-public-key.pem", "CERTIFICATE", "X509 CERTIFICATE")
    csr = relabel(d / "server-csr.pem", "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST")
    openssl("req", "-in", csr, "-noout", "-verify")
    ok("sign", "--csr", csr, "--ca-cert", ca, "--ca-key", d / "ca-private-key.pem",
       "--ca-password-file", d / "ca.pw", "--out", tmp_path / "leaf.pem")
    assert "certificate signing request\n" in ok("show", csr).stdout
    assert "certificate (X.509 v3)\n" in ok("show", ca).stdout
    ok("verify", "--strict", "--ca", ca, tmp_path / "leaf.pem")
    openssl("verify", "-x509_strict", "-CAfile", d / "ca-public-key.pem", tmp_path / "leaf.pem")
