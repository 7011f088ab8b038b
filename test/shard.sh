#!/usr/bin/env bash
# test/shard.sh: restmon sharded by store over PL/Proxy (doc/scale-out.md),
# in the test cluster: 4 partition databases and a coordinator (restmon +
# restmon_coordinator), against a single-node restmon loaded with the same
# files.  Demo data (scripts/gen_demo.sql) and the public 2024 sample:
# ingestion counts and rejects, every figure of every store (the report at
# two instants, store by store, timelines, incidents, business intervals,
# the asynchronous report and its CSV); per-store calls reach only the
# owning partition (the others refuse connections meanwhile); a partition
# killed mid-report fails the report naming it (08006), and upkeep re-runs
# it once the partition is back (Complete, the single node's CSV), at most
# max_report_retries() times, never a report that failed otherwise;
# ingestion with a partition down fails naming it and converges when the
# file is run again; polls recorded through the coordinator;
# growing from 4 to 8 partitions with scripts/shard_grow.sh.  TAP.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
export RESTMON_CLUSTER=test
eval "$(scripts/cluster.sh env)"
FIX=${RESTMON_FIXTURES:?RESTMON_FIXTURES is not set: run the tests with scripts/test.sh}

P="shard_p0 shard_p1 shard_p2 shard_p3"
P8="shard_p4 shard_p5 shard_p6 shard_p7"
C=shard_coord
S=shard_single
DEMO="$FIX/shard_demo"
NEW="$FIX/shard_new"
lock_pid=""
gw_pid=""

q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }		# q -d DB -c SQL
qe() { psql -X -q -At -v ON_ERROR_STOP=1 "$@" 2>&1 || true; }	# with the error

dropall() {
	for db in $P $P8 $C $S; do
		psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" > /dev/null 2>&1
	done
	psql -X -q -d postgres -c "DROP ROLE IF EXISTS shard_gw" > /dev/null 2>&1
}
cleanup() {
	[ -n "$lock_pid" ] && kill "$lock_pid" 2>/dev/null
	[ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null
	dropall
	rm -rf "$DEMO" "$NEW"
}
trap cleanup EXIT
. test/tap.sh

conn() { printf "'dbname=%s host=%s port=%s'" "$1" "$PGHOST" "$PGPORT"; }

# fresh partitions, coordinator and single node: the databases are made
# once, then the extensions are made again (no checkpoint per database)
setup() {
	local arr=""
	for db in $P $C $S; do
		if [ "$(q -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = '$db'")" = 0 ]; then
			createdb "$db"
		fi
		q -d "$db" -c "DROP EXTENSION IF EXISTS restmon_coordinator; DROP EXTENSION IF EXISTS restmon CASCADE; CREATE EXTENSION restmon" 2> /dev/null
	done
	for db in $P; do arr="$arr,$(conn "$db")"; done
	q -d $C -c "CREATE EXTENSION IF NOT EXISTS plproxy; CREATE EXTENSION restmon_coordinator"
	q -d $C -c "SELECT restmon_cluster_define(ARRAY[${arr#,}])" > /dev/null 2>&1
}

# a partition that refuses connections, its sessions ended (a down server)
down() {
	q -d postgres -c "ALTER DATABASE $1 ALLOW_CONNECTIONS false" \
		-c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$1'" > /dev/null
}
up() { q -d postgres -c "ALTER DATABASE $1 ALLOW_CONNECTIONS true"; }

# the same query on the coordinator and the single node
same() {	# description, SQL
	is "$1" "$(q -d $S -c "$2" | md5sum)" "$(q -d $C -c "$2" | md5sum)"
}

SUMMARY="SELECT regexp_replace(file, '^.*/', '') || ' ' || rows_read || ' ' ||
	rows_loaded || ' ' || rows_duplicate || ' ' || rows_rejected || ' ' || outcome"
REJECTS="SELECT j.source, r.line_no, r.reason, r.raw_line
	FROM restmon.rejected_row r JOIN restmon.ingest_run j USING (run_id)
	ORDER BY 1, 2"
EVERY_STORE="SELECT u.* FROM restmon.store s,
	restmon_store_uptime(NULL, s.store_id) u ORDER BY s.store_id"
STORE_IDS="SELECT store_id FROM restmon.store ORDER BY 1"

# every figure the two answer alike (semantics §4-§6): $1 the data's name
figures() {
	local t2
	t2=$(q -d $S -c "SELECT restmon_default_as_of() - interval '2 days 3 hours'")
	same "$1: the default report instant is the latest poll of all partitions" \
		"SELECT restmon_default_as_of()"
	same "$1: every figure of every store at the default instant" \
		"SELECT * FROM restmon_store_uptime()"
	same "$1: every figure of every store two days earlier" \
		"SELECT * FROM restmon_store_uptime('$t2')"
	# the single node's store list drives the per-store calls on both
	local ids one
	ids=$(q -d $S -c "SELECT string_agg(quote_literal(store_id), ',') FROM restmon.store")
	is "$1: store by store, routed to the owning partition" \
		"$(q -d $S -c "SELECT u.* FROM unnest(ARRAY[$ids]::text[]) s, restmon_store_uptime(NULL, s) u ORDER BY 1" | md5sum)" \
		"$(q -d $C -c "SELECT u.* FROM unnest(ARRAY[$ids]::text[]) s, restmon_store_uptime(NULL, s) u ORDER BY 1" | md5sum)"
	is "$1: every store's timeline" \
		"$(q -d $S -c "SELECT s, t.* FROM unnest(ARRAY[$ids]::text[]) s, restmon_store_timeline(s) t ORDER BY 1, 2" | md5sum)" \
		"$(q -d $C -c "SELECT s, t.* FROM unnest(ARRAY[$ids]::text[]) s, restmon_store_timeline(s) t ORDER BY 1, 2" | md5sum)"
	same "$1: every incident, in restmon_incidents() order" \
		"SELECT * FROM restmon_incidents()"
	same "$1: every incident of at least 1 hour of business time, two days earlier" \
		"SELECT * FROM restmon_incidents('$t2', '1 hour')"
	one=$(q -d $S -c "SELECT store_id FROM restmon.business_hours ORDER BY 1 LIMIT 1")
	same "$1: a store's business intervals" \
		"SELECT * FROM restmon_business_intervals('$one', '$t2'::timestamptz - interval '8 days', '$t2')"
}

# the asynchronous report on both: status, rows and the CSV byte for byte
report_same() {	# description
	local rs rc
	rs=$(q -d $S -c "SELECT restmon_trigger_report(wait => true)")
	rc=$(q -d $C -c "SELECT restmon_trigger_report()")
	is "$1: the report's worker gathers every partition: Complete" \
		"Complete" "$(q -d $C -c "SELECT restmon_wait_report('$rc', '60 s')")"
	is "$1: its CSV equals the single node's byte for byte" \
		"$(q -d $S -c "SELECT restmon_report_csv('$rs')" | md5sum)" \
		"$(q -d $C -c "SELECT restmon_report_csv('$rc')" | md5sum)"
}

# ---------------------------------------------------------------------
# the cluster
# ---------------------------------------------------------------------
setup
is "a cluster of 3 partitions is refused (PL/Proxy: a power of 2)" \
	"ERROR:  22023" "$(qe -d $C -c "\\set VERBOSITY sqlstate" -c "SELECT restmon_cluster_define(ARRAY['a', 'b', 'c'])")"
is "restmon_cluster_status(): 4 partitions, reachable and empty" \
	"0 t 0 0|1 t 0 0|2 t 0 0|3 t 0 0" \
	"$(q -d $C -c "SELECT string_agg(concat_ws(' ', partition, reachable, stores, polls), '|' ORDER BY partition) FROM restmon_cluster_status()")"

# ---------------------------------------------------------------------
# demo data
# ---------------------------------------------------------------------
rm -rf "$DEMO" && mkdir -p "$DEMO"
q -d $S -v outdir="$DEMO" -v stores=300 -v days=8 -v seed=7 \
	-v end_ts='2023-03-12 09:30:00+00' -f scripts/gen_demo.sql > /dev/null
chmod -R a+rX "$DEMO"

is "demo: restmon_ingest() counts on the coordinator equal the single node's" \
	"$(q -d $S -c "$SUMMARY FROM restmon_ingest('$DEMO')")" \
	"$(q -d $C -c "$SUMMARY FROM restmon_ingest('$DEMO')")"
same "demo: the rejected lines are kept on the coordinator, with their line numbers" "$REJECTS"
is "demo: the partitions keep no rejected line and no run" "0" \
	"$(for db in $P; do q -d $db -c "SELECT count(*) FROM restmon.rejected_row"; q -d $db -c "SELECT count(*) FROM restmon.ingest_run"; done | sort -u | tr '\n' ' ' | sed 's/ $//')"
is "demo: the coordinator keeps no store data" "0 0 0 0" \
	"$(q -d $C -c "SELECT concat_ws(' ', (SELECT count(*) FROM restmon.observation), (SELECT count(*) FROM restmon.store), (SELECT count(*) FROM restmon.business_hours), (SELECT count(*) FROM restmon.store_timezone))")"
is "demo: the partitions hold every poll, hour and zone once" \
	"$(q -d $S -c "SELECT concat_ws(' ', (SELECT count(*) FROM restmon.observation), (SELECT count(*) FROM restmon.store), (SELECT count(*) FROM restmon.business_hours), (SELECT count(*) FROM restmon.store_timezone))")" \
	"$(for db in $P; do q -d $db -c "SELECT concat_ws(' ', (SELECT count(*) FROM restmon.observation), (SELECT count(*) FROM restmon.store), (SELECT count(*) FROM restmon.business_hours), (SELECT count(*) FROM restmon.store_timezone))"; done | awk '{a+=$1; b+=$2; c+=$3; d+=$4} END {print a, b, c, d}')"
bad=0
i=0
for db in $P; do
	bad=$((bad + $(q -d $db -c "SELECT count(*) FROM (SELECT store_id FROM restmon.store UNION SELECT store_id FROM restmon.business_hours UNION SELECT store_id FROM restmon.store_timezone) s WHERE hashtext(store_id) & 3 <> $i")))
	i=$((i + 1))
done
is "demo: each partition holds only its stores (hashtext(store_id) & 3)" "0" "$bad"
is "demo: restmon_cluster_status() counts add up to the single node's" \
	"$(q -d $S -c "SELECT (SELECT count(*) FROM restmon.store) || ' ' || (SELECT count(*) FROM restmon.observation)")" \
	"$(q -d $C -c "SELECT sum(stores) || ' ' || sum(polls) FROM restmon_cluster_status()")"
figures demo
report_same demo

# many values a partition: the merge of several sorted runs from each
# partition (doc/scale-out.md, src/gather.c).  restmon.gather_chunk = 1 on
# the partitions makes every store its own value (a value holds whole
# stores, at least one), so each partition sends as many values as it has
# stores with a poll at or before the instant (semantics §6.1), and the
# coordinator merges 300 runs; every figure and incident still equals the
# single node's.  Each q below is a new session, so a new connection to
# each partition, which reads the setting.
for db in $P; do
	q -d postgres -c "ALTER DATABASE $db SET restmon.gather_chunk = 1"
done
T=$(q -d $S -c "SELECT restmon_default_as_of()")
is "many values: one a store, every partition sending several" \
	"$(q -d $S -c "SELECT count(*) FROM restmon.store WHERE first_observed_at <= '$T'") 4" \
	"$(q -d $C -c "SELECT count(*) || ' ' || count(DISTINCT restmon_coordinator.partition_of(
			convert_from(substr(decode(v, 'base64'), 7, get_byte(decode(v, 'base64'), 5)), 'UTF8'), 4))
		FROM restmon_coordinator.all_gather('report', '$T', '0') v")"
same "many values: every figure of every store at the default instant" \
	"SELECT * FROM restmon_store_uptime()"
same "many values: every figure of every store two days earlier" \
	"SELECT * FROM restmon_store_uptime(restmon_default_as_of() - interval '2 days 3 hours')"
same "many values: every incident, in restmon_incidents() order" \
	"SELECT * FROM restmon_incidents()"
same "many values: every incident of at least 1 hour of business time" \
	"SELECT * FROM restmon_incidents(restmon_default_as_of() - interval '2 days 3 hours', '1 hour')"
for db in $P; do
	q -d postgres -c "ALTER DATABASE $db SET restmon.gather_chunk = 200"
done
same "many values: about 200 bytes a value (a few stores each)" \
	"SELECT * FROM restmon_store_uptime()"
for db in $P; do
	q -d postgres -c "ALTER DATABASE $db RESET restmon.gather_chunk"
done

# the HTTP gateway against the coordinator, unchanged: trigger, then the
# CSV once Complete, equal to the single node's report at the same instant
GWPORT=$(( ${RESTMON_TEST_PORT_BASE:-5087} + 4 ))
q -d $C -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'shard_gw') THEN CREATE ROLE shard_gw LOGIN; END IF; END \$\$" \
	-c "SELECT restmon_grant_report_api('shard_gw')" > /dev/null
PGUSER=shard_gw PGDATABASE=$C "$PGBIN/restmon-http" --port "$GWPORT" --threads 2 > /dev/null 2>&1 &
gw_pid=$!
for _ in $(seq 100); do
	curl -s -o /dev/null "http://127.0.0.1:$GWPORT/api/health" && break
	sleep 0.1
done
hid=$(curl -s -X POST "http://127.0.0.1:$GWPORT/api/trigger_report" | jq -r .report_id)
for _ in $(seq 300); do
	ct=$(curl -s -o "$DEMO/http.csv" -w '%{http_code} %{content_type}' "http://127.0.0.1:$GWPORT/api/get_report?report_id=$hid")
	[ "$ct" != "200 application/json" ] && break
	sleep 0.1
done
rs=$(q -d $S -c "SELECT restmon_trigger_report(wait => true)")
is "HTTP on the coordinator: the report's CSV (200 text/csv)" "200 text/csv; charset=utf-8" "$ct"
is "HTTP on the coordinator: the CSV equals the single node's byte for byte" \
	"$(q -d $S -c "SELECT md5(restmon_report_csv('$rs'))")" "$(md5sum < "$DEMO/http.csv" | cut -d' ' -f1)"
kill -TERM "$gw_pid" 2>/dev/null
wait "$gw_pid" 2>/dev/null
gw_pid=""

# per-store calls reach only the owning partition: the others refuse
# connections, a new session has no connection cached
T=$(q -d $S -c "SELECT restmon_default_as_of()")
store=$(q -d $S -c "SELECT store_id FROM restmon.store ORDER BY 1 LIMIT 1")
owner=$(q -d $C -c "SELECT hashtext('$store') & 3")
for i in 0 1 2 3; do [ "$i" != "$owner" ] && down "shard_p$i"; done
is "routing: a store's figures with only its partition up" \
	"$(q -d $S -c "SELECT * FROM restmon_store_uptime('$T', '$store')")" \
	"$(qe -d $C -c "SELECT * FROM restmon_store_uptime('$T', '$store')")"
is "routing: a store's timeline with only its partition up" \
	"$(q -d $S -c "SELECT * FROM restmon_store_timeline('$store', '$T')" | md5sum)" \
	"$(qe -d $C -c "SELECT * FROM restmon_store_timeline('$store', '$T')" | md5sum)"
is "routing: a report of all stores then fails naming a down partition" "yes" \
	"$(qe -d $C -c "SELECT count(*) FROM restmon_store_uptime('$T')" | grep -E '\[shard_p[0-3]\].*not currently accepting connections' > /dev/null && echo yes)"
is "routing: restmon_cluster_status() shows which partitions are down" \
	"$(for i in 0 1 2 3; do [ "$i" = "$owner" ] && printf t || printf f; done)" \
	"$(q -d $C -c "SELECT string_agg(CASE WHEN reachable THEN 't' ELSE 'f' END, '' ORDER BY partition) FROM restmon_cluster_status()")"
for i in 0 1 2 3; do [ "$i" != "$owner" ] && up "shard_p$i"; done
# the idle report worker's connections to the partitions taken down were
# ended there, and PL/Proxy looks at a cached connection only once it has
# been idle 2 s (doc/scale-out.md): a report sooner would fail on one of
# them, not on the partition killed below.  Its report worker is ended, so
# the next report starts one with new connections.
q -d postgres -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
	WHERE datname = '$C' AND backend_type = 'restmon report worker'" > /dev/null
for _ in $(seq 100); do
	[ "$(q -d postgres -c "SELECT count(*) FROM pg_stat_activity
		WHERE datname = '$C' AND backend_type LIKE 'restmon report%'")" = 0 ] && break
	sleep 0.1
done

# a partition killed mid-report: its server process ends while the report
# waits on it (a lock held there); the report is Failed naming it
psql -X -q -d shard_p2 -c "BEGIN; LOCK TABLE restmon.observation IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60)" > /dev/null 2>&1 &
lock_pid=$!
for _ in $(seq 50); do
	[ "$(q -d shard_p2 -c "SELECT count(*) FROM pg_locks WHERE relation = 'restmon.observation'::regclass AND mode = 'AccessExclusiveLock' AND granted")" = 1 ] && break
	sleep 0.1
done
rid=$(q -d $C -c "SELECT restmon_trigger_report('$T')")
for _ in $(seq 100); do
	w=$(q -d shard_p2 -c "SELECT pid FROM pg_stat_activity WHERE datname = 'shard_p2' AND wait_event_type = 'Lock' LIMIT 1")
	[ -n "$w" ] && break
	sleep 0.1
done
is "mid-report: the report's query waits on partition 2" "yes" "$([ -n "$w" ] && echo yes)"
q -d shard_p2 -c "SELECT pg_terminate_backend($w)" > /dev/null
is "mid-report: the report ends Failed" "Failed" \
	"$(q -d $C -c "SELECT restmon_wait_report('$rid', '60 s')")"
is "mid-report: its error names the partition" "yes" \
	"$(q -d $C -c "SELECT error_message FROM restmon.report WHERE report_id = '$rid'" | grep '\[shard_p2\]' > /dev/null && echo yes)"
is "mid-report: restmon_get_report() gives no rows of a Failed report" "0" \
	"$(q -d $C -c "SELECT count(*) FROM restmon.report_row WHERE report_id = '$rid'")"
is "mid-report: classified as a partition that did not answer (08006)" "08006" \
	"$(q -d $C -c "SELECT error_sqlstate FROM restmon.report WHERE report_id = '$rid'")"
kill "$lock_pid" 2>/dev/null
wait "$lock_pid" 2>/dev/null
lock_pid=""
# upkeep (called here, not waited for from pg_cron) re-runs it once every
# partition answers: not while partition 2 refuses connections
down shard_p2
q -d $C -c "SELECT restmon_upkeep()" > /dev/null
is "retry: upkeep leaves it Failed while the partition is down" "Failed 0" \
	"$(q -d $C -c "SELECT r.status || ' ' || count(t.*) FROM restmon.report r LEFT JOIN restmon_coordinator.report_retry t USING (report_id) WHERE r.report_id = '$rid' GROUP BY r.status")"
up shard_p2
q -d $C -c "SELECT restmon_upkeep()" > /dev/null
rs=$(q -d $S -c "SELECT restmon_trigger_report('$T', wait => true)")
is "retry: the partition back, upkeep re-runs the same report: Complete" "Complete" \
	"$(q -d $C -c "SELECT restmon_wait_report('$rid', '60 s')")"
is "retry: same id, same as_of, no error left, retried once" "$T 1" \
	"$(q -d $C -c "SELECT r.as_of || ' ' || t.retries FROM restmon.report r JOIN restmon_coordinator.report_retry t USING (report_id) WHERE r.report_id = '$rid' AND r.error_message IS NULL")"
is "retry: ... with the single node's CSV" \
	"$(q -d $S -c "SELECT restmon_report_csv('$rs')" | md5sum)" \
	"$(q -d $C -c "SELECT restmon_report_csv('$rid')" | md5sum)"

# a partition down at the report instant: Failed at once, naming it; the
# retries are bounded (restmon_coordinator.max_report_retries())
down shard_p1
rid=$(q -d $C -c "SELECT restmon_trigger_report('$T')")
is "partition down: a report is Failed naming it" "Failed 08006 yes" \
	"$(q -d $C -c "SELECT restmon_wait_report('$rid', '60 s')") $(q -d $C -c "SELECT error_sqlstate FROM restmon.report WHERE report_id = '$rid'") $(q -d $C -c "SELECT error_message FROM restmon.report WHERE report_id = '$rid'" | grep '\[shard_p1\]' > /dev/null && echo yes)"
up shard_p1
q -d $C -c "INSERT INTO restmon_coordinator.report_retry VALUES ('$rid', restmon_coordinator.max_report_retries(), now())" \
	-c "SELECT restmon_upkeep()" > /dev/null
is "retry: not once it was retried max_report_retries() times" "Failed" \
	"$(q -d $C -c "SELECT status FROM restmon.report WHERE report_id = '$rid'")"
q -d $C -c "DELETE FROM restmon_coordinator.report_retry WHERE report_id = '$rid'" \
	-c "SELECT restmon_upkeep()" > /dev/null
is "retry: ... and Complete when it was not" "Complete" \
	"$(q -d $C -c "SELECT restmon_wait_report('$rid', '60 s')")"

# a report that failed for another reason is never retried: a partition
# without restmon.partition_gather(), which computes its part of a full
# report (an error of the partition, 42883)
q -d shard_p3 -c "ALTER FUNCTION restmon.partition_gather(text, timestamptz, interval) RENAME TO partition_gather_away"
rid=$(q -d $C -c "SELECT restmon_trigger_report('$T')")
is "another failure: Failed with the partition's own error" "Failed 42883 yes" \
	"$(q -d $C -c "SELECT restmon_wait_report('$rid', '60 s')") $(q -d $C -c "SELECT error_sqlstate FROM restmon.report WHERE report_id = '$rid'") $(q -d $C -c "SELECT error_message FROM restmon.report WHERE report_id = '$rid'" | grep '\[shard_p3\]' > /dev/null && echo yes)"
q -d shard_p3 -c "ALTER FUNCTION restmon.partition_gather_away(text, timestamptz, interval) RENAME TO partition_gather"
q -d $C -c "SELECT restmon_upkeep()" > /dev/null
is "another failure: upkeep does not retry it" "Failed 0" \
	"$(q -d $C -c "SELECT r.status || ' ' || count(t.*) FROM restmon.report r LEFT JOIN restmon_coordinator.report_retry t USING (report_id) WHERE r.report_id = '$rid' GROUP BY r.status")"

# ingestion with a partition down: per-partition commit, then convergence.
# New polls a minute after T for two stores of each partition.
rm -rf "$NEW" && mkdir -p "$NEW"
{
	echo "store_id,status,timestamp_utc"
	q -d $S -c "SELECT store_id || ',active,' || to_char(('$T'::timestamptz + interval '1 minute') AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || ' UTC'
		FROM (SELECT store_id, row_number() OVER (PARTITION BY hashtext(store_id) & 3 ORDER BY store_id) AS k FROM restmon.store) s
		WHERE k <= 2 ORDER BY store_id"
} > "$NEW/store_status.csv"
chmod -R a+rX "$NEW"
runs=$(q -d $C -c "SELECT count(*) FROM restmon.ingest_run")
down shard_p2
is "ingest, partition 2 down: the file's run fails naming it" "yes" \
	"$(qe -d $C -c "SELECT * FROM restmon_ingest_status('$NEW/store_status.csv')" | grep '\[shard_p2\]' > /dev/null && echo yes)"
is "ingest, partition 2 down: nothing of the run is kept on the coordinator" "$runs 0" \
	"$(q -d $C -c "SELECT count(*) FROM restmon.ingest_run") $(q -d $C -c "SELECT count(*) FROM restmon.observation")"
# each partition that was up commits all of its part or none of it (the
# partitions are called concurrently): 0 or 2 new polls, partition 2 none
committed=0
parts=""
for db in shard_p0 shard_p1 shard_p3; do
	k=$(q -d $db -c "SELECT count(*) FROM restmon.observation WHERE observed_at > '$T'")
	committed=$((committed + k))
	parts="$parts$([ "$k" = 0 ] || [ "$k" = 2 ] && echo ok || echo "$db:$k") "
done
up shard_p2
is "ingest, partition 2 down: each partition up has all of its part or none, partition 2 none" \
	"ok ok ok 0" "$parts$(q -d shard_p2 -c "SELECT count(*) FROM restmon.observation WHERE observed_at > '$T'")"
is "ingest, run again: what was missing is loaded, what a partition committed is a duplicate" \
	"store_status.csv 8 $((8 - committed)) $committed 0 loaded" \
	"$(q -d $C -c "$SUMMARY FROM restmon_ingest_status('$NEW/store_status.csv')")"
q -d $S -c "SELECT * FROM restmon_ingest_status('$NEW/store_status.csv')" > /dev/null
same "ingest, run again: the cluster's figures converge to the single node's" \
	"SELECT restmon_default_as_of(), * FROM restmon_store_uptime()"

# polls recorded through the coordinator (restmon_record_polls)
store=$(q -d $S -c "SELECT store_id FROM restmon.store ORDER BY 1 DESC LIMIT 1")
POLL="SELECT loaded, duplicate, rejected FROM restmon_record_polls('[{\"store_id\": \"$store\", \"status\": \"inactive\", \"timestamp_utc\": \"$T\"}, {\"store_id\": \"$store\", \"status\": \"active\", \"timestamp_utc\": \"$(q -d $S -c "SELECT '$T'::timestamptz + interval '2 minutes'")\"}]')"
is "record_polls through the coordinator: the same counts" \
	"$(q -d $S -c "$POLL")" "$(q -d $C -c "$POLL")"
same "record_polls through the coordinator: the store's figures follow" \
	"SELECT * FROM restmon_store_uptime(NULL, '$store')"

# growing from 4 to 8 partitions (the local case of doc/scale-out.md)
is "grow 4 -> 8: scripts/shard_grow.sh succeeds" "0" \
	"$(scripts/shard_grow.sh $C $P > /dev/null 2>&1; echo $?)"
is "grow 4 -> 8: 8 partitions, all reachable, stores add up" \
	"8 8 $(q -d $S -c "SELECT count(*) FROM restmon.store")" \
	"$(q -d $C -c "SELECT count(*) || ' ' || count(*) FILTER (WHERE reachable) || ' ' || sum(stores) FROM restmon_cluster_status()")"
bad=0
i=0
for db in $P $P8; do
	bad=$((bad + $(q -d $db -c "SELECT count(*) FROM (SELECT store_id FROM restmon.store UNION SELECT store_id FROM restmon.business_hours UNION SELECT store_id FROM restmon.store_timezone) s WHERE hashtext(store_id) & 7 <> $i")))
	i=$((i + 1))
done
is "grow 4 -> 8: each partition holds only its stores (hashtext(store_id) & 7)" "0" "$bad"
same "grow 4 -> 8: every figure of every store unchanged" \
	"SELECT restmon_default_as_of(), * FROM restmon_store_uptime()"
same "grow 4 -> 8: every incident unchanged" "SELECT * FROM restmon_incidents()"

# ---------------------------------------------------------------------
# the public 2024 sample
# ---------------------------------------------------------------------
for db in $P8; do
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" > /dev/null 2>&1
done
setup
R="$FIX/loop-2024"
# counts as in test/sql/real_data.sql (expected/real_data.out)
for src in "status:store_status_head_1000.csv:1000 1000 0 0" \
	"status:store_status_head_364_utf8bom.csv:364 0 364 0" \
	"hours:menu_hours.csv:35457 35457 0 0" "timezones:timezones.csv:4559 4559 0 0"; do
	kind=${src%%:*}
	f=${src#*:}
	f=${f%%:*}
	sres=$(q -d $S -c "$SUMMARY FROM restmon_ingest_$kind('$R/$f')")
	cres=$(q -d $C -c "$SUMMARY FROM restmon_ingest_$kind('$R/$f')")
	is "real data: $f through the coordinator: ${src##*:}" "$f ${src##*:} loaded" "$cres"
	is "real data: $f: the same counts on one node" "$sres" "$cres"
done
same "real data: the rejected lines, on the coordinator" "$REJECTS"
figures "real data"
report_same "real data"

echo "1..$n"
[ "$fails" -eq 0 ]
