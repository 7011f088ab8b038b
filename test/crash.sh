#!/usr/bin/env bash
# test/crash.sh: a backend killed (kill -9) in the middle of a status ingest
# leaves nothing half-loaded (semantics §1.5: a file loads whole or not at
# all).  The server restarts through crash recovery; afterwards the polls,
# restmon.store, the rejected lines and the run log are what they were
# before the load began, and the same file then loads in full (TAP).
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
export RESTMON_CLUSTER=test
eval "$(scripts/cluster.sh env)"
FIX=${RESTMON_FIXTURES:?RESTMON_FIXTURES is not set: run the tests with scripts/test.sh}

DB=crash_test
FILE="$FIX/demo/crash_status.csv"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
. test/tap.sh
cleanup() { psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" > /dev/null 2>&1; rm -f "$FILE"; }
trap cleanup EXIT
cleanup
psql -X -q -d postgres -c "CREATE DATABASE $DB" > /dev/null

# 500 stores x 2,000 hourly polls = 1,000,000 lines: long enough to be
# killed while it loads; and 10 polls already stored, which must stay
q > /dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION restmon;
COPY (SELECT 'k' || s AS store_id, 'active' AS status,
             to_char(timestamptz '2023-01-01 00:00 UTC' + h * interval '1 hour',
                     'YYYY-MM-DD HH24:MI:SS') || ' UTC' AS timestamp_utc
      FROM generate_series(1, 500) s, generate_series(1, 2000) h)
TO '$FILE' WITH (FORMAT csv, HEADER);
INSERT INTO restmon.observation
SELECT 'before', timestamptz '2023-01-01 00:00 UTC' + h * interval '1 hour', true
FROM generate_series(1, 10) h;
SQL
state() {
	q -c "SELECT (SELECT count(*) FROM restmon.observation) || ' polls, ' ||
	             (SELECT count(*) FROM restmon.store) || ' stores, ' ||
	             (SELECT count(*) FROM restmon.ingest_run) || ' runs, ' ||
	             (SELECT count(*) FROM restmon.rejected_row) || ' rejects'"
}
before=$(state)
is "before the load" "10 polls, 1 stores, 0 runs, 0 rejects" "$before"

# the load, in its own session; its backend is killed while it runs
psql -X -q -At -d "$DB" -c "SELECT rows_loaded FROM restmon_ingest_status('$FILE')" > /dev/null 2>&1 &
load=$!
pid=""
for _ in $(seq 100); do
	pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE query LIKE '%restmon_ingest_status%' AND pid <> pg_backend_pid() AND state = 'active'")
	[ -n "$pid" ] && break
	sleep 0.05
done
is "the load is running when it is killed" "yes" "$([ -n "$pid" ] && echo yes || echo no)"
sleep 0.3
[ -n "$pid" ] && kill -9 "$pid"
wait "$load" 2>/dev/null

# the postmaster restarts every backend after a crash: wait for it
for _ in $(seq 100); do
	q -c "SELECT 1" > /dev/null 2>&1 && break
	sleep 0.2
done
is "after kill -9 and crash recovery: nothing of the file" "$before" "$(state)"

is "the same file then loads in full" "1000000" \
	"$(q -c "SELECT rows_loaded FROM restmon_ingest_status('$FILE')")"
is "... next to what was there" "1000010 polls, 501 stores, 1 runs, 0 rejects" "$(state)"
echo "1..$n"
