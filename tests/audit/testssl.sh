#!/bin/sh
# TLS configuration audit (issue 7): Debian's testssl.sh against squirrel-server --mode tls.
#
# For each key type (AUDIT_KEYS, default "ec-p256 rsa2048": an RSA certificate is the one that
# could let static-RSA key exchange in), this script mints a CA and a localhost certificate with
# squirrel-pki in a temporary folder, starts the server on a free loopback port, runs testssl
# on protocols (-p), ciphers per protocol (-E), forward secrecy (-f), server preference (-P),
# server defaults (-S), renegotiation (-R) and the vulnerability checks (-U), and reads its
# JSON. It fails on:
#   - any HIGH or CRITICAL finding, except the certificate-lifecycle ones listed in EXCLUDED
#     below (they judge the throwaway certificate, not the server's TLS configuration);
#   - anything the issue's policy forbids: a protocol other than TLS 1.2 and 1.3, a cipher
#     suite without forward secrecy (ECDHE/DHE, or TLS 1.3) or without AEAD (GCM, CCM,
#     ChaCha20-Poly1305), the client's cipher order winning, client-initiated renegotiation.
# It prints a summary per key type and stops the server whatever happens.
#
#   SQUIRREL_BIN=/path/to/bin sh tests/audit/testssl.sh     (make audit sets SQUIRREL_BIN)
set -u

cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
BIN=${SQUIRREL_BIN:-$ROOT/bin}
KEYS=${AUDIT_KEYS:-ec-p256 rsa2048}
TESTSSL=${TESTSSL:-$(command -v testssl || command -v testssl.sh || true)}
PY=${PYTHON:-/usr/bin/python3}
# Certificate lifecycle, not TLS configuration: squirrel-pki's CA publishes no CRL or OCSP
# responder (a documented limit, docs/security.md), which testssl rates HIGH. Each exclusion is
# still printed in the summary. (The certificates are made for a year: testssl also rates the
# tutorial's 30-day default HIGH, "expires < 30 days".)
EXCLUDED="cert_revocation"

if [ -z "$TESTSSL" ]; then
	echo "audit: testssl not found; install testssl.sh (sh .ci/deps audit)" >&2
	exit 1
fi
for p in squirrel-server squirrel-pki; do
	[ -x "$BIN/$p" ] || { echo "audit: $BIN/$p not found; run make first" >&2; exit 1; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/squirrel-audit.XXXXXX")
SERVER_PID=""
cleanup() {
	if [ -n "$SERVER_PID" ]; then
		kill "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {
	"$PY" - "$1" <<'EOF'
import socket, sys, time
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF
}

pki() {
	"$BIN/squirrel-pki" "$@" >>"$TMP/pki.log" 2>&1 || {
		echo "audit: squirrel-pki $1 failed:" >&2
		cat "$TMP/pki.log" >&2
		exit 1
	}
}

status=0
for key in $KEYS; do
	d="$TMP/$key"
	mkdir -p "$d"
	pki key --out "$d/ca-key.pem" --type ec-p256 --no-password
	pki ca --key "$d/ca-key.pem" --out "$d/ca.pem" --cn "Squirrel Audit CA" --country US \
		--state Maryland --locality Baltimore --org "Secret Squirrels" --days 400
	pki key --out "$d/key.pem" --type "$key" --no-password
	pki csr --key "$d/key.pem" --out "$d/csr.pem" --cn localhost --san localhost \
		--san 127.0.0.1
	pki sign --csr "$d/csr.pem" --ca-cert "$d/ca.pem" --ca-key "$d/ca-key.pem" \
		--out "$d/cert.pem" --days 365

	port=$(free_port)
	"$BIN/squirrel-server" --mode tls --cert "$d/cert.pem" --key "$d/key.pem" \
		--listen "127.0.0.1:$port" --quiet >"$d/server.log" 2>&1 &
	SERVER_PID=$!
	if ! wait_port "$port"; then
		echo "audit: $key: the server did not start:" >&2
		cat "$d/server.log" >&2
		exit 1
	fi

	echo "audit: $key: testssl $("$TESTSSL" --version 2>/dev/null | sed -n 's/.*testssl *\([0-9][0-9.]*\).*/\1/p' | head -n 1) against https://localhost:$port/ (about 90 s)"
	t0=$(date +%s)
	# --add-ca: the chain of trust is judged against our CA, as a client given --cacert does.
	(cd "$d" && "$TESTSSL" --quiet --color 0 --warnings off --add-ca "$d/ca.pem" \
		--jsonfile "$d/testssl.json" -p -E -f -P -S -R -U --ip 127.0.0.1 \
		"https://localhost:$port/" >"$d/testssl.txt" 2>&1)
	rc=$?
	t1=$(date +%s)
	if [ "$rc" -ne 0 ] && [ ! -s "$d/testssl.json" ]; then
		echo "audit: $key: testssl failed (exit $rc):" >&2
		tail -n 30 "$d/testssl.txt" >&2
		status=1
	elif ! "$PY" - "$d/testssl.json" "$key" "$((t1 - t0))" "$EXCLUDED" <<'EOF'
import collections, json, re, sys

path, key, secs, excluded = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split()
findings = json.load(open(path))
by_id = {f["id"]: f for f in findings}
problems = []

def finding(i):
    return by_id.get(i, {}).get("finding", "(not tested)")

# Protocols: TLS 1.2 and 1.3 only.
names = {"SSLv2": "SSLv2", "SSLv3": "SSLv3", "TLS1": "TLS 1.0", "TLS1_1": "TLS 1.1",
         "TLS1_2": "TLS 1.2", "TLS1_3": "TLS 1.3"}
offered = [n for i, n in names.items() if finding(i).startswith("offered")]
for i, n in names.items():
    want = i in ("TLS1_2", "TLS1_3")
    if finding(i).startswith("offered") != want:
        problems.append(f"{n}: {finding(i)} (policy: TLS 1.2 and 1.3 only)")

# Cipher suites: forward secret and AEAD, every one.
suites = []
for f in findings:
    if not f["id"].startswith("cipher-tls"):
        continue
    cols = f["finding"].split()
    # "TLS 1.2   xc02b   ECDHE-ECDSA-AES128-GCM-SHA256   ECDH 253   AESGCM   128   TLS_ECDHE_..."
    proto, name, kx, enc, iana = " ".join(cols[:2]), cols[3], cols[4], cols[6], cols[-1]
    suites.append(f"{proto} {iana}")
    fs = proto == "TLS 1.3" or kx in ("ECDH", "DH")
    aead = enc in ("AESGCM", "ChaCha20", "AESCCM", "AESCCM8")
    if not (fs and aead):
        problems.append(f"{proto} {iana}: key exchange {kx}, encryption {enc} "
                        f"(policy: forward secret AEAD suites only)")
if not suites:
    problems.append("no cipher suites found in the testssl output")

order = finding("cipher_order")
if order != "server":
    problems.append(f"cipher order: {order} (policy: the server's preference wins)")
renego = finding("secure_client_renego")
if not renego.startswith("not vulnerable"):
    problems.append(f"client-initiated renegotiation: {renego}")

severities = collections.Counter(f["severity"] for f in findings)
for f in findings:
    if f["severity"] in ("HIGH", "CRITICAL") and f["id"] not in excluded:
        problems.append(f"{f['severity']}: {f['id']}: {f['finding']}")
skipped = [f for f in findings if f["severity"] in ("HIGH", "CRITICAL") and f["id"] in excluded]

print(f"audit: {key}: testssl ran {secs} s")
print(f"  protocols offered:     {', '.join(offered) or 'none'}")
print(f"  cipher suites:         {len(suites)}")
for s in suites:
    print(f"                         {s}")
print(f"  server cipher order:   {order}")
print(f"  TLS 1.2 order:         {finding('cipherorder_TLSv1_2')}")
print(f"  TLS 1.3 order:         {finding('cipherorder_TLSv1_3')}")
print(f"  forward secrecy:       {finding('PFS')}; curves {finding('PFS_ECDHE_curves')}")
print(f"  renegotiation:         secure (RFC 5746) {finding('secure_renego')}; "
      f"client-initiated {renego}")
print(f"  session resumption:    tickets {finding('sessionresumption_ticket')}, IDs "
      f"{finding('sessionresumption_ID')}")
print(f"  chain of trust:        {finding('cert_chain_of_trust')}")
print("  findings by severity:  " + ", ".join(
    f"{s} {severities[s]}" for s in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "WARN", "OK", "INFO")
    if severities[s]))
# common/tls_policy.c names X25519, P-256 and P-384; anything else accepted is worth a note.
curves = finding("PFS_ECDHE_curves").split()
extra = [c for c in curves if c not in ("X25519", "prime256v1", "secp384r1")]
if extra:
    print(f"  note: curves beyond the policy's X25519, P-256, P-384 accepted: {' '.join(extra)}")
for f in skipped:
    print(f"  excluded ({f['severity']}, certificate lifecycle): {f['id']}: {f['finding']}")
for p in problems:
    print(f"  FAIL: {p}")
sys.exit(1 if problems else 0)
EOF
	then
		status=1
		echo "audit: $key: see $d/testssl.txt (set AUDIT_KEEP=1 to keep it)" >&2
	fi
	kill "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=""
done

if [ "${AUDIT_KEEP:-0}" = 1 ]; then
	trap - EXIT
	echo "audit: files kept in $TMP"
fi
if [ "$status" -ne 0 ]; then
	echo "audit: FAILED" >&2
	exit 1
fi
echo "audit: no HIGH or CRITICAL finding (other than the excluded ones shown); TLS 1.2 and 1.3 only; forward-secret AEAD suites only; server order; no client-initiated renegotiation"
