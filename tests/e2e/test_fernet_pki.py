"""squirrel-pki fernet-key, caesar and dh-demo against real peers: Python cryptography's Fernet,
X25519 and HKDF recompute what our programs print, and a Python Caesar shift is the reference."""
import base64
import re
import string
import subprocess

import pytest

from conftest import prog, run

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_RE = re.compile(r"[A-Za-z0-9_-]{43}=")

PARAGRAPH = (
    "It was a bright cold day in April, and the clocks were striking thirteen. Winston Smith, "
    "his chin nuzzled into his breast in an effort to escape the vile wind, slipped quickly "
    "through the glass doors of Victory Mansions, though not quickly enough to prevent a swirl "
    "of gritty dust from entering along with him."
)


def py_shift(text, n):
    """The reference Caesar shift: letters move n places forward, case kept."""
    out = []
    for ch in text:
        if ch in string.ascii_lowercase:
            out.append(chr((ord(ch) - 97 + n) % 26 + 97))
        elif ch in string.ascii_uppercase:
            out.append(chr((ord(ch) - 65 + n) % 26 + 65))
        else:
            out.append(ch)
    return "".join(out)


# ---- fernet-key --------------------------------------------------------------------------------

def test_fernet_key_works_in_python():
    r = run("squirrel-pki", "fernet-key")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout.endswith("\n") and r.stdout.count("\n") == 1
    key = r.stdout.strip()
    assert KEY_RE.fullmatch(key), key
    assert len(base64.urlsafe_b64decode(key)) == 32
    f = Fernet(key.encode())
    assert f.decrypt(f.encrypt(b"fluffy tail")) == b"fluffy tail"
    # A token under another key does not open: the key is really used.
    other = Fernet(Fernet.generate_key())
    with pytest.raises(InvalidToken):
        f.decrypt(other.encrypt(b"fluffy tail"))


def test_fernet_key_differs_each_run():
    keys = {run("squirrel-pki", "fernet-key").stdout.strip() for _ in range(5)}
    assert len(keys) == 5
    # 160 random bytes should use much of the alphabet; a stuck RNG would not.
    assert len(set("".join(k[:43] for k in keys))) > 40


def test_fernet_key_usage():
    r = run("squirrel-pki", "fernet-key", "--help")
    assert r.returncode == 0 and "SECRET_KEY" in r.stdout
    r = run("squirrel-pki", "fernet-key", "extra")
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.startswith("squirrel-pki: error: fernet-key: unexpected argument 'extra'")


@pytest.mark.requires("dev-full")
def test_fernet_key_write_failure():
    # /dev/full refuses every write: the key must not be reported as made.
    with open("/dev/full", "w") as full:
        p = subprocess.run(prog("squirrel-pki") + ["fernet-key"], stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=30)
    assert p.returncode == 5, p.stderr
    assert "cannot write" in p.stderr


# ---- caesar ------------------------------------------------------------------------------------

def test_caesar_tutorial_pair():
    r = run("squirrel-pki", "caesar", "encrypt", "fluffy tail")
    assert (r.returncode, r.stdout) == (0, "ekteex szhk\n"), r.stderr
    r = run("squirrel-pki", "caesar", "decrypt", "ekteex szhk")
    assert (r.returncode, r.stdout) == (0, "fluffy tail\n"), r.stderr
    # Words are joined with spaces, as echo does.
    r = run("squirrel-pki", "caesar", "encrypt", "fluffy", "tail")
    assert r.stdout == "ekteex szhk\n"


def test_caesar_stdin_kept_as_is():
    text = "Fluffy tail!\nA-Z, a-z; \u00e9t\u00e9\n"
    r = run("squirrel-pki", "caesar", "encrypt", input=text)
    assert r.returncode == 0, r.stderr
    assert r.stdout == py_shift(text, -1)
    r = run("squirrel-pki", "caesar", "decrypt", input=r.stdout)
    assert r.stdout == text


@pytest.mark.parametrize("shift", [-27, -13, -1, 0, 1, 3, 12, 13, 25, 26, 51])
def test_caesar_matches_python(shift):
    text = string.ascii_letters + " 0123456789 .,;!?"
    r = run("squirrel-pki", "caesar", "encrypt", "--shift", shift, "--", text)
    assert r.returncode == 0, r.stderr
    assert r.stdout == py_shift(text, shift) + "\n"
    r = run("squirrel-pki", "caesar", "decrypt", f"--shift={shift}", "--", r.stdout[:-1])
    assert r.stdout == text + "\n"


def test_caesar_crack_finds_the_shift():
    for shift in (-1, 5, 13, -12):
        secret = py_shift(PARAGRAPH, shift)
        r = run("squirrel-pki", "caesar", "crack", input=secret)
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert lines[0].startswith("# ")
        assert lines[1].split()[:3] == ["rank", "shift", "score"]
        rows = [line.split(None, 3) for line in lines[2:]]
        assert len(rows) == 5
        assert [int(row[0]) for row in rows] == [1, 2, 3, 4, 5]
        assert int(rows[0][1]) == shift
        scores = [float(row[2]) for row in rows]
        assert scores == sorted(scores, reverse=True)
        assert rows[0][3].startswith(PARAGRAPH[:40])
    r = run("squirrel-pki", "caesar", "crack", "--top", "26", py_shift(PARAGRAPH, 3))
    assert r.returncode == 0
    shifts = [int(line.split()[1]) for line in r.stdout.splitlines()[2:]]
    assert sorted(shifts) == list(range(-12, 14))
    assert shifts[0] == 3


def test_caesar_crack_solves_the_tutorial_first():
    """The tutorial's ten letters: letter frequencies alone ranked 'fluffy tail' 4th."""
    r = run("squirrel-pki", "caesar", "crack", "ekteex szhk")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[2].split(None, 3) == ["1", "-1", "-4.01", "fluffy tail"]


def test_caesar_errors():
    r = run("squirrel-pki", "caesar", "rot13", "x")
    assert r.returncode == 2 and "not encrypt, decrypt or crack" in r.stderr
    r = run("squirrel-pki", "caesar", "encrypt", "--shift", "two", "x")
    assert r.returncode == 2 and "--shift wants a whole number" in r.stderr
    r = run("squirrel-pki", "caesar", "encrypt", "--shift")
    assert r.returncode == 2
    r = run("squirrel-pki", "caesar", "crack", "--top", "27", "x")
    assert r.returncode == 2
    r = run("squirrel-pki", "caesar", "crack", "--shift", "1", "x")
    assert r.returncode == 2
    r = run("squirrel-pki", "caesar", "crack", "1234 !!")
    assert r.returncode == 7 and "no letters" in r.stderr
    r = run("squirrel-pki", "caesar")
    assert r.returncode == 2
    r = run("squirrel-pki", "caesar", "--help")
    assert r.returncode == 0 and "crack" in r.stdout


# ---- dh-demo -----------------------------------------------------------------------------------

def dh_values(stdout):
    return dict(re.findall(r"^  ([a-z ]+):\s+(\S.*)$", stdout, re.M))


def raw_public(priv):
    return priv.public_key().public_bytes(serialization.Encoding.Raw,
                                          serialization.PublicFormat.Raw)


def test_dh_demo_checked_by_python():
    r = run("squirrel-pki", "dh-demo")
    assert r.returncode == 0, r.stderr
    v = dh_values(r.stdout)
    you = X25519PrivateKey.from_private_bytes(bytes.fromhex(v["your private key"]))
    squirrel = X25519PrivateKey.from_private_bytes(bytes.fromhex(v["squirrel private key"]))
    # Each public key is what the private key makes.
    assert raw_public(you).hex() == v["your public key"]
    assert raw_public(squirrel).hex() == v["squirrel public key"]
    # Both sides' secrets, computed by Python from what each side holds and receives.
    theirs = X25519PublicKey.from_public_bytes(bytes.fromhex(v["squirrel public key"]))
    mine = X25519PublicKey.from_public_bytes(bytes.fromhex(v["your public key"]))
    secret = you.exchange(theirs)
    assert squirrel.exchange(mine) == secret
    assert v["your shared secret"] == v["squirrel shared secret"] == secret.hex()
    assert v["secrets equal"] == "yes"
    # The Fernet key is HKDF-SHA256 of that secret.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"squirrel dh-demo fernet key").derive(secret)
    assert v["your fernet key"] == v["squirrel fernet key"] == base64.urlsafe_b64encode(key).decode()
    # The token opens in Python with the derived key, and not with another one.
    assert Fernet(v["squirrel fernet key"].encode()).decrypt(v["token"].encode()) == b"fluffy tail"
    with pytest.raises(InvalidToken):
        Fernet(Fernet.generate_key()).decrypt(v["token"].encode())
    assert v["opened with squirrel key"] == "fluffy tail"
    # The secret itself never appears where the spy looks: not the public keys, not the token.
    assert secret.hex() not in (v["your public key"], v["squirrel public key"])


def test_dh_demo_differs_each_run():
    a = dh_values(run("squirrel-pki", "dh-demo").stdout)
    b = dh_values(run("squirrel-pki", "dh-demo").stdout)
    for label in ("your private key", "squirrel private key", "your public key",
                  "your shared secret", "your fernet key", "token"):
        assert a[label] != b[label], label


def test_dh_demo_usage():
    r = run("squirrel-pki", "dh-demo", "--help")
    assert r.returncode == 0 and "X25519" in r.stdout
    r = run("squirrel-pki", "dh-demo", "now")
    assert r.returncode == 2 and "unexpected argument" in r.stderr
