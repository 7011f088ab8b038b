#!/usr/bin/env bash
# test/polls_http.sh: POST /api/polls on restmon-http against the test
# cluster, with curl (TAP).  The gateway records polls on its poll role's
# own connection (--poll-dsn), a role granted restmon_grant_poll_api only.
# JSON and text/csv bodies, the summary (semantics §1.6: accumulate, first
# wins, conflicting duplicates), every status (200, 400 when nothing was
# valid or the body is not an array, 403 for a role without the poll API,
# 413 over 1 MiB, 415, 503 without --poll-dsn) and hostile bodies (a 10 MB
# body, NULL fields, unknown status, a 1 MB store id), each checked to lose
# nothing; every response against gateway/openapi.json.  Run by scripts/test.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
export RESTMON_CLUSTER=test
eval "$(scripts/cluster.sh env)"

PORT=${RESTMON_TEST_PORT_BASE:-5087}
BASE="http://127.0.0.1:$PORT"
GW="$PGBIN/restmon-http"
tmp=$(mktemp -d)
gw_pid=""

cleanup() {
	[ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

. test/tap.sh

# post BODY-FILE [curl args]: POST /api/polls; sets STATUS, CTYPE
post() {
	local file=$1
	shift
	curl -s -o "$tmp/body" -w '%{http_code} %{content_type}' -X POST \
		--data-binary "@$file" "$@" "$BASE/api/polls" > "$tmp/meta"
	STATUS=$(cut -d' ' -f1 "$tmp/meta")
	CTYPE=$(cut -d' ' -f2- "$tmp/meta")
	printf '%s\t%s\t%s\t%s\n' /api/polls post "$STATUS" "$CTYPE" >> "$tmp/observed"
}
json() { post "$1" -H 'Content-Type: application/json'; }
field() { jq -c "$@" "$tmp/body" 2>/dev/null; }
sql() { PGOPTIONS="-c TimeZone=UTC" psql -X -At -c "$1"; }

# --- a fresh restmon; the report role and the poll role ---
psql -X -q -v ON_ERROR_STOP=1 > /dev/null <<'SQL' || { echo "not ok 1 - database setup"; echo "1..1"; exit 1; }
\i test/preamble.psql
SET client_min_messages = warning;
DO $$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'restmon_gateway_test') THEN
		CREATE ROLE restmon_gateway_test LOGIN;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'restmon_poller_test') THEN
		CREATE ROLE restmon_poller_test LOGIN;
	END IF;
END $$;
SELECT restmon_grant_report_api('restmon_gateway_test');
SELECT restmon_grant_poll_api('restmon_poller_test');
SQL

# --- without --poll-dsn the route is off ---
gw_start -- --threads 2
echo '[]' > "$tmp/empty.json"
json "$tmp/empty.json"
is "without --poll-dsn: 503" "503 application/json" "$STATUS $CTYPE"
gw_stop

gw_start -- --threads 2 --poll-dsn "user=restmon_poller_test"
is "the gateway starts with --poll-dsn" 0 $?

# --- a batch: 3 new polls, a duplicate of the first (same instant, written
# another way), a conflicting duplicate of the second (semantics §1.6) ---
cat > "$tmp/b1.json" <<'EOF'
[{"store_id": "h1", "status": "active", "timestamp_utc": "2024-10-03T10:00:00Z"},
 {"store_id": "h1", "status": "inactive", "timestamp_utc": "2024-10-03T11:00:00Z"},
 {"store_id": "h2", "status": "active", "timestamp_utc": "2024-10-03 10:00:00 UTC"},
 {"store_id": "h1", "status": "active", "timestamp_utc": "2024-10-03T12:00:00+02:00"},
 {"store_id": "h1", "status": "active", "timestamp_utc": "2024-10-03T11:00:00Z"}]
EOF
json "$tmp/b1.json"
is "a JSON batch: 200 JSON" "200 application/json" "$STATUS $CTYPE"
is "... received 5, loaded 3, duplicate 1, rejected 1" '[5,3,1,1]' "$(field '[.received,.loaded,.duplicate,.rejected]')"
is "... the conflicting duplicate: element 4" '[{"index":4,"reason":"conflicting duplicate"}]' "$(field .rejects)"
is "... the polls are in restmon.observation" "h1|2024-10-03 10:00:00+00|t h1|2024-10-03 11:00:00+00|f h2|2024-10-03 10:00:00+00|t" \
	"$(sql "SELECT store_id, observed_at, active FROM restmon.observation ORDER BY 1, 2" | tr '\n' ' ' | sed 's/ $//')"
is "... and restmon.store follows" "h1|2024-10-03 10:00:00+00|2024-10-03 11:00:00+00" \
	"$(sql "SELECT * FROM restmon.store WHERE store_id = 'h1'")"
is "... recorded by the poll role, under a run of source api" "api|restmon_record_polls" \
	"$(sql "SELECT source, file FROM restmon.ingest_run ORDER BY run_id DESC LIMIT 1")"

# the same batch again: every element known now; element 4 still conflicts
json "$tmp/b1.json"
is "the same batch again: 200, nothing new" '[5,0,4,1]' "$(field '[.received,.loaded,.duplicate,.rejected]')"

# --- text/csv: the status file's header and lines ---
printf 'store_id,status,timestamp_utc\nh3,active,2024-10-03 10:00:00 UTC\nh3,bad,2024-10-03 11:00:00 UTC\n' > "$tmp/b2.csv"
post "$tmp/b2.csv" -H 'Content-Type: text/csv'
is "a text/csv batch: 200 JSON" "200 application/json" "$STATUS $CTYPE"
is "... received 2, loaded 1, the bad line (line 3) rejected" '[2,1,[{"line":3,"reason":"unknown status \"bad\" (expected active or inactive)"}]]' \
	"$(field '[.received,.loaded,.rejects]')"
printf 'store_id,status\nh3,active\n' > "$tmp/b3.csv"
post "$tmp/b3.csv" -H 'Content-Type: text/csv; charset=utf-8'
is "a CSV body without a timestamp_utc column: 400 with the reason" "400 22P04" "$STATUS $(field -r .sqlstate)"

# --- nothing valid: 400 with the reasons; hostile elements lose nothing ---
cat > "$tmp/b4.json" <<'EOF'
[{"store_id": null, "status": "active", "timestamp_utc": "2024-10-03T10:00:00Z"},
 {"store_id": "h4", "status": "maybe", "timestamp_utc": "2024-10-03T10:00:00Z"},
 {"store_id": "h4", "status": "active", "timestamp_utc": null},
 {"store_id": "h4", "status": "active", "timestamp_utc": "yesterday"}]
EOF
json "$tmp/b4.json"
is "nothing valid: 400 JSON" "400 application/json" "$STATUS $CTYPE"
is "... with every reason" '["store_id is null","unknown status \"maybe\" (expected active or inactive)","timestamp_utc is null","bad timestamp_utc \"yesterday\""]' \
	"$(field '[.rejects[].reason]')"
is "... each kept in restmon.rejected_row" 4 \
	"$(sql "SELECT count(*) FROM restmon.rejected_row WHERE run_id = (SELECT max(run_id) FROM restmon.ingest_run)")"

# a 1 MB store id among good polls: rejected; the others load
python3 -c "
import json
print(json.dumps([{'store_id': 'x' * 1048000, 'status': 'active', 'timestamp_utc': '2024-10-03T10:00:00Z'},
                  {'store_id': 'h5', 'status': 'active', 'timestamp_utc': '2024-10-03T10:00:00Z'}]))" > "$tmp/b5.json"
json "$tmp/b5.json"
is "a 1 MB store id beside a good poll: 200, one loaded, one rejected" "200 [2,1,1]" "$STATUS $(field '[.received,.loaded,.rejected]')"
is "... the reason gives its length" '"bad store_id \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\" (1048000 bytes): is longer than 255 bytes (raw_line keeps the first 1024 of 1048077 bytes)"' \
	"$(field '.rejects[0].reason')"

# --- bodies that are not a batch ---
before=$(sql "SELECT count(*) FROM restmon.observation")
echo '{"store_id": "h6", "status": "active", "timestamp_utc": "2024-10-03T10:00:00Z"}' > "$tmp/obj.json"
json "$tmp/obj.json"
is "an object, not an array: 400 22023" "400 22023" "$STATUS $(field -r .sqlstate)"
is "... with a clear message" '"polls must be a JSON array, not an object"' "$(field .message)"
printf '[{"store_id": "h6", "status"' > "$tmp/cut.json"
json "$tmp/cut.json"
is "JSON cut short: 400 22P02" "400 22P02" "$STATUS $(field -r .sqlstate)"
json "$tmp/empty.json"
is "an empty array: 200, nothing received" "200 [0,0]" "$STATUS $(field '[.received,.loaded]')"
: > "$tmp/zero.json"
json "$tmp/zero.json"
is "an empty body: 400" "400 application/json" "$STATUS $CTYPE"
printf '[{"store_id": "h6\0"}]' > "$tmp/nul.json"
json "$tmp/nul.json"
is "a NUL byte in the body: 400 22P02" "400 22P02" "$STATUS $(field -r .sqlstate)"
post "$tmp/b1.json" -H 'Content-Type: application/x-www-form-urlencoded'
is "another Content-Type: 415" "415 application/json" "$STATUS $CTYPE"
head -c $((10 * 1024 * 1024)) /dev/zero | tr '\0' ' ' > "$tmp/big.json"
json "$tmp/big.json"
is "a 10 MB body: 413" "413 application/json" "$STATUS $CTYPE"
python3 -c "
import json
print(json.dumps([{'store_id': 'b%d' % i, 'status': 'active', 'timestamp_utc': '2024-10-03T10:00:00Z'} for i in range(20000)]))" > "$tmp/over.json"
json "$tmp/over.json"
is "just over 1 MiB ($(wc -c < "$tmp/over.json") bytes): 413" "413" "$STATUS"
is "none of these bodies recorded anything" "$before" "$(sql "SELECT count(*) FROM restmon.observation")"
python3 -c "
import json
print(json.dumps([{'store_id': 'b%d' % i, 'status': 'active', 'timestamp_utc': '2024-10-03T10:00:00Z'} for i in range(10000)]))" > "$tmp/under.json"
json "$tmp/under.json"
is "a batch of 10,000 polls under 1 MiB ($(wc -c < "$tmp/under.json") bytes): 200, all loaded" "200 10000" "$STATUS $(field .loaded)"
req_get=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/api/polls")
is "GET /api/polls: 405" 405 "$req_get"
printf '%s\t%s\t%s\t%s\n' /api/polls get 405 application/json >> "$tmp/observed"

# --- polls older than the retention edge (the latest poll stored, 2024-10-03
# 11:00 UTC above, minus the default 35 days: operations, retention of
# polls) are valid but not kept: 200, counted as expired, nothing recorded ---
echo '[{"store_id": "h1", "status": "active", "timestamp_utc": "2024-01-01T10:00:00Z"}]' > "$tmp/old.json"
before=$(sql "SELECT count(*) FROM restmon.observation")
json "$tmp/old.json"
is "a batch of expired polls only: 200, expired 1, loaded 0" "200 1 0" "$STATUS $(field .expired) $(field .loaded)"
is "... and nothing recorded" "$before" "$(sql "SELECT count(*) FROM restmon.observation")"

# --- the poll role only: its connection cannot read the tables ---
is "the poll role cannot read restmon.observation" "permission denied for schema restmon" \
	"$(psql -X -At -U restmon_poller_test -c 'SELECT count(*) FROM restmon.observation' 2>&1 | head -1 | sed 's/^ERROR: *//')"

gw_stop

# --- a poll DSN whose role was not granted the poll API: 403, every time ---
gw_start -- --threads 2 --poll-dsn "user=restmon_gateway_test"
json "$tmp/b1.json"
is "a role without restmon_grant_poll_api: 403 42501" "403 42501" "$STATUS $(field -r .sqlstate)"
json "$tmp/b1.json"
is "... and again on the same connection (not a 500)" "403 42501" "$STATUS $(field -r .sqlstate)"
gw_stop

# --- every response seen is in the OpenAPI document ---
openapi_check

echo "1..$n"
[ "$fails" -eq 0 ]
