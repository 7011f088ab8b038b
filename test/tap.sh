# test/tap.sh: what the TAP suites in test/*.sh share (sourced, not run).
# is DESCRIPTION EXPECTED ACTUAL prints "ok N - ..." or "not ok N - ..."
# with both values; $n counts the tests, $fails the failures.
n=0
fails=0
is() {
	n=$((n + 1))
	if [ "$2" == "$3" ]; then
		echo "ok $n - $1"
	else
		fails=$((fails + 1))
		echo "not ok $n - $1"
		echo "# expected: $2"
		echo "# got:      $3"
	fi
}
