#!/usr/bin/env bash
# scripts/test.sh: build restmon and run every test against a fresh test
# cluster (RESTMON_CLUSTER=test, recreated each run; your main cluster and
# its data are not touched).  Suites: formatting, the core's unit tests (ASan/UBSan),
# pg_regress (test/sql), pgTAP (test/pgtap), and any test/*.sh (TAP).
# Last line: "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$PROJECT_DIR"
export RESTMON_CLUSTER=test

passed=0
failed=0
count() {	# suite name, passed, failed
	echo "== $1: $2 passed, $3 failed"
	passed=$((passed + $2))
	failed=$((failed + $3))
}
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}
tap_count() {	# suite name, TAP output file, exit status
	local ok notok
	ok=$(grep -cE '^ *ok [0-9]+' "$2")
	notok=$(grep -cE '^ *not ok [0-9]+' "$2")
	if [ "$3" -ne 0 ] && [ "$notok" -eq 0 ]; then
		notok=1	# died, or ran fewer tests than planned
	fi
	count "$1" "$ok" "$notok"
}

install_packages || { count "install" 0 1; finish; }
if ! build_and_install; then
	count "build" 0 1
	finish
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# formatting: the C sources as "make indent" leaves them
if scripts/indent.sh --check > "$out/indent" 2>&1; then
	count "formatting (make indent-check)" 1 0
else
	cat "$out/indent"
	count "formatting (make indent-check)" 0 1
fi

# the core, outside the server
if [ -f test/unit/test_core.c ]; then
	make -s unittest > "$out/unit" 2>&1
	st=$?
	cat "$out/unit"
	tap_count "core unit tests" "$out/unit" $st
fi

scripts/cluster.sh destroy
# stopped at the end (its data stays for inspection until the next run): a
# test cluster left running outlives a deleted checkout
trap 'rm -rf "$out"; scripts/cluster.sh stop > /dev/null 2>&1' EXIT
if ! scripts/cluster.sh start; then
	count "cluster" 0 1
	finish
fi
eval "$(scripts/cluster.sh env)"
RESTMON_FIXTURES=$(fixture_dir)
export RESTMON_FIXTURES

# pg_regress (it copies test/fixtures to $RESTMON_FIXTURES first)
make -s installcheck FIXTURE_DIR="$RESTMON_FIXTURES" > "$out/regress" 2>&1
st=$?
cat "$out/regress"
ok=$(grep -cE '^(test| ) *[a-z_0-9]+ +\.\.\. ok' "$out/regress")
bad=$(grep -cE '\.\.\. FAILED' "$out/regress")
if [ $st -ne 0 ]; then
	[ -f regression.diffs ] && cat regression.diffs
	[ "$bad" -eq 0 ] && bad=1
fi
count "pg_regress" "$ok" "$bad"

# pgTAP, one file at a time in the test cluster's restmon database
for f in test/pgtap/*.sql; do
	[ -f "$f" ] || continue
	pg_prove --verbose -d restmon "$f" > "$out/pgtap" 2>&1
	st=$?
	cat "$out/pgtap"
	tap_count "pgTAP $(basename "$f")" "$out/pgtap" $st
done

# other suites (HTTP gateway, ...): executables printing TAP
for f in test/*.sh; do
	[ -x "$f" ] || continue
	"$f" > "$out/sh" 2>&1
	st=$?
	cat "$out/sh"
	tap_count "$(basename "$f")" "$out/sh" $st
done

finish
