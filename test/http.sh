#!/usr/bin/env bash
# test/http.sh: restmon-http against the test cluster, with curl (TAP).
# Every endpoint and status code, the full flow, both route shapes, hostile
# input, a database restart under the gateway, a short bounded load run,
# scripts/gateway.sh's port, one run under valgrind, and every response
# checked against gateway/openapi.json.  Figures and byte order
# (semantics §6.2, §6.5): one full report is compared with
# restmon_store_uptime() figure by figure, with ids whose byte order differs
# from length-first order.  as_of (semantics §4): only ISO 8601 with an
# explicit offset, honoured on both trigger routes.  Run by scripts/test.sh
# after the other suites.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
export RESTMON_CLUSTER=test
eval "$(scripts/cluster.sh env)"

PORT=${RESTMON_TEST_PORT_BASE:-5087}
PORT2=$((PORT + 1))
BASE="http://127.0.0.1:$PORT"
GW="$PGBIN/restmon-http"
tmp=$(mktemp -d)
gw_pid=""

cleanup() {
	[ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null
	scripts/gateway.sh stop 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

. test/tap.sh

template() {	# the OpenAPI path of a request path, or nothing
	local p=${1%%\?*}
	case "$p" in
		/api/trigger_report|/api/get_report|/api/health|/store/get_report/) echo "$p" ;;
		/store/*/trigger_report/) echo "/store/{store_id}/trigger_report/" ;;
	esac
}

# req METHOD PATH [curl args]: sets STATUS, CTYPE; body in $tmp/body
req() {
	local method=$1 path=$2 t
	shift 2
	curl -s --path-as-is -o "$tmp/body" -D "$tmp/headers" \
		-w '%{http_code} %{content_type}' -X "$method" "$BASE$path" "$@" > "$tmp/meta"
	STATUS=$(cut -d' ' -f1 "$tmp/meta")
	CTYPE=$(cut -d' ' -f2- "$tmp/meta")
	t=$(template "$path")
	[ -n "$t" ] && printf '%s\t%s\t%s\t%s\n' "$t" "$method" "$STATUS" "$CTYPE" >> "$tmp/observed"
	return 0
}
body_field() { jq -r "$1" "$tmp/body" 2>/dev/null; }
header() { grep -i "^$1:" "$tmp/headers" | sed 's/^[^:]*: //; s/\r$//'; }

wait_complete() {	# id: polls until the CSV is served (or 30 s)
	for _ in $(seq 300); do
		req GET "/api/get_report?report_id=$1"
		[ "$STATUS" != 200 ] || [ "$CTYPE" != "application/json" ] && return 0
		sleep 0.1
	done
}

# --- a fresh restmon with the real data, and the gateway's role ---
psql -X -q -v ON_ERROR_STOP=1 > /dev/null <<'SQL' || { echo "not ok 1 - database setup"; echo "1..1"; exit 1; }
\i test/preamble.psql
SET client_min_messages = warning;
SELECT restmon_ingest_timezones(:'fixtures' || '/loop-2024/timezones.csv');
SELECT restmon_ingest_hours(:'fixtures' || '/loop-2024/menu_hours.csv');
SELECT restmon_ingest_status(:'fixtures' || '/loop-2024/store_status_head_1000.csv');
-- semantics §6.2: ids where byte order and length-first order differ,
-- polled half an hour before the default instant (which stays)
INSERT INTO restmon.observation
	SELECT id, restmon_default_as_of() - interval '30 min', id <> '10'
	FROM unnest(ARRAY['9', '10', 'Zeta', '_under', 'alpha']) id;
DO $$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'restmon_gateway_test') THEN
		CREATE ROLE restmon_gateway_test LOGIN;
	END IF;
END $$;
SELECT restmon_grant_report_api('restmon_gateway_test');
SQL

# the trigger limit (--trigger-burst, --trigger-rate) is
# gateway_limits.sh's; here some 40 triggers in a few seconds must each
# reach the checks they are about, not a 429 whose turn depends on timing
gw_start -- --threads 4 --trigger-burst 1000
is "the gateway starts and answers /api/health" 0 $?

req GET /api/health
is "GET /api/health: 200 JSON" "200 application/json" "$STATUS $CTYPE"

# --- the full flow, with a deterministic Running phase: another session
# holds a lock the worker needs while we look ---
psql -X -q -c "BEGIN; LOCK TABLE restmon.report_row IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(3); COMMIT;" > /dev/null &
lock_pid=$!
sleep 0.5
req POST /api/trigger_report
is "POST /api/trigger_report: 200 JSON" "200 application/json" "$STATUS $CTYPE"
is "trigger answers message Success, error_code 200" "Success 200" "$(body_field '.message + " " + (.error_code|tostring)')"
id=$(body_field .report_id)
is "the report id is 22 URL-safe characters" 1 "$(grep -cE '^[A-Za-z0-9_-]{22}$' <<< "$id")"
req GET "/api/get_report?report_id=$id"
is "a running report: 200 JSON" "200 application/json" "$STATUS $CTYPE"
is "a running report says Running with its id" "Running $id" "$(body_field '.status + " " + .report_id')"
wait "$lock_pid"
wait_complete "$id"
is "the complete report: 200 CSV" "200 text/csv; charset=utf-8" "$STATUS $CTYPE"
is "X-Report-Status: Complete" "Complete" "$(header X-Report-Status)"
is "Content-Disposition names the report" "attachment; filename=\"report-$id.csv\"" "$(header Content-Disposition)"
psql -X -At -c "SELECT restmon_report_csv('$id')" -o "$tmp/db.csv"
(cat "$tmp/body"; echo) > "$tmp/body_nl"
is "the CSV body equals restmon_report_csv() byte for byte" 0 "$(cmp -s "$tmp/body_nl" "$tmp/db.csv"; echo $?)"
is "the CSV has a line per store" "$(psql -X -At -c 'SELECT count(*) + 1 FROM restmon_store_uptime()')" "$(wc -l < "$tmp/body")"
psql -X -q -o "$tmp/sync.csv" -c "COPY (SELECT store_id, uptime_last_hour, uptime_last_day,
	uptime_last_week, downtime_last_hour, downtime_last_day, downtime_last_week
	FROM restmon_store_uptime((SELECT as_of FROM restmon.report WHERE report_id = '$id'))
	ORDER BY store_id COLLATE \"C\") TO STDOUT WITH (FORMAT csv, HEADER)"
is "the CSV equals restmon_store_uptime() figure by figure, in byte order" 0 "$(cmp -s "$tmp/body" "$tmp/sync.csv"; echo $?)"
is "... where 10 < 9 < Zeta < _under < alpha" "10 9 Zeta _under alpha" "$(cut -d, -f1 "$tmp/body" | grep -xE '9|10|Zeta|_under|alpha' | tr '\n' ' ' | sed 's/ $//')"

# --- the second system's routes, a single store ---
store=$(psql -X -At -c "SELECT min(store_id) FROM restmon.store")
req GET "/store/$store/trigger_report/"
is "GET /store/<id>/trigger_report/: 200 JSON" "200 application/json" "$STATUS $CTYPE"
sid=$(body_field .report_id)
wait_complete "$sid"
req POST /store/get_report/ -H 'Content-Type: application/json' -d "{\"report_id\": \"$sid\"}"
is "POST /store/get_report/: 200 CSV" "200 text/csv; charset=utf-8" "$STATUS $CTYPE"
is "the single-store report has that store only" "2 $store" "$(wc -l < "$tmp/body") $(sed -n 2p "$tmp/body" | cut -d, -f1)"
req POST /api/trigger_report -d "{\"store_id\": \"$store\", \"as_of\": \"2024-10-03T23:00:00Z\"}"
is "trigger with store_id and as_of in the body: 200" "200" "$STATUS"
is "... and the as_of is used" "2024-10-03 23:00:00+00" \
	"$(psql -X -At -c "SET TimeZone = 'UTC'; SELECT as_of FROM restmon.report WHERE report_id = '$(body_field .report_id)'" | tail -1)"

# --- semantics §6.1 over HTTP: a known store whose first poll is after T
# has no row, and GET's as_of is honoured ---
t0=$(psql -X -At -c "SELECT to_char(restmon_default_as_of() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
psql -X -q -c "INSERT INTO restmon.observation VALUES ('late-http', restmon_default_as_of(), true)"
t1=$(psql -X -At -c "SELECT to_char((restmon_default_as_of() - interval '1 hour') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
req GET "/store/late-http/trigger_report/?as_of=$t1"
is "GET /store/<id>/trigger_report/?as_of=: 200" "200" "$STATUS"
lid=$(body_field .report_id)
is "... and the as_of is used" "$t1" \
	"$(psql -X -At -c "SELECT to_char(as_of AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM restmon.report WHERE report_id = '$lid'")"
wait_complete "$lid"
is "a store first polled after T: the CSV has no row" "200 1" "$STATUS $(wc -l < "$tmp/body")"
req GET "/store/late-http/trigger_report/?as_of=$t0"
lid=$(body_field .report_id)
wait_complete "$lid"
is "... and at its first poll, its row" "2 late-http" "$(wc -l < "$tmp/body") $(sed -n 2p "$tmp/body" | cut -d, -f1)"

# --- as_of: ISO 8601 with an explicit offset only (semantics §4) ---
before=$(psql -X -At -c "SELECT count(*) FROM restmon.report")
for a in now today yesterday epoch infinity -infinity "2024-10-03 23:00:00" \
		"2024-10-03T23:00:00" "100000-01-01T00:00:00Z" "2024-10-03T23:00:00Z junk"; do
	req POST /api/trigger_report -d "{\"as_of\": \"$a\"}"
	is "as_of \"$a\" in the body: 400 22007" "400 22007" "$STATUS $(body_field .sqlstate)"
done
req GET "/store/$store/trigger_report/?as_of=now"
is "as_of=now in the query: 400 22007" "400 22007" "$STATUS $(body_field .sqlstate)"
req GET "/store/$store/trigger_report/?as_of=2024-10-03%2023:00:00"
is "as_of without an offset in the query: 400" "400" "$STATUS"
req POST /api/trigger_report -d '{"as_of": "9999-12-32T00:00:00Z"}'
is "as_of with no such day: 400 from the database" "400 22008" "$STATUS $(body_field .sqlstate)"
req GET "/store/$store/trigger_report/?as_of_typo=2024-10-03T23:00:00Z"
is "an unknown query parameter: 400" "400" "$STATUS"
req GET "/store/$store/trigger_report/?as_of=2024-10-03T23:00:00Z&as_of=2024-10-04T23:00:00Z"
is "a query parameter given twice: 400" "400" "$STATUS"
req GET "/store/$store/trigger_report/?as_of"
is "a query parameter without a value: 400" "400" "$STATUS"
req GET "/api/get_report?report_id=$id&format=json"
is "get_report with an unknown query parameter: 400" "400" "$STATUS"
req GET "/api/health?x=1"
is "health with a query parameter: 400" "400" "$STATUS"
is "refused as_of values created no report" "$before" "$(psql -X -At -c "SELECT count(*) FROM restmon.report")"
req POST /api/trigger_report -d "{\"store_id\": \"$store\", \"as_of\": \"2024-10-04T04:30:00+05:30\"}"
is "as_of with an offset +05:30: 200" "200" "$STATUS"
is "... read with its offset" "2024-10-03 23:00:00+00" \
	"$(psql -X -At -c "SET TimeZone = 'UTC'; SELECT as_of FROM restmon.report WHERE report_id = '$(body_field .report_id)'" | tail -1)"

# --- failures and errors ---
# a report that fails in its worker: a request written straight into the
# queue with an as_of no trigger accepts
fid=failedFAILEDfailedHTTP
psql -X -q -c "INSERT INTO restmon.report (report_id, as_of) VALUES ('$fid', 'infinity')" -c "SELECT restmon_upkeep()" > /dev/null
wait_complete "$fid"
is "a failed report: 500 JSON" "500 application/json" "$STATUS $CTYPE"
is "... with status Failed and the error" "Failed 22008: as_of is out of range" "$(body_field '.status + " " + .message')"
req GET "/api/get_report?report_id=AAAAAAAAAAAAAAAAAAAAAA"
is "an unknown report: 404 JSON" "404 application/json" "$STATUS $CTYPE"
is "... with error_code and sqlstate" "404 P0002" "$(body_field '(.error_code|tostring) + " " + .sqlstate')"
req GET "/api/get_report"
is "a missing report_id: 400" "400 application/json" "$STATUS $CTYPE"
req GET "/api/get_report?report_id=short"
is "a malformed report_id: 400" "400 22023" "$STATUS $(body_field .sqlstate)"
req GET "/store/no-such-store/trigger_report/"
is "a single-store report of an unknown store: 404" "404" "$STATUS"
req POST /api/trigger_report -d '{"store_id": "=1+2"}'
is "a store_id that is not a store id (semantics §1.8): 400 22023" "400 22023" "$STATUS $(body_field .sqlstate)"
req GET /api/nothing
is "an unknown path: 404 JSON" "404 application/json" "$STATUS $CTYPE"
req DELETE /api/trigger_report
is "a wrong method: 405 with Allow" "405 POST" "$STATUS $(header Allow)"
req POST /api/get_report
is "POST on get_report: 405 with Allow" "405 GET" "$STATUS $(header Allow)"

# --- hostile input: a 4xx, and nothing changes ---
before=$(psql -X -At -c "SELECT count(*) FROM restmon.report")
req GET "/api/get_report?report_id=x%27%20OR%20%271%27%3D%271"
is "a report_id with quotes: 400" "400" "$STATUS"
req GET "/api/get_report?report_id=AAAAAAAAAA%00AAAAAAAAAAA"
is "a report_id with a NUL: 400" "400" "$STATUS"
req GET "/api/get_report?report_id=$(head -c 10000 /dev/zero | tr '\0' A)"
is "a 10 KB report_id: 4xx" "4" "${STATUS:0:1}"
req GET "/api/get_report?report_id=%ff%fe%fd"
is "a non-UTF-8 report_id: 400" "400" "$STATUS"
req POST /api/trigger_report -d '{"store_id": '
is "broken JSON: 400" "400" "$STATUS"
req POST /api/trigger_report -d '["store_id"]'
is "JSON that is not an object: 400" "400" "$STATUS"
req POST /api/trigger_report -d '{"store_id": {"a": 1}}'
is "a store_id of the wrong type: 400" "400" "$STATUS"
req POST /api/trigger_report -d '{"as_of": 12}'
is "an as_of of the wrong type: 400" "400" "$STATUS"
req POST /api/trigger_report -d '{"as_of": "yesterday-ish"}'
is "an as_of that is no timestamp: 400" "400 22007" "$STATUS $(body_field .sqlstate)"
printf '{"store_id": "\xff\xfe"}' > "$tmp/bad_utf8"
req POST /api/trigger_report --data-binary @"$tmp/bad_utf8"
is "non-UTF-8 JSON: 400" "400" "$STATUS"
head -c 20000 /dev/zero | tr '\0' ' ' > "$tmp/big"
req POST /api/trigger_report --data-binary @"$tmp/big"
is "a body over 16 KiB: 413" "413" "$STATUS"
req GET "/../../etc/passwd"
is "path traversal: 404" "404" "$STATUS"
req GET "/store/../api/health/trigger_report/"
is "a traversal inside a store route: 404 (unknown store)" "404" "$STATUS"
is "hostile requests created no report" "$before" "$(psql -X -At -c "SELECT count(*) FROM restmon.report")"

# --- a short load run: bounded in count and time ---
seq 1000 | timeout 120 xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
	"$BASE/api/get_report?report_id=$id" > "$tmp/load1"
is "1000 CSV fetches by 8 clients: all 200" "1000" "$(grep -c '^200$' "$tmp/load1")"
seq 1000 | timeout 120 xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
	"$BASE/api/get_report?report_id=$fid" > "$tmp/load2"
is "1000 status polls by 8 clients: all answered (500 = the failed report)" "1000" "$(grep -c '^500$' "$tmp/load2")"

# --- the database restarts under the gateway: first with no request
# while it is down, so every thread's connection died idle; the first
# request after it must not be a 503 (the gateway reconnects and retries
# once), nor any of the next ones, whichever thread takes them ---
scripts/cluster.sh stop
scripts/cluster.sh start > /dev/null
seen=""
for _ in $(seq 8); do req GET "/api/get_report?report_id=$id"; seen="$seen $STATUS"; done
is "a restart while idle: no request gets a 503" " 200 200 200 200 200 200 200 200" "$seen"

# --- then down for a while, with requests meanwhile ---
scripts/cluster.sh stop
req GET /api/health
is "database down: /api/health says 503" "503 application/json" "$STATUS $CTYPE"
req GET "/api/get_report?report_id=$id"
is "database down: get_report says 503" "503" "$STATUS"
scripts/cluster.sh start > /dev/null
for _ in $(seq 20); do
	req GET /api/health
	[ "$STATUS" = 200 ] && break
	sleep 0.2
done
is "database back: the gateway recovers without a restart" "200" "$STATUS"
seen=""
for _ in $(seq 8); do req GET "/api/get_report?report_id=$id"; seen="$seen $STATUS"; done
is "... on every thread (a connection that died idle is reopened, not a 503)" \
	" 200 200 200 200 200 200 200 200" "$seen"

gw_stop
is "SIGTERM stops the gateway cleanly" 0 $?
is "access lines give address, method, path, status and time" 0 \
	"$(grep -qE '^127\.0\.0\.1 GET /api/health 200 [0-9.]+ms$' "$tmp/gateway.log"; echo $?)"

# --- scripts/gateway.sh: where it listens ---
scripts/gateway.sh start --port $PORT2 > /dev/null 2>&1
is "gateway.sh start --port: status says where it listens" \
	"running, http://127.0.0.1:$PORT2/" "$(scripts/gateway.sh status | sed 's/, pid [0-9]*//')"
is "... and it answers there" "application/json" \
	"$(curl -s -o /dev/null -w '%{content_type}' http://127.0.0.1:$PORT2/api/health)"
scripts/gateway.sh stop
st=$(scripts/gateway.sh status)
is "gateway.sh stop: status says stopped (exit 3)" "stopped 3" "$st $?"
RESTMON_HTTP_PORT=$PORT2 scripts/gateway.sh start > /dev/null 2>&1
is "RESTMON_HTTP_PORT: gateway.sh url" "http://127.0.0.1:$PORT2/" "$(scripts/gateway.sh url)"
scripts/gateway.sh stop

# --- once under valgrind ---
if command -v valgrind > /dev/null; then
	gw_start valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite \
		--error-exitcode=99 --log-file="$tmp/valgrind.log" -- --threads 4
	is "the gateway starts under valgrind" 0 $?
	req POST /api/trigger_report
	vid=$(body_field .report_id)
	wait_complete "$vid"
	req GET "/api/get_report?report_id=$vid"
	req GET "/api/get_report?report_id=$fid"
	req GET "/api/get_report?report_id=short"
	req POST /api/trigger_report -d '{"store_id": '
	req POST /api/trigger_report --data-binary @"$tmp/big"
	req POST /store/get_report/ -d "{\"report_id\": \"$vid\"}"
	req DELETE /api/health
	gw_stop
	is "valgrind: no errors, no leaks" 0 $?
	[ -s "$tmp/valgrind.log" ] && sed 's/^/# /' "$tmp/valgrind.log" | head -40
fi

# --- every response seen is in the OpenAPI document ---
openapi_check

echo "1..$n"
[ "$fails" -eq 0 ]
