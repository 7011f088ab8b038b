#!/usr/bin/env bash
# test/ops.sh: the procedures of doc/operations.md, run for real against the
# test cluster (TAP).  pg_dump -Fc + pg_restore and a plain pg_dump replayed
# with psql into fresh databases (no error, same figures, reports, rejects,
# runs and sequence); a streaming standby made with pg_basebackup -R (reads
# with the same figures, writes refused with 25006, the gateway on it);
# restmon in several databases scheduled with pg_cron; an ambiguous data
# directory; DROP EXTENSION with a report running and CREATE EXTENSION again
# in the same session.  Run by scripts/test.sh after the other suites.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
export RESTMON_CLUSTER=test
eval "$(scripts/cluster.sh env)"
FIX=${RESTMON_FIXTURES:?RESTMON_FIXTURES is not set: run the tests with scripts/test.sh}

DIR=$(cluster_dir)
SDIR="$DIR/standby"			# the standby cluster: data, socket, log
SPORT=5497
GWPORT=$(( ${RESTMON_TEST_PORT_BASE:-5087} + 1 ))
tmp=$(mktemp -d)
gw_pid=""
DBS="ops_src ops_fc ops_plain ops_drop ops_up ops_up2"

q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }		# q -d DB -c SQL
sq() { psql -X -q -At -h "$SDIR" -p "$SPORT" -v ON_ERROR_STOP=1 "$@"; }

cleanup() {
	[ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null
	if [ -f "$SDIR/data/postmaster.pid" ]; then
		as_postgres "$PGBIN/pg_ctl" -D "$SDIR/data" -m immediate -w stop > /dev/null 2>&1
	fi
	rm -rf "$SDIR" "$tmp"
	for db in $DBS; do
		q -d restmon -c "SELECT cron.unschedule(jobid) FROM cron.job WHERE database = '$db'" > /dev/null 2>&1
		psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" > /dev/null 2>&1
	done
}
trap cleanup EXIT

diag() { sed 's/^/# /'; }	# real output, quoted in doc/operations.md
. test/tap.sh

# every figure of a database: the report at the default T, every report's
# rows and CSV, restmon.store, the rejects and the ingestion runs
FIGURES="
SELECT 'uptime ' || md5(string_agg(u::text, ',' ORDER BY u.store_id))
	FROM restmon_store_uptime() u
UNION ALL SELECT 'as_of ' || restmon_default_as_of()
UNION ALL SELECT 'stores ' || md5(string_agg(s::text, ',' ORDER BY s.store_id))
	FROM restmon.store s
UNION ALL SELECT 'reports ' || md5(string_agg(r::text, ',' ORDER BY r.report_id))
	FROM restmon.report r
UNION ALL SELECT 'report rows ' || count(*) || ' ' || md5(string_agg(r::text, ',' ORDER BY r.report_id, r.store_id))
	FROM restmon.report_row r
UNION ALL SELECT 'csv ' || md5(string_agg(restmon_report_csv(report_id), ',' ORDER BY report_id))
	FROM restmon.report
UNION ALL SELECT 'rejected ' || count(*) || ' ' || md5(string_agg(r::text, ',' ORDER BY r.run_id, r.line_no))
	FROM restmon.rejected_row r
UNION ALL SELECT 'runs ' || count(*) || ' ' || md5(string_agg(r::text, ',' ORDER BY r.run_id))
	FROM restmon.ingest_run r
UNION ALL SELECT 'polls ' || count(*) FROM restmon.observation
UNION ALL SELECT 'hours ' || count(*) FROM restmon.business_hours
UNION ALL SELECT 'zones ' || count(*) FROM restmon.store_timezone"
# since 0.4.0: every store's timeline and the incidents (a 0.2.0 database
# before its upgrade has neither)
TIMELINES="
SELECT 'timelines ' || count(*) || ' ' || md5(string_agg(t::text, ',' ORDER BY s.store_id, t.starts))
	FROM restmon.store s, restmon_store_timeline(s.store_id) t
UNION ALL SELECT 'incidents ' || count(*) || ' ' || md5(string_agg(i::text, ',' ORDER BY i.store_id, i.starts))
	FROM restmon_incidents() i"
figures() {
	q -d "$1" -c "SET TimeZone = 'UTC'" -c "$FIGURES"
	if [ "$(q -d "$1" -c "SELECT to_regproc('restmon_store_timeline') IS NOT NULL")" = t ]; then
		q -d "$1" -c "SET TimeZone = 'UTC'" -c "$TIMELINES"
	fi
}

# --- a database with restmon, data, rejects and reports ---
for db in $DBS; do
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" > /dev/null 2>&1
done
q -d postgres -c "CREATE DATABASE ops_src" > /dev/null
q -d ops_src > /dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION restmon;
SELECT restmon_ingest_timezones('$FIX/loop-2024/timezones.csv');
SELECT restmon_ingest_hours('$FIX/loop-2024/menu_hours.csv');
SELECT restmon_ingest_status('$FIX/loop-2024/store_status_head_1000.csv');
SELECT restmon_ingest_status('$FIX/ingest/status_bad.csv');
SELECT restmon_trigger_report(wait => true);
SELECT restmon_trigger_report(store_id => (SELECT min(store_id) FROM restmon.store), wait => true);
SQL
is "source database: data, rejects and two reports" "2 t t" \
	"$(q -d ops_src -c "SELECT (SELECT count(*) FROM restmon.report WHERE status = 'Complete'), (SELECT count(*) > 0 FROM restmon.rejected_row), (SELECT count(*) > 0 FROM restmon.store)" | tr '|' ' ')"
figures ops_src > "$tmp/src.fig"
last_run=$(q -d ops_src -c "SELECT max(run_id) FROM restmon.ingest_run")

# --- backup and restore: custom format ---
"$PGBIN/pg_dump" -Fc -d ops_src -f "$tmp/ops.dump" 2> "$tmp/dump.err"
is "pg_dump -Fc: exit 0, nothing on stderr" "0 " "$? $(cat "$tmp/dump.err")"
q -d postgres -c "CREATE DATABASE ops_fc" > /dev/null
"$PGBIN/pg_restore" -d ops_fc "$tmp/ops.dump" > "$tmp/restore.out" 2>&1
is "pg_restore into a fresh database: exit 0, no output" "0 " "$? $(cat "$tmp/restore.out")"
figures ops_fc > "$tmp/fc.fig"
{ echo "\$ pg_restore -d ops_fc ops.dump; echo \$?"; echo 0; echo "\$ psql -d ops_fc -c \"\$FIGURES\""; cat "$tmp/fc.fig"; } | diag
is "pg_restore: every figure, timeline, incident, report, CSV, reject and run equal" "$(cat "$tmp/src.fig")" "$(cat "$tmp/fc.fig")"

# --- backup and restore: plain SQL ---
"$PGBIN/pg_dump" -d ops_src -f "$tmp/ops.sql" 2> "$tmp/dump.err"
is "plain pg_dump: exit 0, nothing on stderr" "0 " "$? $(cat "$tmp/dump.err")"
q -d postgres -c "CREATE DATABASE ops_plain" > /dev/null
psql -X -q -v ON_ERROR_STOP=1 -d ops_plain -f "$tmp/ops.sql" > "$tmp/replay.out" 2> "$tmp/replay.err"
is "psql -v ON_ERROR_STOP=1 replays it: exit 0, nothing on stderr" "0 " "$? $(cat "$tmp/replay.err")"
figures ops_plain > "$tmp/plain.fig"
is "plain replay: every figure, timeline, incident, report, CSV, reject and run equal" "$(cat "$tmp/src.fig")" "$(cat "$tmp/plain.fig")"

# the sequence goes on where it was; a new report and ingest work
for db in ops_fc ops_plain; do
	got=$(q -d "$db" -c "SET client_min_messages = warning" \
		-c "SELECT run_id FROM restmon_ingest_status('$FIX/ingest/status_basic.csv')")
	is "$db: a new ingest run after restore gets the next id" "$((last_run + 1))" "$got"
	rid=$(q -d "$db" -c "SELECT restmon_trigger_report()")
	got=$(q -d "$db" -c "SELECT restmon_wait_report('$rid', '60 s')")
	is "$db: a new report after restore completes" "Complete" "$got"
done
is "plain and custom restores still agree after the same changes" \
	"$(figures ops_fc | grep -v '^reports\|^report rows\|^csv\|^runs')" \
	"$(figures ops_plain | grep -v '^reports\|^report rows\|^csv\|^runs')"

# --- upgrade: a 0.2.0 database with data, ALTER EXTENSION restmon UPDATE,
# same figures, and its dump restores cleanly ---
q -d postgres -c "CREATE DATABASE ops_up" > /dev/null
q -d ops_up > /dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION restmon VERSION '0.2.0';
SELECT restmon_ingest_timezones('$FIX/loop-2024/timezones.csv');
SELECT restmon_ingest_hours('$FIX/loop-2024/menu_hours.csv');
SELECT restmon_ingest_status('$FIX/loop-2024/store_status_head_1000.csv');
SQL
figures ops_up > "$tmp/up0.fig"
q -d ops_up -c "ALTER EXTENSION restmon UPDATE" > /dev/null
is "ALTER EXTENSION restmon UPDATE from 0.2.0" "0.4.0" \
	"$(q -d ops_up -c "SELECT extversion FROM pg_extension WHERE extname = 'restmon'")"
figures ops_up > "$tmp/up1.fig"
is "... keeps every figure and run" "$(cat "$tmp/up0.fig")" \
	"$(grep -v '^timelines\|^incidents' "$tmp/up1.fig")"
q -d ops_up -c "SELECT restmon_trigger_report(wait => true)" > /dev/null
figures ops_up > "$tmp/up1.fig"
"$PGBIN/pg_dump" -Fc -d ops_up -f "$tmp/up.dump" &&
	q -d postgres -c "CREATE DATABASE ops_up2" > /dev/null &&
	"$PGBIN/pg_restore" -d ops_up2 "$tmp/up.dump" > "$tmp/restore.out" 2>&1
is "... a report after it, and its dump restores with no error" "0 " "$? $(cat "$tmp/restore.out")"
is "... with the same figures" "$(cat "$tmp/up1.fig")" "$(figures ops_up2)"

# --- several databases, each with its pg_cron jobs (cron.database_name is
# restmon; the others write their jobs through dblink) ---
q -d restmon > /dev/null <<'SQL'
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS restmon CASCADE;
CREATE EXTENSION restmon;
SQL
q -d restmon -c "SELECT * FROM restmon_schedule('$FIX/dir_ok')" > /dev/null
is "restmon_schedule() in pg_cron's database: its three jobs" \
	"restmon-ingest restmon 0 * * * *,restmon-prune restmon 17 3 * * *,restmon-upkeep restmon * * * * *" \
	"$(q -d restmon -c "SELECT string_agg(jobname || ' ' || database || ' ' || schedule, ',' ORDER BY jobname) FROM cron.job WHERE database = 'restmon'")"
got=$(q -d ops_fc -c "SELECT count(*) FROM restmon_schedule('$FIX/dir_ok')" 2>&1)
is "restmon_schedule() elsewhere without dblink: 42704 with a hint" 1 \
	"$(grep -c 'needs the dblink extension' <<< "$got")"
for db in ops_fc ops_plain; do
	q -d "$db" -c "CREATE EXTENSION dblink" > /dev/null
	q -d "$db" -c "SELECT * FROM restmon_schedule('$FIX/dir_ok', '* * * * *')" > "$tmp/sched.$db"
	is "restmon_schedule() in $db: three jobs named for it" \
		"restmon-ingest@$db,restmon-prune@$db,restmon-upkeep@$db" \
		"$(q -d restmon -c "SELECT string_agg(jobname, ',' ORDER BY jobname) FROM cron.job WHERE database = '$db'")"
done
psql -X -d restmon -c "SELECT jobname, database, schedule FROM cron.job ORDER BY database, jobname" | diag
is "the ingest job runs restmon_ingest of the directory given" \
	"SELECT * FROM public.restmon_ingest('$FIX/dir_ok')" \
	"$(q -d restmon -c "SELECT command FROM cron.job WHERE jobname = 'restmon-ingest@ops_fc'")"
is "restmon_unschedule() in pg_cron's database removes its three jobs" 3 \
	"$(q -d restmon -c "SELECT restmon_unschedule()")"
is "... and no other database's" "ops_fc 3,ops_plain 3" \
	"$(q -d restmon -c "SELECT string_agg(database || ' ' || n, ',' ORDER BY database) FROM (SELECT database, count(*) n FROM cron.job GROUP BY 1) j")"
is "restmon_unschedule() in ops_fc removes its three jobs" 3 \
	"$(q -d ops_fc -c "SELECT restmon_unschedule()")"
is "... and leaves ops_plain's" "ops_plain 3" \
	"$(q -d restmon -c "SELECT string_agg(database || ' ' || n, ',' ORDER BY database) FROM (SELECT database, count(*) n FROM cron.job GROUP BY 1) j")"
q -d ops_fc -c "SELECT count(*) FROM restmon_schedule('$FIX/dir_ok')" > /dev/null
q -d ops_fc -c "DROP EXTENSION restmon" -c "CREATE EXTENSION restmon" > /dev/null
is "DROP EXTENSION restmon removes that database's jobs (through dblink), no other's" "0 3" \
	"$(q -d restmon -c "SELECT count(*) FILTER (WHERE database = 'ops_fc') || ' ' || count(*) FILTER (WHERE database = 'ops_plain') FROM cron.job")"
psql -X -d restmon -c "SELECT jobname, database, schedule, command FROM cron.job ORDER BY database, jobname" | diag
q -d restmon -c "DROP EXTENSION restmon" > /dev/null
# ops_plain's jobs stay scheduled every minute: checked below, after the
# standby, that its ingestion ran in ops_plain

# --- an ambiguous data directory ---
mkdir -p "$DIR/ops_both"
cp "$FIX/dir_ok/stores.csv" "$FIX/dir_badhours/store_status.csv" "$DIR/ops_both/"
chown -R postgres: "$DIR/ops_both" 2>/dev/null
got=$(psql -X -At -d ops_src -c "\\set VERBOSITY verbose" -c "SELECT * FROM restmon_ingest('$DIR/ops_both')" 2>&1)
diag <<< "$got"
is "both store_status.csv and stores.csv: error 22023 naming both" 1 \
	"$(grep -c 'ERROR:  22023: both "store_status.csv" and "stores.csv" are in' <<< "$got")"
rm -rf "$DIR/ops_both"

# --- a streaming standby ---
mkdir -p "$SDIR"
chown postgres: "$SDIR" 2>/dev/null
as_postgres "$PGBIN/pg_basebackup" -h "$PGHOST" -p "$PGPORT" -U postgres \
	-D "$SDIR/data" -R -X stream -c fast > "$tmp/basebackup.out" 2>&1
is "pg_basebackup -R of the test cluster" "0" "$?"
as_postgres "$PGBIN/pg_ctl" -D "$SDIR/data" -l "$SDIR/server.log" -w -t 60 \
	-o "-p $SPORT -k $SDIR -c shared_buffers=128MB" start > /dev/null 2>&1
is "the standby starts, in recovery" "t" "$(sq -d ops_src -c "SELECT pg_is_in_recovery()" 2>&1)"
is "it streams from the primary" "streaming" "$(sq -d ops_src -c "SELECT status FROM pg_stat_wal_receiver" 2>&1)"
# a report made on the primary after the copy, then wait for its replay
id=$(q -d ops_src -c "SELECT restmon_trigger_report(wait => true)")
lsn=$(q -d ops_src -c "SELECT pg_current_wal_lsn()")
for _ in $(seq 100); do
	[ "$(sq -d ops_src -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ] && break
	sleep 0.1
done
figures ops_src > "$tmp/primary.fig"
# the standby reads with its own settings: compare in the same time zone
{ sq -d ops_src -c "SET TimeZone = 'UTC'" -c "$FIGURES"
  sq -d ops_src -c "SET TimeZone = 'UTC'" -c "$TIMELINES"; } > "$tmp/standby.fig" 2>&1
is "standby: every figure, timeline, incident, report, CSV, reject and run equal to the primary's" \
	"$(cat "$tmp/primary.fig")" "$(cat "$tmp/standby.fig")"
is "standby: restmon_get_report() of a report made on the primary" \
	"$(q -d ops_src -c "SELECT md5(string_agg(g::text, ',')) FROM restmon_get_report('$id') g")" \
	"$(sq -d ops_src -c "SELECT md5(string_agg(g::text, ',')) FROM restmon_get_report('$id') g" 2>&1)"
is "standby: restmon_report_csv() of it" \
	"$(q -d ops_src -c "SELECT md5(restmon_report_csv('$id'))")" \
	"$(sq -d ops_src -c "SELECT md5(restmon_report_csv('$id'))" 2>&1)"
got=$(psql -X -At -h "$SDIR" -p "$SPORT" -d ops_src -c "\\set VERBOSITY verbose" -c "SELECT restmon_trigger_report()" 2>&1)
diag <<< "$got"
is "standby: restmon_trigger_report() is error 25006 at once" 1 \
	"$(grep -c 'ERROR:  25006: cannot trigger a report on a standby server' <<< "$got")"
is "... with a hint to use the primary" 1 "$(grep -c 'HINT:  Trigger reports on the primary' <<< "$got")"
got=$(psql -X -At -h "$SDIR" -p "$SPORT" -d ops_src -c "\\set VERBOSITY verbose" -c "SELECT * FROM restmon_ingest('$FIX/dir_ok')" 2>&1)
is "standby: restmon_ingest() is error 25006" 1 \
	"$(grep -c 'ERROR:  25006: cannot ingest on a standby server' <<< "$got")"
got=$(psql -X -At -h "$SDIR" -p "$SPORT" -d ops_src -c "\\set VERBOSITY verbose" -c "SELECT restmon_ingest_status('$FIX/ingest/status_basic.csv')" 2>&1)
is "standby: restmon_ingest_status() is error 25006" 1 \
	"$(grep -c 'ERROR:  25006: cannot ingest on a standby server' <<< "$got")"
got=$(psql -X -At -h "$SDIR" -p "$SPORT" -d ops_src -c "\\set VERBOSITY verbose" -c "SELECT restmon_record_poll('s1', 'active', now())" 2>&1)
diag <<< "$got"
is "standby: restmon_record_poll() is error 25006" 1 \
	"$(grep -c 'ERROR:  25006: ' <<< "$got")"

# the gateway on the standby
"$PGBIN/restmon-http" --dsn "host=$SDIR port=$SPORT dbname=ops_src user=postgres" \
	--port "$GWPORT" --threads 2 > "$tmp/gateway.log" 2>&1 &
gw_pid=$!
for _ in $(seq 100); do
	curl -s -o /dev/null "http://127.0.0.1:$GWPORT/api/health" && break
	sleep 0.1
done
got=$(curl -s -o "$tmp/csv" -w '%{http_code} %{content_type}' "http://127.0.0.1:$GWPORT/api/get_report?report_id=$id")
is "gateway on the standby: GET /api/get_report serves the CSV" "200 text/csv" "${got%%;*}"
is "... the primary's CSV" "$(q -d ops_src -c "SELECT restmon_report_csv('$id')")" "$(cat "$tmp/csv")"
got=$(curl -s -o "$tmp/body" -w '%{http_code} %{content_type}' -X POST "http://127.0.0.1:$GWPORT/api/trigger_report")
is "gateway on the standby: POST /api/trigger_report is 503 JSON" "503 application/json" "$got"
{ echo "POST http://127.0.0.1:$GWPORT/api/trigger_report: $got"; cat "$tmp/body"; echo; } | diag
is "... naming the standby and SQLSTATE 25006" \
	"503 25006 cannot trigger a report on a standby server" \
	"$(jq -r '"\(.error_code) \(.sqlstate) \(.message)"' "$tmp/body")"
kill "$gw_pid"
wait "$gw_pid" 2>/dev/null
gw_pid=""
as_postgres "$PGBIN/pg_ctl" -D "$SDIR/data" -m fast -w stop > /dev/null 2>&1
is "the standby stops" 0 $?

# --- ops_plain's ingestion job (every minute): ran in ops_plain ---
ran=""
for _ in $(seq 700); do
	ran=$(q -d restmon -c "SELECT d.status FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname = 'restmon-ingest@ops_plain' AND d.status IN ('succeeded', 'failed') LIMIT 1")
	[ -n "$ran" ] && break
	sleep 0.1
done
is "ops_plain's scheduled ingestion ran" "succeeded" "$ran"
is "... into ops_plain, from the directory it was given" "t" \
	"$(q -d ops_plain -c "SELECT EXISTS (SELECT FROM restmon.ingest_run WHERE file = '$FIX/dir_ok/stores.csv')")"
is "... and not into ops_fc" "f" \
	"$(q -d ops_fc -c "SELECT EXISTS (SELECT FROM restmon.ingest_run WHERE file = '$FIX/dir_ok/stores.csv')")"
is "restmon_unschedule() in ops_plain" 3 "$(q -d ops_plain -c "SELECT restmon_unschedule()")"

# --- DROP EXTENSION with a report running, CREATE EXTENSION again in the
# same session ---
q -d postgres -c "CREATE DATABASE ops_drop" > /dev/null
q -d ops_drop > /dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION restmon;
SELECT restmon_ingest_timezones('$FIX/loop-2024/timezones.csv');
SELECT restmon_ingest_hours('$FIX/loop-2024/menu_hours.csv');
SELECT restmon_ingest_status('$FIX/loop-2024/store_status_head_1000.csv');
SQL
log_lines=$(wc -l < "$DIR/server.log")
got=$(psql -X -q -At -v ON_ERROR_STOP=1 -d ops_drop 2>&1 <<SQL
SET client_min_messages = warning;
SELECT restmon_trigger_report() IS NOT NULL;
SELECT pg_sleep(0.05);
DROP EXTENSION restmon;
SELECT count(*) FROM pg_extension WHERE extname = 'restmon';
CREATE EXTENSION restmon;
SELECT count(*) FROM restmon.report;
SELECT restmon_ingest_status('$FIX/ingest/status_basic.csv') IS NOT NULL;
SELECT restmon_trigger_report() AS rid \gset
SELECT restmon_wait_report(:'rid', '60 s');
SQL
)
is "DROP EXTENSION with a report just triggered, then CREATE EXTENSION in the same session" \
	"t||0|0|t|Complete" "$(tr '\n' '|' <<< "$got" | sed 's/|$//')"
for _ in $(seq 50); do
	[ "$(q -d ops_drop -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'restmon report worker'")" = 0 ] && break
	sleep 0.1
done
is "no report worker is left" 0 \
	"$(q -d ops_drop -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'restmon report worker'")"
is "no worker crashed or was killed" "" \
	"$(tail -n +"$((log_lines + 1))" "$DIR/server.log" | grep -E 'terminated by signal|PANIC|server process .* exited' | head -3)"

echo "1..$n"
[ "$fails" -eq 0 ]
