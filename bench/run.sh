#!/usr/bin/env bash
# bench/run.sh (make bench): measures restmon on its own cluster
# (RESTMON_CLUSTER=bench, recreated) and writes bench/RESULTS.md.
# Every ratio compares two figures measured in this same run.
#
#   STORES=14000  stores in the reference dataset (8 days of ~hourly polls)
#   HISTORY=20    older copies of those 8 days added for the history test
#   SCALES="1 4 16"  store-count multiples for the scaling test
#   RUNS=3        runs per timing (the median is reported)
#   WRK_SECS=10   seconds per HTTP load run
#   SHARDS="1 2 4"  partition counts for the sharded test (PL/Proxy)
#   POLL_BATCHES=300  batches of 1,000 polls for the record_polls measure
#   SMOKE=1       tiny sizes, for a quick check that everything runs
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
export RESTMON_CLUSTER=bench

if [ "${SMOKE:-0}" = 1 ]; then
	STORES=${STORES:-300}; HISTORY=${HISTORY:-2}; SCALES=${SCALES:-"1 2"}
	RUNS=${RUNS:-1}; WRK_SECS=${WRK_SECS:-1}; POLL_BATCHES=${POLL_BATCHES:-10}
fi
POLL_BATCHES=${POLL_BATCHES:-300}
STORES=${STORES:-14000}
HISTORY=${HISTORY:-20}
SCALES=${SCALES:-"1 4 16"}
RUNS=${RUNS:-3}
WRK_SECS=${WRK_SECS:-10}
END_TS='2023-01-25 18:00:00+00'

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
install_packages
command -v wrk > /dev/null || { [ "$(id -u)" -eq 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk > /dev/null; }
build_and_install
scripts/cluster.sh destroy
scripts/cluster.sh start > /dev/null
eval "$(scripts/cluster.sh env)"
# restmon preloaded, as doc/operations.md ("Preloading restmon") advises
# for a server that runs reports: no library load in each new session
# and each parallel worker
psql -X -q -d postgres -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_cron', 'restmon'"
# shared_buffers a quarter of the memory, PostgreSQL's advice for a server
# of its own (scripts/cluster.sh's 1GB is for a laptop's demo): the
# scaling test's 16x key (2.3 GB) then fits, so its report
# measures restmon rather than pages copied in from the OS's cache (with
# 1GB: 37 ns a poll against 24 ns at 1x, 2 processes)
SB_MB=$(awk '/MemTotal/ {printf "%d", $2 / 4 / 1024}' /proc/meminfo)
psql -X -q -d postgres -c "ALTER SYSTEM SET shared_buffers = '${SB_MB}MB'"
# and the sorts of index builds in memory: with the default 64MB, the first
# load's key is sorted on disk (doc/operations.md, "A first load")
psql -X -q -d postgres -c "ALTER SYSTEM SET maintenance_work_mem = '1GB'"
scripts/cluster.sh stop > /dev/null
scripts/cluster.sh start > /dev/null
PRELOAD=$(psql -X -At -d postgres -c "SHOW shared_preload_libraries")
DIR=$(cluster_dir)
DATA="$DIR/data-bench"
mkdir -p "$DATA"
[ "$(id -u)" -eq 0 ] && chown postgres: "$DATA"
chmod a+rwx "$DATA"
results=$(mktemp)
log() { echo "$*" >&2; }

# ms SQL...: the time of the last statement, in milliseconds
ms() {
	psql -X -q -v ON_ERROR_STOP=1 "$@" -c '\timing on' -c "$LAST" 2>&1 |
		sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
}
timed() {	# db sql: runs it RUNS times, prints the median ms
	local db=$1 sql=$2 all=""
	for _ in $(seq "$RUNS"); do
		LAST=$sql
		all="$all $(ms -d "$db")"
	done
	tr ' ' '\n' <<< "$all" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
row() { printf '| %s | %s | %s | %s | %s |\n' "$@" >> "$results"; }
q() { psql -X -At -v ON_ERROR_STOP=1 "$@"; }

log "generating $STORES stores x 8 days"
q -d postgres -v outdir="$DATA" -v stores="$STORES" -v bad_rows=0 \
	-v end_ts="$END_TS" -f scripts/gen_demo.sql > /dev/null
chmod -R a+r "$DATA"
POLLS=$(($(wc -l < "$DATA/store_status.csv") - 1))

fresh() {	# db: a new database with restmon, hours and zones loaded
	q -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" > /dev/null
	q -d "$1" -c "SET client_min_messages = warning; CREATE EXTENSION restmon" \
		-c "SELECT restmon_ingest_timezones('$DATA/timezones.csv')" \
		-c "SELECT restmon_ingest_hours('$DATA/menu_hours.csv')" > /dev/null
}

# --- 1. ingest vs plain COPY ---
log "ingest"
# the floors: COPY of the same file into an unindexed table of text columns
# (the cost of reading the file at all), and into one of typed columns
COPY_TEXT_SQL="COPY plain_text FROM '$DATA/store_status.csv' (FORMAT csv, HEADER)"
COPY_SQL="COPY plain FROM '$DATA/store_status.csv' (FORMAT csv, HEADER)"
ing_all=""
copy_all=""
copyt_all=""
for _ in $(seq "$RUNS"); do
	fresh b_ingest
	LAST="SELECT rows_loaded FROM restmon_ingest_status('$DATA/store_status.csv')"
	ing_all="$ing_all $(ms -d b_ingest)"
	q -d b_ingest -c "CREATE TABLE plain (store_id text, status text, timestamp_utc timestamptz)" \
		-c "CREATE TABLE plain_text (store_id text, status text, timestamp_utc text)" > /dev/null
	LAST=$COPY_SQL
	copy_all="$copy_all $(ms -d b_ingest)"
	LAST=$COPY_TEXT_SQL
	copyt_all="$copyt_all $(ms -d b_ingest)"
done
med() { tr ' ' '\n' <<< "$1" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# trigger_times db as_of: RUNS + 1 reports (as_of '' for the default), one
# after another, each line "ms id", ms being finished_at - requested_at.
# Each is triggered and waited for in one session, as a connected client
# does: a psql started while the report runs would take one of the cores
# from it (measured: 79-82 ms against 60-66 ms).  The first starts a
# report worker; the later ones find it idle (restmon.report_worker_idle,
# doc/operations.md), and the median is of those.
trigger_times() {
	for _ in $(seq $((RUNS + 1))); do
		echo "SELECT restmon_trigger_report(${2:+'$2'}) AS id \\gset"
		echo "SELECT restmon_wait_report(:'id') \\g /dev/null"
		echo "SELECT round(extract(epoch FROM finished_at - requested_at) * 1000, 1), report_id FROM restmon.report WHERE report_id = :'id';"
	done | q -F ' ' -d "$1"
}
warm_median() { med "$(tail -n +2 <<< "$1" | cut -d' ' -f1 | tr '\n' ' ')"; }
ING=$(med "$ing_all")
COPY=$(med "$copy_all")
COPY_TEXT=$(med "$copyt_all")

# the reference database: one clean ingest.  Every database is vacuumed
# before it is measured, as autovacuum leaves a table that has been loaded
# (the visibility map is set, so index-only reads skip the heap), and a
# checkpoint writes the load out first, so no timing shares the 2 cores
# with the checkpointer.
fresh b_ref
q -d b_ref -c "SELECT restmon_ingest_status('$DATA/store_status.csv')" -c "VACUUM ANALYZE" -c "CHECKPOINT" > /dev/null
T=$(q -d b_ref -c "SELECT restmon_default_as_of()")

# --- 1b. an hourly increment: one new hour of polls for every store (one
# poll each, an hour after its latest) into a copy of b_ref holding the
# week, against COPY of the same file into an unindexed table of text
# columns in that database ---
log "ingest: hourly increment"
q -d b_ref -c "COPY (SELECT store_id,
		CASE WHEN hashtext(store_id) % 5 = 0 THEN 'inactive' ELSE 'active' END AS status,
		to_char((last_observed_at + interval '1 hour') AT TIME ZONE 'UTC',
		        'YYYY-MM-DD HH24:MI:SS.US') || ' UTC' AS timestamp_utc
	FROM restmon.store ORDER BY hashtext(store_id))
	TO '$DATA/increment.csv' WITH (FORMAT csv, HEADER)" > /dev/null
INC_POLLS=$(($(wc -l < "$DATA/increment.csv") - 1))
inc_all=""
incc_all=""
inck_all=""
incu_all=""
# the cheapest way to add the increment to a table keyed as
# restmon.observation is, holding the same week (its key built by
# sort, as restmon's first load builds it): the COPY above, then one INSERT
KEYED_SQL="CREATE TABLE keyed AS SELECT store_id, observed_at, active FROM restmon.observation ORDER BY restmon.observation_week(observed_at), store_id, observed_at"
KEYED_INDEX_SQL="CREATE UNIQUE INDEX ON keyed (restmon.observation_week(observed_at), store_id, observed_at) INCLUDE (active)"
# the floor of any table that keeps (store, instant) unique as rows come:
# COPY of the increment into an empty table with a unique key on them
UNIQ_SQL="CREATE TABLE uniq_empty (store_id text COLLATE \"C\" NOT NULL, status text NOT NULL, observed_at timestamptz NOT NULL, UNIQUE (store_id, observed_at))"
UNIQ_COPY_SQL="COPY uniq_empty FROM '…/increment.csv' (FORMAT csv, HEADER)"
KEYED_INSERT_SQL="INSERT INTO keyed SELECT store_id, timestamp_utc::timestamptz, status = 'active' FROM plain_text ORDER BY restmon.observation_week(timestamp_utc::timestamptz), 1, 2"
for _ in $(seq "$RUNS"); do
	q -d postgres -c "DROP DATABASE IF EXISTS b_inc" -c "CREATE DATABASE b_inc TEMPLATE b_ref" > /dev/null
	q -d b_inc -c "CREATE TABLE plain_text (store_id text, status text, timestamp_utc text)" \
		-c "$KEYED_SQL" -c "$KEYED_INDEX_SQL" -c "$UNIQ_SQL" \
		-c "VACUUM ANALYZE keyed" \
		-c "SELECT count(*) FROM restmon.observation" -c "CHECKPOINT" > /dev/null
	LAST="SELECT rows_loaded FROM restmon_ingest_status('$DATA/increment.csv')"
	inc_all="$inc_all $(ms -d b_inc)"
	LAST="COPY plain_text FROM '$DATA/increment.csv' (FORMAT csv, HEADER)"
	c=$(ms -d b_inc)
	incc_all="$incc_all $c"
	LAST=$KEYED_INSERT_SQL
	k=$(ms -d b_inc)
	inck_all="$inck_all $(awk -v a="$c" -v b="$k" 'BEGIN {printf "%.3f", a + b}')"
	LAST="COPY uniq_empty FROM '$DATA/increment.csv' (FORMAT csv, HEADER)"
	incu_all="$incu_all $(ms -d b_inc)"
done
INC=$(med "$inc_all")
INC_COPY=$(med "$incc_all")
INC_KEYED=$(med "$inck_all")
INC_UNIQ=$(med "$incu_all")
q -d postgres -c "DROP DATABASE IF EXISTS b_inc" > /dev/null

# --- 2. report vs the floor ---
# The floor: reading exactly the horizon rows once, from a plain unindexed
# table holding only them (no count(DISTINCT ...), which adds a sort),
# serially and with PostgreSQL's parallel scan on every core.  restmon:
# the report computed by 1 process and by one per core
# (restmon.report_workers), and by one per core pinned to a single core.
log "report"
NPROC=$(nproc)
q -d b_ref -c "CREATE TABLE horizon_plain AS SELECT store_id, observed_at AS ts, active
	FROM restmon.observation
	WHERE observed_at > '$T'::timestamptz - interval '192 hours' AND observed_at <= '$T'" \
	-c "VACUUM ANALYZE horizon_plain" -c "CHECKPOINT" > /dev/null
floor_sql="SELECT count(*), sum(active::int), max(ts) FROM horizon_plain"
report_sql="SELECT count(*) FROM restmon_store_uptime()"
FORCE_PAR="-c parallel_setup_cost=0 -c parallel_tuple_cost=0 -c min_parallel_table_scan_size=0"
timed b_ref "$floor_sql" > /dev/null	# warm the cache
FLOOR_SERIAL=$(PGOPTIONS="-c max_parallel_workers_per_gather=0" timed b_ref "$floor_sql")
# parallel: the leader and NPROC - 1 or NPROC workers, whichever is faster
fp1=$(PGOPTIONS="$FORCE_PAR -c max_parallel_workers_per_gather=$((NPROC - 1))" timed b_ref "$floor_sql")
fp2=$(PGOPTIONS="$FORCE_PAR -c max_parallel_workers_per_gather=$NPROC" timed b_ref "$floor_sql")
FLOOR=$(awk -v a="$fp1" -v b="$fp2" 'BEGIN {print (a < b ? a : b)}')
FLOOR_PLAN=$(PGOPTIONS="$FORCE_PAR -c max_parallel_workers_per_gather=$NPROC" q -d b_ref -c "EXPLAIN (COSTS off) $floor_sql" | grep -o 'Workers Planned: [0-9]*' || echo "no parallel plan")
REPORT_1=$(PGOPTIONS="-c restmon.report_workers=1" timed b_ref "$report_sql")
REPORT=$(PGOPTIONS="-c restmon.report_workers=$NPROC" timed b_ref "$report_sql")
# every new backend inherits the postmaster's affinity
PM=$(head -1 "$DIR/data/postmaster.pid")
if command -v taskset > /dev/null && taskset -pc 0 "$PM" > /dev/null 2>&1; then
	REPORT_PIN=$(PGOPTIONS="-c restmon.report_workers=$NPROC" timed b_ref "$report_sql")
	REPORT_PIN_1=$(PGOPTIONS="-c restmon.report_workers=1" timed b_ref "$report_sql")
	FLOOR_PIN=$(PGOPTIONS="-c max_parallel_workers_per_gather=0" timed b_ref "$floor_sql")
	taskset -pc "0-$((NPROC - 1))" "$PM" > /dev/null
else
	REPORT_PIN="-"; REPORT_PIN_1="-"; FLOOR_PIN="-"
fi
# report workers (trigger -> Complete) use the server's setting
q -d b_ref -c "LOAD 'restmon'" -c "ALTER SYSTEM SET restmon.report_workers = $NPROC" -c "SELECT pg_reload_conf()" > /dev/null
trig_lines=$(trigger_times b_ref "")
TRIG_COLD=$(head -1 <<< "$trig_lines" | cut -d' ' -f1)
TRIG=$(warm_median "$trig_lines")
CSV_ID=$(tail -1 <<< "$trig_lines" | cut -d' ' -f2)

# --- 2b. incidents of every store (issue 14): the report's scan and the
# core's timeline per store; target within 2x the report ---
log "incidents"
INCIDENTS=$(timed b_ref "SELECT count(*) FROM restmon_incidents()")
NINC=$(q -d b_ref -c "SELECT count(*) FROM restmon_incidents()")

# --- 3. the pure-SQL reference implementation ---
log "reference SQL (slow)"
q -d b_ref -f bench/reference.sql > /dev/null
LAST="SELECT count(*) FROM bench.reference_report('$T')"
REF=$(ms -d b_ref)
diff_ref() {	# processes: stores whose figures differ from the reference's
	PGOPTIONS="-c restmon.report_workers=$1" q -d b_ref -c "
	WITH r AS (SELECT store_id, uptime_last_hour, uptime_last_day, uptime_last_week,
	                  downtime_last_hour, downtime_last_day, downtime_last_week
	           FROM restmon_store_uptime('$T')),
	     s AS (SELECT * FROM bench.reference_report('$T'))
	SELECT (SELECT count(*) FROM (SELECT * FROM r EXCEPT SELECT * FROM s) a)
	     + (SELECT count(*) FROM (SELECT * FROM s EXCEPT SELECT * FROM r) b)
	     + abs((SELECT count(*) FROM r) - (SELECT count(*) FROM s))"
}
DIFF_1=$(diff_ref 1)
DIFF=$(diff_ref "$NPROC")
STORES_REPORTED=$(q -d b_ref -c "SELECT count(*) FROM restmon_store_uptime('$T')")

# --- 4. scaling and memory: the same 8 days for 1x, 4x, 16x the stores ---
# The clones go into the middle of restmon.observation_key, whose leaves split in
# half there (the 16x index: 3.8 GB against 2.3 GB); it is rebuilt after
# them, sorted, as the 1x one was built by its first load, so that each
# scale is read from the same layout.
log "scaling"
scale_rows=""
prev=1
q -d postgres -c "DROP DATABASE IF EXISTS b_scale" -c "CREATE DATABASE b_scale TEMPLATE b_ref" > /dev/null
for k in $SCALES; do
	if [ "$k" -gt "$prev" ]; then
		# clones of every store, with its hours and zone, as store_id~c
		q -d b_scale -c "
			INSERT INTO restmon.business_hours
			SELECT h.store_id || '~' || c, h.day_of_week, h.start_local, h.end_local
			FROM restmon.business_hours h, generate_series($prev, $((k - 1))) c
			WHERE h.store_id NOT LIKE '%~%'" \
			-c "INSERT INTO restmon.store_timezone
			SELECT z.store_id || '~' || c, z.timezone
			FROM restmon.store_timezone z, generate_series($prev, $((k - 1))) c
			WHERE z.store_id NOT LIKE '%~%'" \
			-c "INSERT INTO restmon.observation
			SELECT o.store_id || '~' || c, o.observed_at, o.active
			FROM restmon.observation o, generate_series($prev, $((k - 1))) c
			WHERE o.store_id NOT LIKE '%~%'
			ORDER BY 1, 2" -c "REINDEX INDEX restmon.observation_key" \
			-c "VACUUM ANALYZE" -c "CHECKPOINT" > /dev/null
		prev=$k
	fi
	rows=$(q -d b_scale -c "SELECT count(*) FROM restmon.observation")
	t=$(timed b_scale "$report_sql")
	# peak resident memory of the backend that computed the report
	mem=$(q -d b_scale -c "SELECT count(*) FROM restmon_store_uptime()" -c "
		SELECT (substring(s FROM 'VmHWM:\s+(\d+)')::bigint
		        - substring(s FROM 'RssShmem:\s+(\d+)')::bigint) / 1024
		FROM pg_read_file('/proc/self/status') s" | tail -1)
	ns=$(awk -v t="$t" -v r="$rows" 'BEGIN {printf "%.0f", t * 1e6 / r}')
	scale_rows="$scale_rows$k|$((STORES * k))|$rows|$t|$ns|$mem"$'\n'
done

# --- 4b. the same 8 days as hourly loads leave them: the first day at
# once, then hour by hour, each hour's polls in key order as an ingestion
# inserts them.  Every insert lands at the end of a store's range, inside
# the key (in the newest week's range), where a full leaf splits in half, so the leaves end
# about 60% full against the first load's 90% (doc/operations.md, "What
# the retention costs a report"): the 8 days a server that loads hourly
# keeps, the baseline for the history pruned below, whose leaves were
# split in half too (older polls inserted in front of newer ones) ---
log "8 days loaded hour by hour"
q -d postgres -c "DROP DATABASE IF EXISTS b_hourly" -c "CREATE DATABASE b_hourly TEMPLATE b_ref" > /dev/null
q -d b_hourly -c "CREATE TABLE hourly_src AS SELECT * FROM restmon.observation" \
	-c "TRUNCATE restmon.observation" -c "
	INSERT INTO restmon.observation SELECT * FROM hourly_src
	WHERE observed_at < (SELECT min(observed_at) FROM hourly_src) + interval '1 day'
	ORDER BY 1, 2" -c "
	DO \$\$
	DECLARE t timestamptz; t_end timestamptz;
	BEGIN
		SELECT min(observed_at) + interval '1 day', max(observed_at)
		INTO t, t_end FROM hourly_src;
		WHILE t <= t_end LOOP
			INSERT INTO restmon.observation SELECT * FROM hourly_src
			WHERE observed_at >= t AND observed_at < t + interval '1 hour'
			ORDER BY 1, 2;
			t := t + interval '1 hour';
		END LOOP;
	END \$\$" -c "DROP TABLE hourly_src" -c "VACUUM ANALYZE" -c "CHECKPOINT" > /dev/null
HOURLY_ROWS=$(q -d b_hourly -c "SELECT count(*) FROM restmon.observation")

# --- 5. history: 20x older rows for the same stores ---
log "history"
q -d postgres -c "DROP DATABASE IF EXISTS b_history" -c "CREATE DATABASE b_history TEMPLATE b_ref" > /dev/null
q -d b_history -c "
	INSERT INTO restmon.observation
	SELECT o.store_id, o.observed_at - k * interval '8 days', o.active
	FROM restmon.observation o, generate_series(1, $HISTORY) k
	ORDER BY 1, 2" -c "VACUUM ANALYZE" -c "CHECKPOINT" > /dev/null
HROWS=$(q -d b_history -c "SELECT count(*) FROM restmon.observation")
# paired db_a db_b sql: after one warm run of each, max(RUNS, 5) pairs,
# a then b and b then a by turns (so drift and the load of the others
# sharing the cores hit both alike); prints the two medians, a's and b's
paired() {
	local a=$1 b=$2 n=$RUNS all_a="" all_b="" i
	[ "$n" -lt 5 ] && n=5
	LAST=$3
	ms -d "$a" > /dev/null
	ms -d "$b" > /dev/null
	for i in $(seq "$n"); do
		if [ $((i % 2)) = 1 ]; then
			all_a="$all_a $(ms -d "$a")"; all_b="$all_b $(ms -d "$b")"
		else
			all_b="$all_b $(ms -d "$b")"; all_a="$all_a $(ms -d "$a")"
		fi
	done
	echo "$(med "$all_a") $(med "$all_b")"
}
PAIRS=$((RUNS < 5 ? 5 : RUNS))
read -r HIST REPORT_AGAIN <<< "$(paired b_history b_ref "$report_sql")"
HIST_LOAD=$(cut -d' ' -f1 /proc/loadavg)
# the same pairs after a restart: the buffer pool empty, each database's
# pages read back by its warm run (right after the load the history has
# measured 1.57x to 1.87x, after a restart 1.33x to 1.42x:
# doc/operations.md, "The buffer pool after a bulk load")
scripts/cluster.sh stop > /dev/null
scripts/cluster.sh start > /dev/null
read -r HIST_RESTART REPORT_RESTART <<< "$(paired b_history b_ref "$report_sql")"
HIST_RESTART_LOAD=$(cut -d' ' -f1 /proc/loadavg)

# --- 5b. retention: that history pruned to restmon.observation_retention
# (its default, 35 days) in batches of PRUNE_BATCH, as restmon_upkeep()
# does them (50,000 each), then the report again ---
log "pruning"
# Autovacuum is off for the table meanwhile: its VACUUM after the first
# batches' deletes would hold a lock that pruning never waits for (a batch
# then deletes nothing and says so in a NOTICE; the loop waits 1 s and
# calls again, IN_USE counts those calls, the wait is in the time).
PRUNE_BATCH=${PRUNE_BATCH:-1000000}
q -d b_history -c "ALTER TABLE restmon.observation SET (autovacuum_enabled = off)" > /dev/null
t0=$(date +%s%N)
PRUNED=0
BATCH_MAX=0
IN_USE=0
while :; do
	b0=$(date +%s%N)
	out=$(q -d b_history -c "SELECT restmon_prune_observations($PRUNE_BATCH)" 2>&1)
	b=$((($(date +%s%N) - b0) / 1000000))
	n=$(tail -1 <<< "$out")
	if [ "$n" -eq 0 ] && grep -q "nothing pruned" <<< "$out"; then
		IN_USE=$((IN_USE + 1))
		sleep 1
		continue
	fi
	[ "$b" -gt "$BATCH_MAX" ] && BATCH_MAX=$b
	PRUNED=$((PRUNED + n))
	[ "$n" -eq 0 ] && break
done
PRUNE_MS=$((($(date +%s%N) - t0) / 1000000))
q -d b_history -c "ALTER TABLE restmon.observation RESET (autovacuum_enabled)" \
	-c "VACUUM ANALYZE restmon.observation" -c "CHECKPOINT" > /dev/null
PROWS=$(q -d b_history -c "SELECT count(*) FROM restmon.observation")
# the pruned history and the 8 days, by turns, in the same machine state
read -r HIST_PRUNED REPORT_PRUNED_REF <<< "$(paired b_history b_ref "$report_sql")"
PRUNED_LOAD=$(cut -d' ' -f1 /proc/loadavg)
# and against the 8 days loaded hour by hour (4b), whose leaves were split
# as the history's were; then those 8 days against the first load's
read -r HIST_PRUNED_H REPORT_HOURLY <<< "$(paired b_history b_hourly "$report_sql")"
PRUNED_H_LOAD=$(cut -d' ' -f1 /proc/loadavg)
read -r HOURLY_AGAIN HOURLY_REF <<< "$(paired b_hourly b_ref "$report_sql")"
HOURLY_LOAD=$(cut -d' ' -f1 /proc/loadavg)
# the key's leaves are left about half full (doc/operations.md,
# "What the retention costs a report"): packed again by REINDEX
# CONCURRENTLY, then the same pairs
LAST="REINDEX INDEX CONCURRENTLY restmon.observation_key"
REINDEX_MS=$(ms -d b_history)
q -d b_history -c "CHECKPOINT" > /dev/null
read -r HIST_REINDEXED REPORT_REINDEXED_REF <<< "$(paired b_history b_ref "$report_sql")"
REINDEXED_LOAD=$(cut -d' ' -f1 /proc/loadavg)
# the history's 54M rows are done with: dropped, and their writes flushed,
# so the next sections do not share the disk and cores with them
q -d postgres -c "DROP DATABASE b_history" -c "DROP DATABASE b_hourly" -c "DROP DATABASE IF EXISTS b_scale" -c "CHECKPOINT" > /dev/null

# --- 6. HTTP ---
log "http"
HTTP_PORT=${BENCH_HTTP_PORT:-$((${RESTMON_TEST_PORT_BASE:-5087} + 4))}
q -d b_ref -c "
	DO \$\$ BEGIN
		IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'restmon_gateway') THEN
			CREATE ROLE restmon_gateway LOGIN;
		END IF;
	END \$\$" -c "SELECT restmon_grant_report_api('restmon_gateway')" \
	-c "SELECT restmon_grant_postgrest_api('restmon_gateway')" > /dev/null
# a report that stays Running: a request no worker was started for
RUN_ID=AAAAAAAAAAAAAAAAAAAAAA
q -d b_ref -c "INSERT INTO restmon.report (report_id, as_of) VALUES ('$RUN_ID', now())" > /dev/null
GW_LOG="$DATA/gateway.log"
: > "$GW_LOG"
PGUSER=restmon_gateway PGDATABASE=b_ref "$PGBIN/restmon-http" --port $HTTP_PORT 2>> "$GW_LOG" &
gw=$!
sleep 0.5
wrk_line() {	# url [wrk options]: "req/s p99 non-2xx", after a 1 s warm-up
	wrk -t2 -c16 -d1s "${@:2}" "$1" > /dev/null 2>&1
	wrk -t2 -c16 -d"${WRK_SECS}s" --latency "${@:2}" "$1" 2>/dev/null | awk '
		/Requests\/sec/ {rps = $2}
		/^ +99%/ {p99 = $2}
		/Non-2xx/ {bad = $NF}
		END {printf "%s %s %s", rps, p99, (bad == "" ? 0 : bad)}'
}
gw_p99() {	# from: " ms", the p99 of the access log's times after line from
	tail -n +"$(($1 + 1))" "$GW_LOG" | grep -av "not completed" |
		sed -n 's/.* \([0-9.]*\)ms$/\1/p' | sort -n |
		awk '{t[NR] = $1} END {if (NR) printf " %s", t[int(NR * 0.99 + 0.5)]}'
}
# wrk_runs url: 3 runs of wrk_line, one line "req/s p99 each gw bad": the
# medians of their req/s and of their p99s (ms), each run's p99 and the
# p99 of the same requests' times in the gateway's access log (from the
# request read to the response handed to the kernel; the 1 s warm-up's
# requests included), "/"-separated, and their non-2xx responses
wrk_runs() {
	local runs="" bad=0 from r p b
	for _ in 1 2 3; do
		from=$(wc -l < "$GW_LOG")
		read -r r p b <<< "$(wrk_line "$1")"
		runs="$runs$r $p$(gw_p99 "$from")"$'\n'
		bad=$((bad + b))
	done
	# wrk writes 870.57us, 4.15ms or 1.09s: in ms
	echo "$(med "$(cut -d' ' -f1 <<< "$runs")")" \
		"$(med "$(cut -d' ' -f2 <<< "$runs" | grep . |
			awk '{v = $1 + 0; if ($1 ~ /us$/) v /= 1000; else if ($1 !~ /ms$/) v *= 1000; print v}')")" \
		"$(cut -d' ' -f2 <<< "$runs" | grep . | paste -sd/)" \
		"$(cut -d' ' -f3 <<< "$runs" | grep . | paste -sd/)" "$bad"
}
if command -v wrk > /dev/null; then
	# a Running report's status, then the complete report's CSV: 3 runs
	# each (one run's p99 has ranged from 2.4 ms to 1.4 s on a quiet
	# machine)
	read -r POLL_RPS POLL_P99 POLL_EACH POLL_GW POLL_BAD <<< "$(wrk_runs "http://127.0.0.1:$HTTP_PORT/api/get_report?report_id=$RUN_ID")"
	read -r CSV_RPS CSV_P99 CSV_EACH CSV_GW CSV_BAD <<< "$(wrk_runs "http://127.0.0.1:$HTTP_PORT/api/get_report?report_id=$CSV_ID")"
	# a client polling the complete report with its ETag: 304, no body
	CSV_ETAG=$(curl -s -o /dev/null -D - "http://127.0.0.1:$HTTP_PORT/api/get_report?report_id=$CSV_ID" |
		sed -n 's/^ETag: *//Ip' | tr -d '\r')
	read -r NM_RPS NM_P99 NM_BAD <<< "$(wrk_line "http://127.0.0.1:$HTTP_PORT/api/get_report?report_id=$CSV_ID" -H "If-None-Match: $CSV_ETAG")"
	NM_CODE=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $CSV_ETAG" "http://127.0.0.1:$HTTP_PORT/api/get_report?report_id=$CSV_ID")
	# PostgREST-style sorted pages (doc/postgrest.md): computed on the spot
	# (every store's figures per request: seconds, hence the long timeout
	# and fewer connections), and over the complete report
	read -r PG_RPS PG_P99 PG_BAD <<< "$(wrk_line "http://127.0.0.1:$HTTP_PORT/rpc/restmon_store_uptime?order=downtime_last_week.desc&limit=50" -c2 --timeout 60s)"
	read -r PGR_RPS PGR_P99 PGR_BAD <<< "$(wrk_line "http://127.0.0.1:$HTTP_PORT/rpc/restmon_get_report?report_id=$CSV_ID&order=downtime_last_week.desc&limit=50")"
else
	POLL_RPS="-"; POLL_P99="-"; POLL_BAD="-"; POLL_EACH="-"; POLL_GW="-"; CSV_RPS="-"; CSV_P99="-"; CSV_BAD="-"; CSV_EACH="-"; CSV_GW="-"
	NM_RPS="-"; NM_P99="-"; NM_BAD="-"; NM_CODE="-"
	PG_RPS="-"; PG_P99="-"; PG_BAD="-"; PGR_RPS="-"; PGR_P99="-"; PGR_BAD="-"
fi
kill -TERM $gw
wait $gw || true

# --- 8. sharded over PL/Proxy (doc/scale-out.md): 1, 2 and 4 partitions,
# databases of this cluster, behind a coordinator (restmon_coordinator).
# The same files ingested through the coordinator; the report gathered from
# every partition at once; its figures compared with b_ref's.  Like with
# like: each partition computes its part with 1 process
# (restmon.report_workers = 1, set on its database), compared with the
# single node computing with 1 process; the slowest partition computing its
# part alone (its own restmon_store_uptime()) says what the coordinator adds ---
log "sharded: ${SHARDS:-1 2 4} partitions"
shard_rows=""
# warm db sql: RUNS runs in one session after one more (a pooled session:
# the coordinator's connections to the partitions already made, every
# backend's caches warm), the median ms
warm() {
	local f=() i
	for i in $(seq $((RUNS + 1))); do f+=(-c "$2"); done
	psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c '\timing on' "${f[@]}" 2>&1 |
		sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n "$RUNS" | sort -n |
		awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
REPORT_1W=$(PGOPTIONS="-c restmon.report_workers=1" warm b_ref "SELECT count(*) FROM restmon_store_uptime('$T')")
for np in ${SHARDS:-1 2 4}; do
	arr=""
	for i in $(seq 0 $((np - 1))); do
		q -d postgres -c "DROP DATABASE IF EXISTS bs${np}_$i" -c "CREATE DATABASE bs${np}_$i" \
			-c "ALTER DATABASE bs${np}_$i SET restmon.report_workers = 1" > /dev/null
		q -d "bs${np}_$i" -c "SET client_min_messages = warning; CREATE EXTENSION restmon" > /dev/null
		arr="$arr,'dbname=bs${np}_$i host=$PGHOST port=$PGPORT'"
	done
	q -d postgres -c "DROP DATABASE IF EXISTS bsc$np" -c "CREATE DATABASE bsc$np" > /dev/null
	q -d "bsc$np" -c "SET client_min_messages = warning; CREATE EXTENSION restmon; CREATE EXTENSION plproxy; CREATE EXTENSION restmon_coordinator" \
		-c "SELECT restmon_cluster_define(ARRAY[${arr#,}])" \
		-c "SELECT restmon_ingest_timezones('$DATA/timezones.csv')" \
		-c "SELECT restmon_ingest_hours('$DATA/menu_hours.csv')" > /dev/null
	LAST="SELECT rows_loaded FROM restmon_ingest_status('$DATA/store_status.csv')"
	s_ing=$(ms -d "bsc$np")
	for i in $(seq 0 $((np - 1))); do
		q -d "bs${np}_$i" -c "VACUUM ANALYZE" > /dev/null
	done
	q -d postgres -c "CHECKPOINT" > /dev/null
	s_sql="SELECT count(*) FROM restmon_store_uptime('$T')"
	timed "bsc$np" "$s_sql" > /dev/null	# warm
	s_rep=$(timed "bsc$np" "$s_sql")
	s_warm=$(warm "bsc$np" "$s_sql")
	s_part=0
	for i in $(seq 0 $((np - 1))); do
		s_part=$(awk -v a="$s_part" -v b="$(timed "bs${np}_$i" "$s_sql")" 'BEGIN {print (a > b ? a : b)}')
	done
	s_trig=$(warm_median "$(trigger_times "bsc$np" "$T")")
	s_same=$([ "$(q -d "bsc$np" -c "SELECT md5(string_agg(u::text, ',' ORDER BY u.store_id COLLATE \"C\")) FROM restmon_store_uptime('$T') u")" = \
		"$(q -d b_ref -c "SELECT md5(string_agg(u::text, ',' ORDER BY u.store_id COLLATE \"C\")) FROM restmon_store_uptime('$T') u")" ] && echo yes || echo NO)
	shard_rows="$shard_rows$np|$s_ing|$s_rep|$s_part|$s_trig|$s_same|$s_warm"$'\n'
	for i in $(seq 0 $((np - 1))); do
		q -d postgres -c "DROP DATABASE bs${np}_$i" > /dev/null
	done
	q -d postgres -c "DROP DATABASE bsc$np" > /dev/null
done
# --- 7. polls as they arrive (issue 14): restmon_record_polls() in
# batches of 1,000 new polls of the demo's stores, into a copy of the
# reference database (the demo week already stored): POLL_BATCHES from 1
# pgbench client, then POLL_BATCHES more from 2 (one poller per core; the
# batches taken in turn cover the stores in turn, so two at once are of
# different stores); then POST /api/polls, 500 polls a request from 8
# clients ---
log "record_polls"
q -d postgres -c "DROP DATABASE IF EXISTS b_polls" -c "CREATE DATABASE b_polls TEMPLATE b_ref" > /dev/null
q -d b_polls -c "
	CREATE TABLE bench_batch (k int PRIMARY KEY, polls jsonb);
	CREATE SEQUENCE bench_k;
	WITH s AS (SELECT store_id, row_number() OVER (ORDER BY md5(store_id)) - 1 AS n,
	                  count(*) OVER () AS ns FROM restmon.store)
	INSERT INTO bench_batch
	SELECT g.k, jsonb_agg(jsonb_build_object('store_id', s.store_id,
		'status', CASE WHEN random() < 0.9 THEN 'active' ELSE 'inactive' END,
		'timestamp_utc', to_char((timestamptz '$END_TS' + ((g.k * 1000 + i) / s.ns + 1) * interval '1 minute')
		                         AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US \"UTC\"')) ORDER BY i)
	FROM generate_series(1, 2 * $POLL_BATCHES) g(k), generate_series(0, 999) i, s
	WHERE s.n = (g.k * 1000 + i) % s.ns
	GROUP BY g.k" -c "VACUUM ANALYZE" -c "CHECKPOINT" > /dev/null
PREROWS=$(q -d b_polls -c "SELECT count(*) FROM restmon.observation")
echo "SELECT r.loaded FROM (SELECT nextval('bench_k')::int AS k OFFSET 0) n JOIN bench_batch b USING (k), restmon_record_polls(b.polls) r;" > "$DIR/record_polls.sql"
rec_rate() {	# clients: polls/s of POLL_BATCHES batches from that many clients
	"$PGBIN/pgbench" -n -c "$1" -t $((POLL_BATCHES / $1)) -f "$DIR/record_polls.sql" b_polls 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | awk '{printf "%.0f", $1 * 1000}'
}
REC_RATE=$(rec_rate 1)
REC_RATE2=$(rec_rate 2)
REC_LOADED=$(q -d b_polls -c "SELECT count(*) - $PREROWS FROM restmon.observation")

log "POST /api/polls"
q -d b_polls -c "
	DO \$\$ BEGIN
		IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'restmon_poller') THEN
			CREATE ROLE restmon_poller LOGIN;
		END IF;
	END \$\$" -c "SELECT restmon_grant_poll_api('restmon_poller')" \
	-c "COPY (SELECT store_id FROM restmon.store ORDER BY md5(store_id)) TO '$DATA/poll_ids.txt'" > /dev/null
cat > "$DIR/polls.lua" <<LUA
-- POST /api/polls: 500 polls a request, every request new instants
local ids = {}
for line in io.lines("$DATA/poll_ids.txt") do ids[#ids + 1] = line end
local counter = 0
function setup(thread) counter = counter + 1; thread:set("tid", counter) end
local r = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function request()
	r = r + 1
	local t = os.date("!%Y-%m-%dT%H:%M:%SZ", 1700000000 + tid * 10000000 + r)
	local parts = {}
	for i = 1, 500 do
		local id = ids[((r * 500 + i) % #ids) + 1]
		parts[i] = '{"store_id":"' .. id .. '","status":"active","timestamp_utc":"' .. t .. '"}'
	end
	return wrk.format(nil, "/api/polls", nil, "[" .. table.concat(parts, ",") .. "]")
end
LUA
POLL_PORT=$((HTTP_PORT + 1))
PGUSER=restmon_gateway PGDATABASE=b_polls "$PGBIN/restmon-http" --port $POLL_PORT \
	--poll-dsn "user=restmon_poller dbname=b_polls" 2> /dev/null &
gw=$!
sleep 0.5
if command -v wrk > /dev/null; then
	read -r HTTP_RPS HTTP_P99 HTTP_BAD <<< "$(wrk -t2 -c8 -d"${WRK_SECS}s" --latency \
		-s "$DIR/polls.lua" "http://127.0.0.1:$POLL_PORT/api/polls" 2>/dev/null | awk '
		/Requests\/sec/ {rps = $2}
		/^ +99%/ {p99 = $2}
		/Non-2xx/ {bad = $NF}
		END {printf "%s %s %s", rps, p99, (bad == "" ? 0 : bad)}')"
	HTTP_RATE=$(awk -v r="$HTTP_RPS" 'BEGIN {printf "%.0f", r * 500}')
else
	HTTP_RPS="-"; HTTP_P99="-"; HTTP_BAD="-"; HTTP_RATE="-"
fi
kill -TERM $gw
wait $gw || true

# --- RESULTS.md (a smoke run writes bench/RESULTS-smoke.md, which git
# ignores, and leaves the committed results alone) ---
RESULTS=bench/RESULTS.md
[ "${SMOKE:-0}" = 1 ] && RESULTS=bench/RESULTS-smoke.md
pgv=$(q -d b_ref -c "SHOW server_version")
# huge pages mapped by the postmaster (its shared memory)
HUGE=$(awk '/HugetlbPages/ {print ($2 > 0 ? "yes" : "no")}' "/proc/$(head -1 "$DIR/data/postmaster.pid")/status" 2>/dev/null || echo unknown)
{
	echo "# restmon benchmark results"
	echo
	echo "Measured by \`make bench\` on $(date -u '+%Y-%m-%d %H:%M UTC'): PostgreSQL $pgv,"
	echo "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB memory, shared_buffers $(q -d b_ref -c 'SHOW shared_buffers'), maintenance_work_mem $(q -d b_ref -c 'SHOW maintenance_work_mem'),"
	echo "shared memory in huge pages: $HUGE (scripts/cluster.sh reserves them when run as root)."
	echo "shared_preload_libraries = '$PRELOAD' (doc/operations.md, \"Preloading restmon\")."
	echo "Dataset: $STORES stores x 8 days of ~hourly polls ($POLLS polls), the demo generator's layout."
	echo "Times are medians of $RUNS runs; every ratio compares figures of this run."
	echo "HTTP figures: \`wrk -t2 -c16 -d${WRK_SECS}s\` against restmon-http (defaults) after a 1 s warm-up run of the same URL."
	echo "Load average (1, 5, 15 min) at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg) (on $(nproc) cores: above that, the run shared its cores and times are noisy)."
	[ "${SMOKE:-0}" = 1 ] && echo && echo "**Smoke run at tiny scale: the figures mean nothing.**"
	echo
	echo "| measure | restmon | baseline | ratio | target |"
	echo "|---|---|---|---|---|"
	echo "| ingest $POLLS polls (ms) | $ING | COPY into an unindexed table of text columns: $COPY_TEXT | $(ratio "$ING" "$COPY_TEXT")x | <= 2x |"
	echo "| ingest, against typed columns (ms) | $ING | COPY into an unindexed table of typed columns: $COPY | $(ratio "$ING" "$COPY")x | <= 3x |"
	echo "| ingest an hourly increment, $INC_POLLS polls into the week (ms) | $INC | COPY of the increment into an unindexed table of text columns: $INC_COPY | $(ratio "$INC" "$INC_COPY")x | <= 3x |"
	echo "| ingest an hourly increment, against a table keyed as restmon.observation holding the same week (ms) | $INC | that COPY, then INSERT into the keyed table: $INC_KEYED | $(ratio "$INC" "$INC_KEYED")x | |"
	echo "| the floor of any table keeping (store, instant) unique as polls come: COPY of the increment into an empty table with that unique key (ms) | $INC_UNIQ | COPY of the increment into an unindexed table of text columns: $INC_COPY | $(ratio "$INC_UNIQ" "$INC_COPY")x | a floor, not a target |"
	echo "| report, restmon_store_uptime(), $NPROC processes (ms) | $REPORT | parallel floor ($FLOOR_PLAN): $FLOOR | $(ratio "$REPORT" "$FLOOR")x | <= 1.0x |"
	echo "| report, trigger -> Complete, $NPROC processes (ms) | $TRIG | parallel floor: $FLOOR | $(ratio "$TRIG" "$FLOOR")x | <= 1.0x |"
	echo "| report, trigger -> Complete, the run's first (a report worker started, no idle one) (ms) | $TRIG_COLD | parallel floor: $FLOOR | $(ratio "$TRIG_COLD" "$FLOOR")x | |"
	echo "| report, $NPROC processes, against the serial floor (ms) | $REPORT | serial floor: $FLOOR_SERIAL | $(ratio "$REPORT" "$FLOOR_SERIAL")x | |"
	echo "| report, 1 process (ms) | $REPORT_1 | serial floor: $FLOOR_SERIAL | $(ratio "$REPORT_1" "$FLOOR_SERIAL")x | |"
	echo "| speed-up, 1 -> $NPROC processes | $REPORT | 1 process: $REPORT_1 | $(ratio "$REPORT_1" "$REPORT")x faster | |"
	if [ "$REPORT_PIN" != "-" ]; then
		echo "| pinned to 1 core (taskset): $NPROC processes (ms) | $REPORT_PIN | 1 process on 1 core: $REPORT_PIN_1 | $(ratio "$REPORT_PIN" "$REPORT_PIN_1")x | |"
		echo "| pinned to 1 core: 1 process (ms) | $REPORT_PIN_1 | serial floor on 1 core: $FLOOR_PIN | $(ratio "$REPORT_PIN_1" "$FLOOR_PIN")x | |"
	fi
	echo "| incidents, restmon_incidents() over every store, $NINC rows (ms) | $INCIDENTS | report: $REPORT | $(ratio "$INCIDENTS" "$REPORT")x | <= 2x |"
	echo "| pure-SQL reference implementation (ms) | $REPORT | bench/reference.sql: $REF | $(ratio "$REF" "$REPORT")x faster | >= 20x |"
	echo "| history: $HROWS rows, $((HISTORY + 1))x (ms; medians of $PAIRS alternating pairs, load $HIST_LOAD) | $HIST | 8 days only: $REPORT_AGAIN | $(ratio "$HIST" "$REPORT_AGAIN")x | <= 1.5x |"
	echo "| history, the same pairs after a server restart (ms; load $HIST_RESTART_LOAD) | $HIST_RESTART | 8 days only: $REPORT_RESTART | $(ratio "$HIST_RESTART" "$REPORT_RESTART")x | <= 1.5x |"
	echo "| history pruned to the retention: $PRUNED of $HROWS rows deleted (ms; $IN_USE calls found the table in use) | $PRUNE_MS | slowest batch of $PRUNE_BATCH: $BATCH_MAX | | bounded |"
	echo "| report after pruning, $PROWS rows (ms; medians of $PAIRS alternating pairs, load $PRUNED_LOAD) | $HIST_PRUNED | 8 days only: $REPORT_PRUNED_REF | $(ratio "$HIST_PRUNED" "$REPORT_PRUNED_REF")x | <= 1.2x |"
	echo "| report after pruning, against the 8 days loaded hour by hour (ms; medians of $PAIRS alternating pairs, load $PRUNED_H_LOAD) | $HIST_PRUNED_H | 8 days, hourly: $REPORT_HOURLY | $(ratio "$HIST_PRUNED_H" "$REPORT_HOURLY")x | <= 1.2x |"
	echo "| the 8 days loaded hour by hour, $HOURLY_ROWS rows, against their first load (ms; medians of $PAIRS alternating pairs, load $HOURLY_LOAD) | $HOURLY_AGAIN | first load: $HOURLY_REF | $(ratio "$HOURLY_AGAIN" "$HOURLY_REF")x | |"
	echo "| report after pruning and REINDEX CONCURRENTLY of restmon.observation_key ($REINDEX_MS ms) (ms; medians of $PAIRS alternating pairs, load $REINDEXED_LOAD) | $HIST_REINDEXED | 8 days only: $REPORT_REINDEXED_REF | $(ratio "$HIST_REINDEXED" "$REPORT_REINDEXED_REF")x | |"
	echo "| HTTP status poll of a Running report (medians of 3 runs; p99 of each: ${POLL_EACH//\// \/ }; at the gateway, its access log: ${POLL_GW//\// \/ } ms) | $POLL_RPS req/s, p99 ${POLL_P99}ms | non-2xx: $POLL_BAD | | >= 5000 req/s, p99 < 10 ms |"
	echo "| HTTP CSV of the complete $STORES-store report (medians of 3 runs; p99 of each: ${CSV_EACH//\// \/ }; at the gateway, its access log: ${CSV_GW//\// \/ } ms) | $CSV_RPS req/s, p99 ${CSV_P99}ms | non-2xx: $CSV_BAD | | >= 1000 req/s, p99 < 50 ms |"
	echo "| HTTP \`304\` to \`If-None-Match\` with the complete report's ETag | $NM_RPS req/s, p99 $NM_P99 | status $NM_CODE, 4xx/5xx: $NM_BAD | | |"
	echo "| HTTP PostgREST sorted page, \`/rpc/restmon_store_uptime?order=downtime_last_week.desc&limit=50\` over $STORES stores (computed per request) | $PG_RPS req/s, p99 $PG_P99 | non-2xx: $PG_BAD | | |"
	echo "| HTTP PostgREST sorted page of the complete report, \`/rpc/restmon_get_report?report_id=…&order=downtime_last_week.desc&limit=50\` | $PGR_RPS req/s, p99 $PGR_P99 | non-2xx: $PGR_BAD | | |"
	echo "| restmon_record_polls(), $POLL_BATCHES batches of 1,000 into $PREROWS rows, 1 client (polls/s) | $REC_RATE | | | |"
	echo "| restmon_record_polls(), $POLL_BATCHES more batches of 1,000, 2 clients (polls/s) | $REC_RATE2 | loaded: $REC_LOADED of $((2 * POLL_BATCHES * 1000)) | | >= 100,000 polls/s |"
	echo "| POST /api/polls, 500 polls a request, 8 clients (polls/s) | $HTTP_RATE ($HTTP_RPS req/s, p99 $HTTP_P99) | non-2xx: $HTTP_BAD | | >= 20,000 polls/s |"
	echo
	echo "Reference agreement: restmon and bench/reference.sql differ on **$DIFF_1** of $STORES_REPORTED stores computed by 1 process, and on **$DIFF** computed by $NPROC."
	echo
	echo "Baselines (each run in the benchmark's database, so a reader can re-run it; T = $T):"
	echo
	echo "- ingest floors, into \`CREATE TABLE plain_text (store_id text, status text, timestamp_utc text)\` and \`CREATE TABLE plain (store_id text, status text, timestamp_utc timestamptz)\`:"
	echo "  \`$COPY_TEXT_SQL\` and \`$COPY_SQL\`"
	echo "- hourly increment floors, in a copy of the week's database after a CHECKPOINT: \`COPY plain_text FROM '…/increment.csv' (FORMAT csv, HEADER)\`; and, into \`$KEYED_SQL\` with \`$KEYED_INDEX_SQL\` (made before the CHECKPOINT), that COPY then \`$KEYED_INSERT_SQL\`; and \`$UNIQ_COPY_SQL\` into \`$UNIQ_SQL\` (made before the CHECKPOINT)."
	echo "- report floor: the horizon rows, copied once into a plain unindexed table (then VACUUM ANALYZE):"
	echo "  \`CREATE TABLE horizon_plain AS SELECT store_id, observed_at AS ts, active FROM restmon.observation WHERE observed_at > T - interval '192 hours' AND observed_at <= T\`,"
	echo "  then \`$floor_sql\`: serial with \`SET max_parallel_workers_per_gather = 0\`;"
	echo "  parallel with \`SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0\` and \`max_parallel_workers_per_gather\` $((NPROC - 1)) or $NPROC, the faster."
	echo "- restmon: \`$report_sql\` with \`SET restmon.report_workers = 1\` or $NPROC; trigger -> Complete is \`finished_at - requested_at\` of \`restmon_trigger_report()\` with \`restmon.report_workers = $NPROC\` in postgresql.auto.conf, $((RUNS + 1)) reports one after another, each triggered and waited for (\`restmon_wait_report()\`) in one session: the first starts a report worker (its row above), the median is of the $RUNS after it, which find it waiting idle (\`restmon.report_worker_idle\`, 2 s)."
	echo "- pinned to 1 core: \`taskset -pc 0\` on the postmaster, which every new backend and worker inherits."
	echo "- the 8 days loaded hour by hour: a copy of the benchmark's database, its polls kept aside, the table truncated, the first day inserted at once in key order, then each following hour's polls inserted in key order, one statement an hour, as hourly ingestion inserts them (\`bench/run.sh\`, section 4b; its key, restmon.observation_key, ends about 60% full, the first load's 90%)."
	echo
	echo "Scaling and memory (the same 8 days, stores cloned with their hours and zones, inserted, then restmon.observation_key rebuilt by \`REINDEX\` as a first load builds it; the report with $NPROC processes; target: the cost per poll flat from 1x to 16x):"
	echo
	echo "| stores | polls | report (ms) | ns per poll | peak private memory of the backend (MiB) |"
	echo "|---|---|---|---|---|"
	while IFS='|' read -r k s r t ns mem; do
		[ -n "$k" ] && echo "| $s ($k x) | $r | $t | $ns | $mem |"
	done <<< "$scale_rows"
	echo
	echo "Peak private memory = VmHWM - RssShmem of the backend after the report (shared buffers excluded)."
	echo
	echo "Sharded over PL/Proxy (doc/scale-out.md): partitions are databases of this"
	echo "cluster, on these $(nproc) cores, behind a coordinator database; the same files"
	echo "ingested through the coordinator; the report at the same T gathered from"
	echo "all partitions at once, each partition computing its part with 1 process"
	echo "(restmon.report_workers = 1), against the single node b_ref computing with 1"
	echo "process and with $NPROC; \"slowest partition alone\" is the slowest partition's own"
	echo "restmon_store_uptime() over its stores, so report minus it is what the coordinator adds."
	echo "Each report is a new session (the coordinator's then connects to every partition);"
	echo "\"warm session\" is the median of $RUNS reports in one session after a first, as a pooled"
	echo "connection (the HTTP gateway's, a report worker's) sees them:"
	echo
	echo "| configuration | ingest $POLLS polls (ms) | report, restmon_store_uptime() (ms) | slowest partition alone (ms) | speed-up vs single node, 1 process | report, warm session (ms) | speed-up, warm | trigger -> Complete (ms) | every figure = single node |"
	echo "|---|---|---|---|---|---|---|---|---|"
	echo "| single node, 1 process | $ING | $REPORT_1 | | 1.00x | $REPORT_1W | 1.00x | | (reference) |"
	echo "| single node, $NPROC processes | $ING | $REPORT | | $(ratio "$REPORT_1" "$REPORT")x | | | $TRIG | (reference) |"
	while IFS='|' read -r np si sr sp st ok sw; do
		[ -n "$np" ] && echo "| $np partition(s), 1 process each | $si | $sr | $sp | $(ratio "$REPORT_1" "$sr")x | $sw | $(ratio "$REPORT_1W" "$sw")x | $st | $ok |"
	done <<< "$shard_rows"
} > "$RESULTS"
cat "$RESULTS"

scripts/cluster.sh stop
