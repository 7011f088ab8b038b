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

# The gateway suites (http.sh, polls_http.sh) start restmon-http ($GW) on
# $PORT as restmon_gateway_test, log to $tmp/gateway.log and keep $gw_pid.
# gw_start [wrapper...] [-- gateway options...]: starts it, waits for
# /api/health (15 s at most).
gw_start() {
	local wrap=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		wrap+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	PGUSER=restmon_gateway_test "${wrap[@]}" "$GW" --port "$PORT" "$@" \
		>> "$tmp/gateway.log" 2>&1 &
	gw_pid=$!
	for _ in $(seq 150); do
		curl -s -o /dev/null "http://127.0.0.1:$PORT/api/health" && return 0
		sleep 0.1
	done
	return 1
}
# gw_stop: SIGTERM, then its exit status
gw_stop() {
	kill -TERM "$gw_pid" 2>/dev/null
	wait "$gw_pid"
	local st=$?
	gw_pid=""
	return $st
}

# openapi_check: every response recorded in $tmp/observed (lines "path
# method status content-type") is in gateway/openapi.json; a 405 answers a
# method the path does not define (the path must be there, the method not)
openapi_check() {
	local undocumented=0 path method status ctype found
	while IFS=$'\t' read -r path method status ctype; do
		found=$(jq -r --arg p "$path" --arg m "${method,,}" --arg s "$status" --arg c "$ctype" '
			if $s == "405" then
				(if (.paths[$p] != null) and (.paths[$p][$m] == null) then "yes" else "no" end)
			else
				.paths[$p][$m].responses[$s] as $r
				| if $r == null then "no"
				  else (if $r["$ref"] then (($r["$ref"] | split("/") | last) as $k | .components.responses[$k]) else $r end)
				       | if (.content // {}) | has($c) then "yes" else "no" end
				  end
			end' gateway/openapi.json 2>/dev/null)
		if [ "$found" != "yes" ]; then
			undocumented=$((undocumented + 1))
			echo "# not in openapi.json: $method $path $status $ctype"
		fi
	done < <(sort -u "$tmp/observed")
	is "every response is documented in gateway/openapi.json ($(sort -u "$tmp/observed" | wc -l) kinds)" 0 "$undocumented"
}

# The alert suites (alerts.sh, alerts_window.sh): listen_start opens a psql
# session that runs LISTEN restmon_store_state and returns once it has (15 s
# at most); the caller records polls in other sessions; listen_stop ends
# the session and writes the payloads it received, one a line, in order,
# to $tmp/got (psql prints each between 'payload "' and '" received from').
listen_start() {
	mkfifo "$tmp/go"
	( { echo "LISTEN restmon_store_state;"; echo "SELECT 1;"; cat "$tmp/go";
	    echo "SELECT 2;"; } | psql -X -q -At > "$tmp/listen" 2>&1 ) &
	listener=$!
	exec 3> "$tmp/go"
	for _ in $(seq 150); do grep -qx 1 "$tmp/listen" && break; sleep 0.1; done
}
listen_stop() {
	exec 3>&-
	wait "$listener"
	sed -n 's/^Asynchronous notification "restmon_store_state" with payload "\(.*\)" received from server process with PID [0-9]*\.$/\1/p' \
		"$tmp/listen" > "$tmp/got"
}

# listen_is DESCRIPTION: after listen_stop, "is" on the payloads received
# ($tmp/got) against the expected ones, one a line on standard input.
listen_is() {
	is "$1" "$(cat)" "$(cat "$tmp/got")"
}

# alerts_fresh id...: the alert suites' start, a fresh restmon whose stores
# (the ids) are in UTC and open 09:00-17:00 every day (semantics §1, §3).
alerts_fresh() {
	local s values="" hours=""
	for s in "$@"; do
		values="$values${values:+, }('$s', 'UTC')"
		hours="$hours${hours:+, }'$s'"
	done
	psql -X -q -At -v ON_ERROR_STOP=1 <<SQL
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS restmon CASCADE;
CREATE EXTENSION restmon;
INSERT INTO restmon.store_timezone VALUES $values;
INSERT INTO restmon.business_hours
	SELECT s, d, '09:00', '17:00' FROM unnest(array[$hours]) s,
		generate_series(0, 6) d;
SQL
}
