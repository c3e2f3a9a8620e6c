#!/usr/bin/python3
"""Python cryptography's Fernet, measured as tests/bench/bench_fernet.c measures ours: encrypt
and decrypt operations per second for b"fluffy tail", in one process, same output lines:

  fernet_encrypt_ops_per_s N
  fernet_decrypt_ops_per_s N

Run with /usr/bin/python3 (Debian's python3-cryptography). --quick: 0.5 s per operation, else 2 s.
"""
import sys
import time

from cryptography.fernet import Fernet

MSG = b"fluffy tail"
BATCH = 64  # read the clock once per this many operations


def measure(op, seconds):
    ops = 0
    start = time.perf_counter()
    while True:
        for _ in range(BATCH):
            op()
        ops += BATCH
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return ops / elapsed


def main(argv):
    if argv not in ([], ["--quick"]):
        print("usage: fernet_py.py [--quick]", file=sys.stderr)
        return 2
    seconds = 0.5 if argv else 2.0
    f = Fernet(Fernet.generate_key())
    token = f.encrypt(MSG)
    if f.decrypt(token) != MSG:
        print("fernet_py.py: round trip failed", file=sys.stderr)
        return 1
    # encrypt() draws a random IV and reads the clock; decrypt(token) checks no TTL.
    print(f"fernet_encrypt_ops_per_s {measure(lambda: f.encrypt(MSG), seconds):.0f}", flush=True)
    print(f"fernet_decrypt_ops_per_s {measure(lambda: f.decrypt(token), seconds):.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
