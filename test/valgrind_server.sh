#!/usr/bin/env bash
# test/valgrind_server.sh: restmon's server code under valgrind's memcheck
# (TAP).  A throwaway cluster whose postmaster, and so every backend and
# worker it forks, runs under valgrind.  On it:
#  - the pgTAP suites that read polls week by week and store by store
#    (observation_weeks.sql, reader_descent.sql) must pass;
#  - a workload through the rest of the server code (a first load, its
#    indexes built by sort; the same file again, every line found stored;
#    a report by 1 and by 2 processes; incidents; a report worker's report
#    and its CSV; live polls; pruning) must give what it gives on the test
#    cluster, outside valgrind;
#  - and valgrind must have found no error in any process.
# test/valgrind.supp suppresses two reports of PostgreSQL's own code: its
# writes of uninitialised padding bytes to its files, and an overlapping
# copy in its regular expression cache; nothing else.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
export RESTMON_CLUSTER=test
eval "$(scripts/cluster.sh env)"
FIX=${RESTMON_FIXTURES:?RESTMON_FIXTURES is not set: run the tests with scripts/test.sh}
. test/tap.sh

if ! command -v valgrind > /dev/null; then
	echo "not ok 1 - valgrind is installed (scripts/lib.sh installs it)"
	exit 1
fi
# a short socket path (at most 107 bytes), owned by the server's user
vg=$(mktemp -d /tmp/restmon-vg.XXXXXX)
chmod 755 "$vg"
[ "$(id -u)" -eq 0 ] && chown postgres: "$vg"
VGPORT=$((CLUSTER_PORT + 7))
vq() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$vg" -p "$VGPORT" -U postgres "$@"; }
server=""
cleanup() {
	[ -n "$server" ] && as_postgres "$PGBIN/pg_ctl" -D "$vg/data" -m immediate stop > /dev/null 2>&1
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS restmon_vg WITH (FORCE)" > /dev/null 2>&1
	rm -rf "$vg"
}
trap cleanup EXIT

as_postgres "$PGBIN/initdb" -D "$vg/data" -A trust -U postgres \
	--encoding=UTF8 --locale=C.UTF-8 > /dev/null
cat >> "$vg/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$vg'
port = $VGPORT
shared_buffers = '32MB'
max_worker_processes = 16
autovacuum = off
# no LLVM: loading it under valgrind reports the dynamic loader's own reads
jit = off
CONF
cp test/valgrind.supp "$vg/valgrind.supp"
as_postgres valgrind --quiet --num-callers=30 --suppressions="$vg/valgrind.supp" \
	--log-file="$vg/valgrind.%p.log" "$PGBIN/postgres" -D "$vg/data" \
	> "$vg/server.log" 2>&1 &
server=$!
for _ in $(seq 300); do
	vq -d postgres -c "SELECT 1" > /dev/null 2>&1 && break
	sleep 0.2
done
is "the cluster starts under valgrind" 1 "$(vq -d postgres -c "SELECT 1" 2>&1)"
vq -d postgres -c "CREATE DATABASE restmon" -c "CREATE DATABASE work"

# the pgTAP suites: every test of the plan passes
for f in observation_weeks reader_descent; do
	PGHOST=$vg PGPORT=$VGPORT pg_prove -d restmon "test/pgtap/$f.sql" > "$vg/$f.tap" 2>&1
	is "pgTAP $f.sql passes under valgrind" "PASS" "$(grep -o 'Result: [A-Z]*' "$vg/$f.tap" | cut -d' ' -f2)"
done

# the workload, here and on the test cluster
work() {
	cat <<SQL
SET client_min_messages = warning;
CREATE EXTENSION restmon;
SET TimeZone = 'UTC';
SELECT rows_loaded FROM restmon_ingest_timezones('$FIX/demo/timezones.csv');
SELECT rows_loaded FROM restmon_ingest_hours('$FIX/demo/menu_hours.csv');
SELECT rows_loaded FROM restmon_ingest_status('$FIX/demo/store_status.csv');
SELECT rows_loaded, rows_duplicate FROM restmon_ingest_status('$FIX/demo/store_status.csv');
SET restmon.report_workers = 1;
SELECT md5(string_agg(r::text, ',' ORDER BY store_id)) FROM restmon_store_uptime() r;
SET restmon.report_workers = 2;
SELECT md5(string_agg(r::text, ',' ORDER BY store_id)) FROM restmon_store_uptime() r;
SELECT count(*), md5(string_agg(i::text, ',' ORDER BY i::text)) FROM restmon_incidents() i;
SELECT restmon_trigger_report() AS id \gset
SELECT restmon_wait_report(:'id');
SELECT md5(restmon_report_csv(:'id'));
SELECT loaded, duplicate FROM restmon_record_polls(jsonb_build_array(
	jsonb_build_object('store_id', 'vg', 'status', 'active',
		'timestamp_utc', restmon_default_as_of() - interval '1 hour'),
	jsonb_build_object('store_id', 'vg', 'status', 'inactive',
		'timestamp_utc', restmon_default_as_of())));
-- 60 days of hourly polls of one store, up to the latest: pruning keeps 35
INSERT INTO restmon.observation
SELECT 'old', restmon_default_as_of() - h * interval '1 hour', h % 3 = 0
FROM generate_series(1, 1440) h;
SELECT restmon_prune_observations(1000000);
SELECT count(*) FROM restmon.observation WHERE store_id = 'old';
SQL
}
s=$(date +%s); work | vq -d work > "$vg/work.vg" 2>&1; echo "# workload: $(($(date +%s) - s)) s"
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS restmon_vg" -c "CREATE DATABASE restmon_vg" > /dev/null
work | psql -X -q -At -v ON_ERROR_STOP=1 -d restmon_vg > "$vg/work.plain" 2>&1
is "the workload's 12 results under valgrind equal the test cluster's" \
	"$(cat "$vg/work.plain")" "$(cat "$vg/work.vg")"
is "... which ran to the end" 12 "$(wc -l < "$vg/work.plain")"

# every process's report: no error
as_postgres "$PGBIN/pg_ctl" -D "$vg/data" -m fast -w -t 120 stop > /dev/null
wait "$server"
server=""
nlogs=$(ls "$vg"/valgrind.*.log | wc -l)
errors=$(cat "$vg"/valgrind.*.log | grep -cE '^==[0-9]+== [A-Z][a-z]')
[ "$errors" -ne 0 ] && cat "$vg"/valgrind.*.log | head -200 | sed 's/^/# /'
is "valgrind found no error in the $nlogs server processes" 0 "$errors"
[ "$fails" -eq 0 ]
