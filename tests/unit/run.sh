#!/bin/sh
# Run the unit-test binaries named, in turn, stopping at the first that fails, and record
# every test they skip for make test's closing list.
#
#   SKIPS=FILE [WRAP='valgrind ...'] sh tests/unit/run.sh build/system/tests/test_x ...
#
# FILE gets one line per skipped test: "binary::test<TAB>reason". cmocka's skip() carries
# no reason, so a test that skips prints "SKIP: reason" (print_message) first; a skip
# without one is listed as "no reason given".
set -eu
: "${SKIPS:?name the file for the skipped tests}"
: >"$SKIPS"
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT INT TERM HUP

for t in "$@"; do
	echo "== $t"
	# cmocka writes each test's lines on stdout and the totals on stderr; kept apart and
	# shown in that order, the totals come last as on a terminal.
	rc=0
	${WRAP:-} "$t" >"$out" 2>"$err" || rc=$?
	cat "$out" "$err"
	awk -v bin="${t##*/}" '
		/^\[ RUN      \] /        { test = $4; why = "" }
		/^SKIP: /                 { why = substr($0, 7) }
		/^\[  SKIPPED \] / && $4 == test && !(test in seen) {
			seen[test] = 1
			printf "%s::%s\t%s\n", bin, test, (why == "" ? "no reason given" : why)
		}
		/^\[==========\] .* run\.$/ { exit }
	' "$out" >>"$SKIPS"
	[ "$rc" -eq 0 ] || exit "$rc"
done
