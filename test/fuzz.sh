#!/usr/bin/env bash
# test/fuzz.sh: the libFuzzer targets of test/fuzz (clang, AddressSanitizer,
# UndefinedBehaviorSanitizer), each for a short bounded time (TAP).  Run by
# scripts/test.sh; "make fuzz" runs them for longer.  Each starts from the
# checked-in corpus (test/fuzz/corpus/<name>) and a fresh scratch corpus;
# a failing input is kept in test/fuzz/work/ and printed in hex.
#   FUZZ_CHECK_SECONDS	seconds per fuzzer (default 15)
set -uo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH=${FUZZ_CHECK_SECONDS:-15}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0

# clang and libFuzzer's runtime (scripts/lib.sh's PACKAGES installs both)
n=$((n + 1))
if ! make -s fuzz-build > "$tmp/build" 2>&1; then
	echo "not ok $n - the fuzzers build with clang and libFuzzer"
	sed 's/^/# /' "$tmp/build"
	echo "1..$n"
	exit 1
fi
echo "ok $n - the fuzzers build with clang and libFuzzer"

for f in core csv; do
	n=$((n + 1))
	make -s fuzz-run-$f FUZZ_TIME="$SECONDS_EACH" FUZZ_WORK="$tmp/work" \
		> "$tmp/$f.log" 2>&1
	st=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/$f.log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$tmp/$f.log")
	if [ $st -eq 0 ] && [ -n "$runs" ]; then
		echo "ok $n - fuzz_$f ${SECONDS_EACH} s, $runs runs ($rate/s), no crash"
	else
		fails=$((fails + 1))
		echo "not ok $n - fuzz_$f ${SECONDS_EACH} s: failed (status $st)"
		grep -E '^(fuzz_|==[0-9]+==ERROR|SUMMARY|.*runtime error)' \
			"$tmp/$f.log" | head -20 | sed 's/^/# /'
		mkdir -p test/fuzz/work
		for c in "$tmp"/work/crash-$f-*; do
			[ -f "$c" ] || continue
			cp "$c" test/fuzz/work/
			echo "# input kept in test/fuzz/work/$(basename "$c"):"
			od -An -tx1 "$c" | head -8 | sed 's/^/#  /'
		done
	fi
done
echo "1..$n"
[ "$fails" -eq 0 ]
