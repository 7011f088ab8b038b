#!/usr/bin/env bash
# test/gateway_limits.sh: no client can starve the others (issue 12),
# against restmon-http on 127.0.0.1:5089 with its default limits (TAP).
# One client (source address 127.0.0.2) holds 600 connections that drip a
# header byte a second, another (127.0.0.3) 300 idle keep-alive
# connections: each keeps at most --max-per-client (64) and /api/health
# still answers the others at once.  A flood of triggers from one client
# is answered 429 with Retry-After beyond its burst.  Loopback only,
# bounded in count and time (about 20 s).
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
export RESTMON_CLUSTER=test
eval "$(scripts/cluster.sh env)"

PORT=$(( ${RESTMON_TEST_PORT_BASE:-5087} + 2 ))
BASE="http://127.0.0.1:$PORT"
GW="${RESTMON_HTTP_BIN:-$PGBIN/restmon-http}"	# another build to compare
tmp=$(mktemp -d)
gw_pid=""

cleanup() {
	[ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

. test/tap.sh

# health from 127.0.0.1, 5 times: "STATUS SECONDS" of the slowest
health_5() {
	local worst="200 0" line
	for _ in 1 2 3 4 5; do
		line=$(curl -s -o /dev/null --max-time 5 -w '%{http_code} %{time_total}' "$BASE/api/health")
		if [ "${line%% *}" != 200 ]; then worst=$line; break; fi
		awk -v a="${line#* }" -v b="${worst#* }" 'BEGIN { exit !(a > b) }' && worst=$line
		sleep 0.2
	done
	echo "$worst"
}
fast() {	# "STATUS SECONDS": 200 within 1 s? (the figure goes to a TAP comment)
	echo "# slowest /api/health of 5: $1 s" >&2
	awk -v s="$1" 'BEGIN { split(s, f, " "); print (f[1] == 200 && f[2] < 1) ? "yes" : s }'
}

psql -X -q -v ON_ERROR_STOP=1 > /dev/null <<'SQL' || { echo "not ok 1 - database setup"; echo "1..1"; exit 1; }
\i test/preamble.psql
SET client_min_messages = warning;
SELECT restmon_ingest_timezones(:'fixtures' || '/loop-2024/timezones.csv');
SELECT restmon_ingest_hours(:'fixtures' || '/loop-2024/menu_hours.csv');
SELECT restmon_ingest_status(:'fixtures' || '/loop-2024/store_status_head_1000.csv');
DO $$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'restmon_gateway_test') THEN
		CREATE ROLE restmon_gateway_test LOGIN;
	END IF;
END $$;
SELECT restmon_grant_report_api('restmon_gateway_test');
SQL

PGUSER=restmon_gateway_test "$GW" --port "$PORT" --threads 2 > "$tmp/gateway.log" 2>&1 &
gw_pid=$!
for _ in $(seq 100); do
	curl -s -o /dev/null "$BASE/api/health" && break
	sleep 0.1
done
is "the gateway starts with its default limits" "200" \
	"$(curl -s -o /dev/null -w '%{http_code}' "$BASE/api/health")"

# --- slowloris: 600 connections from one client, dripping ---
python3 test/slow_clients.py "$PORT" 600 127.0.0.2 6 slow > "$tmp/slow" 2>&1 &
slow_pid=$!
sleep 3
is "/api/health answers within 1 s while one client holds 600 slow connections" \
	"yes" "$(fast "$(health_5)")"
wait "$slow_pid"
is "that client keeps at most 64 connections (--max-per-client)" "yes" \
	"$(awk -F= '/^open=/ { print ($2 > 0 && $2 <= 64) ? "yes" : $0 }' "$tmp/slow")"

# --- idle keep-alive: 300 connections from one client ---
python3 test/slow_clients.py "$PORT" 300 127.0.0.3 5 idle > "$tmp/idle" 2>&1 &
idle_pid=$!
sleep 3
is "/api/health answers within 1 s while one client holds 300 idle keep-alive connections" \
	"yes" "$(fast "$(health_5)")"
wait "$idle_pid"
is "that client keeps at most 64 connections" "yes" \
	"$(awk -F= '/^open=/ { print ($2 > 0 && $2 <= 64) ? "yes" : $0 }' "$tmp/idle")"

# --- a trigger flood from one client: 429 with Retry-After ---
t0=$(date +%s.%N)
seq 60 | timeout 60 xargs -P 10 -I{} curl -s -o "$tmp/b.{}" -D "$tmp/h.{}" \
	-w '%{http_code} {}\n' -X POST "$BASE/api/trigger_report" > "$tmp/flood"
t1=$(date +%s.%N)
one=$(awk '$1 == 429 { print $2; exit }' "$tmp/flood")
is "60 triggers by 10 clients at once from one address: at most the burst (20) and the refill pass" "yes" \
	"$(awk -v e="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" '$1 == 200 { k++ } END { print (k >= 20 && k <= 21 + 5 * e) ? "yes" : k " in " e " s" }' "$tmp/flood")"
is "... and the others are 429" "60" "$(grep -cE '^(200|429) ' "$tmp/flood")"
is "a 429 has Retry-After in whole seconds" "yes" \
	"$(grep -qiE '^Retry-After: [1-9][0-9]*'$'\r''?$' "$tmp/h.$one" && echo yes)"
is "a 429 has the JSON error shape" "429" "$(jq -r .error_code "$tmp/b.$one" 2>/dev/null)"
grep -i '^Retry-After:' "$tmp/h.$one" | tr -dc '0-9' > "$tmp/retry"
is "another client is not limited" "200" \
	"$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.4 -X POST "$BASE/api/trigger_report")"
sleep "$(cat "$tmp/retry")"
is "after Retry-After seconds the client may trigger again" "200" \
	"$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/api/trigger_report")"

kill -TERM "$gw_pid"
wait "$gw_pid"
is "the gateway stops cleanly" 0 $?
gw_pid=""
echo "1..$n"
