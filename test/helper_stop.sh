#!/usr/bin/env bash
# test/helper_stop.sh: a report worker's kept helper (src/report_helper.c)
# does not hold up a server shutdown: with a report worker and its helper
# waiting idle (restmon.report_worker_idle = 20s, restmon.report_workers =
# 2), pg_ctl stop -m fast succeeds (it waits at most its own 60 s) and
# neither process is left; the server then starts again (TAP).  Sets the
# two settings with ALTER SYSTEM and resets them.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
export RESTMON_CLUSTER=test
eval "$(scripts/cluster.sh env)"
FIX=${RESTMON_FIXTURES:?RESTMON_FIXTURES is not set: run the tests with scripts/test.sh}

DB=helper_stop_test
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
. test/tap.sh
reset() {
	psql -X -q -d postgres -c "LOAD 'restmon'" \
		-c "ALTER SYSTEM RESET restmon.report_worker_idle" \
		-c "ALTER SYSTEM RESET restmon.report_workers" \
		-c "SELECT pg_reload_conf()" > /dev/null 2>&1
}
cleanup() {
	scripts/cluster.sh start > /dev/null 2>&1
	reset
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" > /dev/null 2>&1
}
trap cleanup EXIT
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" > /dev/null 2>&1
psql -X -q -d postgres -c "CREATE DATABASE $DB" > /dev/null

# the pgTAP suites' data: 850 stores, enough for 2 processes
q > /dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION restmon;
SELECT count(*) FROM restmon_ingest_timezones('$FIX/loop-2024/timezones.csv');
SELECT count(*) FROM restmon_ingest_hours('$FIX/loop-2024/menu_hours.csv');
SELECT count(*) FROM restmon_ingest_status('$FIX/loop-2024/store_status_head_1000.csv');
ALTER SYSTEM SET restmon.report_worker_idle = '20s';
ALTER SYSTEM SET restmon.report_workers = 2;
SELECT pg_reload_conf();
SELECT pg_sleep(0.3);
SQL

id=$(q -c "SELECT restmon_trigger_report()")
is "a report computed with a helper completes" "Complete" \
	"$(q -c "SELECT restmon_wait_report('$id', '60 s')")"
procs() {	# the report worker and helper of the test database, waited for
	q -c "DO \$\$ BEGIN
		FOR i IN 1 .. 250 LOOP
			EXIT WHEN (SELECT count(*) FROM pg_stat_activity
			           WHERE backend_type LIKE 'restmon report %'
			             AND datname = current_database() AND state = 'idle') = 2;
			PERFORM pg_sleep(0.02);
			PERFORM pg_stat_clear_snapshot();
		END LOOP; END \$\$" \
		-c "SELECT string_agg(backend_type || ':' || state, ' ' ORDER BY backend_type DESC)
		    FROM pg_stat_activity
		    WHERE backend_type LIKE 'restmon report %' AND datname = current_database()"
}
is "its worker and helper wait idle" \
	"restmon report worker:idle restmon report helper:idle" "$(procs)"
pids=$(q -c "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity
             WHERE backend_type LIKE 'restmon report %' AND datname = current_database()")

scripts/cluster.sh stop
is "pg_ctl stop -m fast with an idle worker and helper succeeds" "0" "$?"
left=0
for p in $pids; do [ -d "/proc/$p" ] && left=$((left + 1)); done
is "neither process is left" "0" "$left"
scripts/cluster.sh start > /dev/null
is "the server starts again" "1" "$(q -c "SELECT 1")"

echo "1..$n"
[ "$fails" -eq 0 ]
