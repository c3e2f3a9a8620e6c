#!/bin/sh
# Build every libFuzzer harness of tests/fuzz with clang (-fsanitize=fuzzer,address,undefined),
# replay the saved reproducers of tests/fuzz/regress/<harness>, then run each harness for
# FUZZ_SECONDS on a copy of its seed corpus and print one line per harness: executions,
# executions per second, edges covered (cov) and features (ft). Fails if any harness crashes,
# leaks, times out, breaks an invariant or fails to build.
#
#   sh tests/fuzz/run.sh [HARNESS...]       default: all of them
#
# Environment:
#   FUZZ_SECONDS  seconds per harness (default 60)
#   FUZZ_BUILD    where binaries, corpus copies, logs and crash artifacts go (default build/fuzz)
#   FUZZ_JOBS     harnesses run at once (default: the number of CPUs, at most 2); each one
#                 runs single-threaded, so figures are per core
#   FUZZ_ARGS     extra libFuzzer flags, e.g. "-only_ascii=1"
#   FUZZ_CFLAGS   extra compiler flags, e.g. -DFUZZ_SKIP_KNOWN_BUGS (see tests/fuzz/fuzz.h)
#   FUZZ_MAX_LEN  longest input (default 4096; pki 16384, tap 8192)
#   CC            clang (default clang)
#
# The committed corpus under tests/fuzz/corpus/<harness> is copied, never written to: new
# inputs found by a run stay in $FUZZ_BUILD/corpus/<harness>. A crash leaves its input in
# $FUZZ_BUILD/artifacts/<harness>/; copy it to tests/fuzz/regress/<harness>/ (every run
# replays those first) and replay it alone with
#   $FUZZ_BUILD/fuzz_<harness> tests/fuzz/regress/<harness>/FILE
set -eu

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
B=${FUZZ_BUILD:-build/fuzz}
case "$B" in /*) ;; *) B="$ROOT/$B" ;; esac
CC=${CC:-clang}
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
[ "$ncpu" -gt 2 ] && ncpu=2
FUZZ_JOBS=${FUZZ_JOBS:-$ncpu}
FUZZ_ARGS=${FUZZ_ARGS:-}

ALL="request response chunked url fernet pki tap"
WANT=${*:-$ALL}

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "fuzz: $CC not found; install clang and libclang-rt-14-dev (sh .ci/deps fuzz)" >&2
	exit 1
fi
WOLFSSL_CFLAGS=$(pkg-config --cflags wolfssl)
WOLFSSL_LIBS=$(pkg-config --libs wolfssl)

CFLAGS="-std=c11 -g -O2 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
-fno-sanitize-recover=all -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE \
-Icommon -Ipki -Iserver -Iclient -Itap -Itests/fuzz $WOLFSSL_CFLAGS"

# The sources each harness exercises: the sans-IO modules only, compiled in (not linked from
# libcommon.a), so their edges are instrumented for coverage.
srcs() {
	case "$1" in
	request | response | chunked)
		echo common/http_scan.c common/http_request.c common/http_response.c \
			common/http_chunked.c ;;
	url) echo common/url.c common/addr.c ;;
	fernet) echo common/fernet.c common/b64url.c ;;
	pki)
		for f in pki/pki_*.c; do
			[ "$f" = pki/pki_main.c ] || echo "$f"
		done
		echo common/tls_words.c common/addr.c ;;
	tap) echo tap/dissect.c tap/dissect_http.c tap/dissect_fernet.c tap/dissect_tls.c \
		tap/dissect_hello.c tap/dissect_names.c tap/dissect_crypt.c tap/sslkeys.c tap/flow.c \
		common/b64url.c common/termsafe.c common/tls_names.c ;;
	*) echo "fuzz: unknown harness '$1' (one of: $ALL)" >&2; return 1 ;;
	esac
}

# Comparison tracing (libFuzzer's trace-cmp) helps solve magic values (OIDs, key fields) but
# costs byte-at-a-time scanners most of their speed; the HTTP dictionary gives the HTTP and
# tap harnesses their tokens instead. Measured on the request harness, 15 s: about three times
# the executions and more features without it.
extra_flags() {
	case "$1" in
	request | response | chunked | tap) echo -fno-sanitize-coverage=trace-cmp ;;
	esac
}

mkdir -p "$B"
for h in $WANT; do
	s=$(srcs "$h")
	echo "fuzz: building $B/fuzz_$h"
	# shellcheck disable=SC2086,SC2046
	$CC $CFLAGS $(extra_flags "$h") ${FUZZ_CFLAGS:-} -o "$B/fuzz_$h" "tests/fuzz/fuzz_$h.c" $s $WOLFSSL_LIBS
done

# Private keys are never committed, not even for fuzzing: the key seeds of the pki harness are
# made fresh by openssl (when present) next to the committed public files.
pki_key_seeds() {
	d=$1
	command -v openssl >/dev/null 2>&1 || { echo "fuzz: openssl not found: pki runs without key seeds"; return 0; }
	(
		cd "$d" || exit 1
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key-ec.pem
		openssl pkey -in key-ec.pem -traditional -out key-ec-sec1.pem
		openssl pkey -in key-ec.pem -outform DER -out key-ec.der
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out key-ec384.pem
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out key-rsa.pem
		openssl pkey -in key-rsa.pem -traditional -out key-rsa-pkcs1.pem
		openssl pkey -in key-rsa.pem -outform DER -out key-rsa.der
		openssl genpkey -algorithm ED25519 -out key-ed25519.pem
		openssl pkcs8 -topk8 -in key-ec.pem -v2 aes-256-cbc -iter 100 -passout pass:fuzz \
			-out key-ec-pkcs8-encrypted.pem
		openssl pkey -in key-ec.pem -traditional -aes256 -passout pass:fuzz \
			-out key-ec-legacy-encrypted.pem
	) >/dev/null 2>&1 || echo "fuzz: could not make every pki key seed with openssl"
}

# Saved reproducers first: each must now pass (libFuzzer runs the files given once each).
status=0
for h in $WANT; do
	[ -d "tests/fuzz/regress/$h" ] || continue
	if "$B/fuzz_$h" -rss_limit_mb=2048 -timeout=10 tests/fuzz/regress/"$h"/* \
		>"$B/fuzz_$h.regress.log" 2>&1; then
		echo "fuzz: $h: $(find "tests/fuzz/regress/$h" -type f | wc -l) saved reproducer(s) pass"
	else
		echo "fuzz: $h: a saved reproducer fails again (log $B/fuzz_$h.regress.log)" >&2
		status=1
	fi
done

# Run one harness; its summary line goes to $B/fuzz_$h.summary, its log to $B/fuzz_$h.log.
run_one() {
	h=$1
	rm -rf "$B/corpus/$h" "$B/artifacts/$h"
	mkdir -p "$B/corpus/$h" "$B/artifacts/$h"
	if [ -d "tests/fuzz/corpus/$h" ]; then
		cp -R "tests/fuzz/corpus/$h/." "$B/corpus/$h/"
	fi
	[ "$h" = pki ] && pki_key_seeds "$B/corpus/$h"
	dict=""
	case "$h" in
	request | response | chunked | tap) dict="-dict=tests/fuzz/http.dict" ;;
	esac
	# Longest input. The HTTP harnesses run at 4 KiB for speed: executions per second fall
	# with input length, and the limits at 8 and 16 KiB are pinned by the unit tests at
	# their exact edges; FUZZ_MAX_LEN=24576 lets the fuzzer reach them too.
	case "$h" in
	request | response | chunked) maxlen="-max_len=${FUZZ_MAX_LEN:-4096}" ;;
	pki) maxlen="-max_len=${FUZZ_MAX_LEN:-16384}" ;;
	tap) maxlen="-max_len=${FUZZ_MAX_LEN:-8192}" ;;
	*) maxlen="-max_len=${FUZZ_MAX_LEN:-4096}" ;;
	esac
	rc=0
	# shellcheck disable=SC2086
	"$B/fuzz_$h" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$B/artifacts/$h/" $dict $maxlen $FUZZ_ARGS \
		"$B/corpus/$h" >"$B/fuzz_$h.log" 2>&1 || rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$B/fuzz_$h.log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$B/fuzz_$h.log" | tail -n 1)
	rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$B/fuzz_$h.log" | tail -n 1)
	last=$(grep -E '^#[0-9]+.*cov: ' "$B/fuzz_$h.log" | tail -n 1 || true)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(find "$B/corpus/$h" -type f | wc -l)
	nart=$(find "$B/artifacts/$h" -type f | wc -l)
	if [ "$rc" -eq 0 ] && [ "$nart" -eq 0 ]; then
		verdict=ok
	else
		verdict="FAILED (exit $rc, $nart artifact(s) in $B/artifacts/$h; log $B/fuzz_$h.log)"
	fi
	printf '%-9s %12s execs %9s exec/s  cov %5s  ft %6s  corpus %5s  rss %5s MB  %s\n' \
		"$h" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$corp" "${rss:-?}" \
		"$verdict" >"$B/fuzz_$h.summary"
	[ "$verdict" = ok ]
}

echo "fuzz: $FUZZ_SECONDS s per harness, $FUZZ_JOBS at a time, logs in $B"
# shellcheck disable=SC2086
set -- $WANT
while [ $# -gt 0 ]; do
	pids=""
	i=0
	while [ $# -gt 0 ] && [ "$i" -lt "$FUZZ_JOBS" ]; do
		run_one "$1" &
		pids="$pids $!"
		shift
		i=$((i + 1))
	done
	for p in $pids; do
		wait "$p" || status=1
	done
done

echo "fuzz: results (cov: edges covered, ft: coverage features, rss: peak memory)"
for h in $WANT; do
	cat "$B/fuzz_$h.summary"
done
if [ "$status" -ne 0 ]; then
	echo "fuzz: FAILED: a harness crashed, leaked or broke an invariant (see above)" >&2
	for h in $WANT; do
		grep -h -E 'ERROR: |invariant failed|SUMMARY: ' "$B/fuzz_$h.log" 2>/dev/null |
			sed "s/^/  $h: /" | head -n 5 >&2 || true
	done
	exit 1
fi
echo "fuzz: all harnesses ran without a crash, leak or broken invariant"
