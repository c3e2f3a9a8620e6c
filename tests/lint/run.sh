#!/bin/sh
# Static analysis of common/ server/ client/ pki/ with the project's defines:
#   1. cppcheck --enable=warning,performance,portability (any finding fails);
#   2. clang-tidy with tests/lint/clang-tidy.yaml (bugprone, cert, clang-analyzer; every
#      warning is an error);
#   3. every inline suppression (cppcheck-suppress, NOLINT) names what it silences and why;
#   4. pyflakes on the Python under tests/ (unused imports and variables, undefined names);
#   5. every tracked C file is formatted as the root .clang-format says (clang-format
#      --dry-run; `git ls-files '*.[ch]' | xargs clang-format -i` fixes it).
#
#   sh tests/lint/run.sh
#
# Environment: LINT_JOBS (parallel clang-tidy processes, default: the CPUs), LINT_LOG (the
# full clang-tidy output, default build/lint/clang-tidy.log).
set -u

cd "$(dirname "$0")/../.." || exit 1
DIRS="common server client pki tap"
DEFS="-D_GNU_SOURCE -Icommon -Ipki -Iserver -Iclient -Itap"
JOBS=${LINT_JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)}
LOG=${LINT_LOG:-build/lint/clang-tidy.log}
status=0

for tool in cppcheck clang-tidy clang-format pkg-config; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "lint: $tool not found; install cppcheck, clang-tidy and clang-format (sh .ci/deps lint)" >&2
		exit 1
	fi
done
mkdir -p "$(dirname "$LOG")"

# ---- 1. cppcheck ------------------------------------------------------------------------
echo "lint: cppcheck $(cppcheck --version | sed 's/^Cppcheck //') on $DIRS"
# shellcheck disable=SC2086
if cppcheck --enable=warning,performance,portability --error-exitcode=1 --inline-suppr \
	--std=c11 --library=posix $DEFS --quiet -j "$JOBS" \
	--template='{file}:{line}:{column}: {severity}: {message} [{id}]' $DIRS; then
	echo "lint: cppcheck: no findings"
else
	echo "lint: cppcheck: FAILED (findings above)" >&2
	status=1
fi

# ---- 2. clang-tidy ----------------------------------------------------------------------
files=$(ls common/*.c server/*.c client/*.c pki/*.c tap/*.c)
nfiles=$(echo "$files" | wc -l)
echo "lint: clang-tidy $(clang-tidy --version | sed -n 's/.*LLVM version \([0-9.]*\).*/\1/p') on $nfiles files, $JOBS at a time"
# shellcheck disable=SC2086,SC2046
echo "$files" | xargs -P "$JOBS" -I{} clang-tidy --quiet --config-file=tests/lint/clang-tidy.yaml \
	{} -- -std=c11 $DEFS $(pkg-config --cflags wolfssl) >"$LOG" 2>&1
tidy_rc=$?
findings=$(grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$LOG" | sort -u)
if [ "$tidy_rc" -eq 0 ] && [ -z "$findings" ]; then
	echo "lint: clang-tidy: no findings"
else
	echo "$findings" | sed "s|^$(pwd)/||"
	n=$(printf '%s\n' "$findings" | grep -c . || true)
	echo "lint: clang-tidy: FAILED ($n findings; the reasoning of each is in $LOG)" >&2
	printf '%s\n' "$findings" | sed -n 's/.*\[\([A-Za-z0-9.,-]*\)\]$/\1/p' | sed 's/,-warnings-as-errors//' |
		sort | uniq -c | sort -rn | sed 's/^/    /' >&2
	status=1
fi

# ---- 3. suppressions ----------------------------------------------------------------------
# An inline suppression must name the check and give a reason on the same line:
#   /* cppcheck-suppress knownConditionTrueFalse ; the table is filled at build time */
#   x = y; // NOLINT(bugprone-foo): why this is right
# shellcheck disable=SC2086
bad=$(grep -rnE 'cppcheck-suppress|NOLINT' $DIRS --include='*.c' --include='*.h' |
	grep -vE 'cppcheck-suppress[[:space:]]+[A-Za-z0-9_]+[[:space:]]*[;:-][[:space:]]*[[:alpha:]]+[[:space:]]+[[:alpha:]]+' |
	grep -vE 'NOLINT(NEXTLINE)?\([a-z0-9.,*-]+\)[[:space:]]*[;:-][[:space:]]*[[:alpha:]]+[[:space:]]+[[:alpha:]]+' || true)
if [ -n "$bad" ]; then
	echo "$bad"
	echo "lint: FAILED: inline suppressions above lack a check name or a reason" >&2
	status=1
else
	echo "lint: suppressions: every one names its check and gives a reason"
fi

# ---- 4. the Python tests ----------------------------------------------------------------
if ! /usr/bin/python3 -m pyflakes --version >/dev/null 2>&1; then
	echo "lint: pyflakes not found; install python3-pyflakes (sh .ci/deps lint)" >&2
	status=1
elif /usr/bin/python3 -m pyflakes tests; then
	echo "lint: pyflakes: no findings in tests/"
else
	echo "lint: pyflakes: FAILED (findings above)" >&2
	status=1
fi

# ---- 5. formatting ----------------------------------------------------------------------
# shellcheck disable=SC2046
unformatted=$(git ls-files '*.c' '*.h' 2>/dev/null | while read -r f; do
	clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || echo "$f"
done)
if [ -n "$unformatted" ]; then
	echo "$unformatted" | sed 's/^/    /'
	echo "lint: clang-format: FAILED: the files above differ from .clang-format (fix: clang-format -i FILE)" >&2
	status=1
else
	echo "lint: clang-format: every C file matches .clang-format"
fi

[ "$status" -eq 0 ] && echo "lint: clean"
exit "$status"
