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

install_packages
command -v wrk > /dev/null || { [ "$(id -u)" -eq 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk > /dev/null; }
build_and_install
scripts/cluster.sh destroy
scripts/cluster.sh start > /dev/null
eval "$(scripts/cluster.sh env)"
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
ing_all=""
copy_all=""
for _ in $(seq "$RUNS"); do
	fresh b_ingest
	LAST="SELECT rows_loaded FROM restmon_ingest_status('$DATA/store_status.csv')"
	ing_all="$ing_all $(ms -d b_ingest)"
	q -d b_ingest -c "CREATE TABLE plain (store_id text, status text, timestamp_utc timestamptz)" > /dev/null
	LAST="COPY plain FROM '$DATA/store_status.csv' (FORMAT csv, HEADER)"
	copy_all="$copy_all $(ms -d b_ingest)"
done
med() { tr ' ' '\n' <<< "$1" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ING=$(med "$ing_all")
COPY=$(med "$copy_all")

# the reference database: one clean ingest.  Every database is vacuumed
# before it is measured, as autovacuum leaves a table that has been loaded
# (the visibility map is set, so index-only reads skip the heap), and a
# checkpoint writes the load out first, so no timing shares the 2 cores
# with the checkpointer.
fresh b_ref
q -d b_ref -c "SELECT restmon_ingest_status('$DATA/store_status.csv')" -c "VACUUM ANALYZE" -c "CHECKPOINT" > /dev/null
T=$(q -d b_ref -c "SELECT restmon_default_as_of()")

# --- 2. report vs the floor ---
log "report"
floor_sql="SELECT count(*), count(DISTINCT store_id) FROM restmon.observation WHERE observed_at > '$T'::timestamptz - interval '192 hours' AND observed_at <= '$T'"
report_sql="SELECT count(*) FROM restmon_store_uptime()"
timed b_ref "$floor_sql" > /dev/null	# warm the cache
FLOOR=$(timed b_ref "$floor_sql")
REPORT=$(timed b_ref "$report_sql")
trig_all=""
for _ in $(seq "$RUNS"); do
	id=$(q -d b_ref -c "SELECT restmon_trigger_report()")
	q -d b_ref -c "SELECT restmon_wait_report('$id')" > /dev/null
	trig_all="$trig_all $(q -d b_ref -c "SELECT round(extract(epoch FROM finished_at - requested_at) * 1000, 1) FROM restmon.report WHERE report_id = '$id'")"
done
TRIG=$(med "$trig_all")
CSV_ID=$id

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
DIFF=$(q -d b_ref -c "
	WITH r AS (SELECT store_id, uptime_last_hour, uptime_last_day, uptime_last_week,
	                  downtime_last_hour, downtime_last_day, downtime_last_week
	           FROM restmon_store_uptime('$T')),
	     s AS (SELECT * FROM bench.reference_report('$T'))
	SELECT (SELECT count(*) FROM (SELECT * FROM r EXCEPT SELECT * FROM s) a)
	     + (SELECT count(*) FROM (SELECT * FROM s EXCEPT SELECT * FROM r) b)")
STORES_REPORTED=$(q -d b_ref -c "SELECT count(*) FROM restmon_store_uptime('$T')")

# --- 4. scaling and memory: the same 8 days for 1x, 4x, 16x the stores ---
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
			ORDER BY 1, 2" -c "VACUUM ANALYZE" -c "CHECKPOINT" > /dev/null
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

# --- 5. history: 20x older rows for the same stores ---
log "history"
q -d postgres -c "DROP DATABASE IF EXISTS b_history" -c "CREATE DATABASE b_history TEMPLATE b_ref" > /dev/null
q -d b_history -c "
	INSERT INTO restmon.observation
	SELECT o.store_id, o.observed_at - k * interval '8 days', o.active
	FROM restmon.observation o, generate_series(1, $HISTORY) k
	ORDER BY 1, 2" -c "VACUUM ANALYZE" -c "CHECKPOINT" > /dev/null
HROWS=$(q -d b_history -c "SELECT count(*) FROM restmon.observation")
timed b_history "$report_sql" > /dev/null	# warm
HIST=$(timed b_history "$report_sql")
REPORT_AGAIN=$(timed b_ref "$report_sql")

# --- 6. HTTP ---
log "http"
HTTP_PORT=5091
q -d b_ref -c "
	DO \$\$ BEGIN
		IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'restmon_gateway') THEN
			CREATE ROLE restmon_gateway LOGIN;
		END IF;
	END \$\$" -c "SELECT restmon_grant_report_api('restmon_gateway')" > /dev/null
# a report that stays Running: a request no worker was started for
RUN_ID=AAAAAAAAAAAAAAAAAAAAAA
q -d b_ref -c "INSERT INTO restmon.report (report_id, as_of) VALUES ('$RUN_ID', now())" > /dev/null
PGUSER=restmon_gateway PGDATABASE=b_ref "$PGBIN/restmon-http" --port $HTTP_PORT 2> /dev/null &
gw=$!
sleep 0.5
wrk_line() {	# url: "req/s p99"
	wrk -t2 -c16 -d"${WRK_SECS}s" --latency "$1" 2>/dev/null | awk '
		/Requests\/sec/ {rps = $2}
		/^ +99%/ {p99 = $2}
		/Non-2xx/ {bad = $NF}
		END {printf "%s %s %s", rps, p99, (bad == "" ? 0 : bad)}'
}
if command -v wrk > /dev/null; then
	read -r POLL_RPS POLL_P99 POLL_BAD <<< "$(wrk_line "http://127.0.0.1:$HTTP_PORT/api/get_report?report_id=$RUN_ID")"
	read -r CSV_RPS CSV_P99 CSV_BAD <<< "$(wrk_line "http://127.0.0.1:$HTTP_PORT/api/get_report?report_id=$CSV_ID")"
else
	POLL_RPS="-"; POLL_P99="-"; POLL_BAD="-"; CSV_RPS="-"; CSV_P99="-"; CSV_BAD="-"
fi
kill -TERM $gw
wait $gw || true

# --- 8. sharded over PL/Proxy (doc/scale-out.md): 1, 2 and 4 partitions,
# databases of this cluster, behind a coordinator (restmon_coordinator).
# The same files ingested through the coordinator; the report gathered from
# every partition at once; its figures compared with b_ref's ---
log "sharded: ${SHARDS:-1 2 4} partitions"
shard_rows=""
for np in ${SHARDS:-1 2 4}; do
	arr=""
	for i in $(seq 0 $((np - 1))); do
		q -d postgres -c "DROP DATABASE IF EXISTS bs${np}_$i" -c "CREATE DATABASE bs${np}_$i" > /dev/null
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
	s_trig=""
	for _ in $(seq "$RUNS"); do
		id=$(q -d "bsc$np" -c "SELECT restmon_trigger_report('$T')")
		q -d "bsc$np" -c "SELECT restmon_wait_report('$id')" > /dev/null
		s_trig="$s_trig $(q -d "bsc$np" -c "SELECT round(extract(epoch FROM finished_at - requested_at) * 1000, 1) FROM restmon.report WHERE report_id = '$id'")"
	done
	s_same=$([ "$(q -d "bsc$np" -c "SELECT md5(string_agg(u::text, ',' ORDER BY u.store_id COLLATE \"C\")) FROM restmon_store_uptime('$T') u")" = \
		"$(q -d b_ref -c "SELECT md5(string_agg(u::text, ',' ORDER BY u.store_id COLLATE \"C\")) FROM restmon_store_uptime('$T') u")" ] && echo yes || echo NO)
	shard_rows="$shard_rows$np|$s_ing|$s_rep|$(med "$s_trig")|$s_same"$'\n'
	for i in $(seq 0 $((np - 1))); do
		q -d postgres -c "DROP DATABASE bs${np}_$i" > /dev/null
	done
	q -d postgres -c "DROP DATABASE bsc$np" > /dev/null
done
# --- 7. polls as they arrive (issue 14): restmon_record_polls() in
# batches of 1,000 new polls of the demo's stores, into a copy of the
# reference database (the demo week already stored); then POST /api/polls,
# 500 polls a request from 8 clients ---
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
	FROM generate_series(1, $POLL_BATCHES) g(k), generate_series(0, 999) i, s
	WHERE s.n = (g.k * 1000 + i) % s.ns
	GROUP BY g.k" -c "VACUUM ANALYZE" -c "CHECKPOINT" > /dev/null
PREROWS=$(q -d b_polls -c "SELECT count(*) FROM restmon.observation")
echo "SELECT r.loaded FROM (SELECT nextval('bench_k')::int AS k OFFSET 0) n JOIN bench_batch b USING (k), restmon_record_polls(b.polls) r;" > "$DIR/record_polls.sql"
REC_TPS=$("$PGBIN/pgbench" -n -c 1 -t "$POLL_BATCHES" -f "$DIR/record_polls.sql" b_polls 2>/dev/null |
	sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
REC_LOADED=$(q -d b_polls -c "SELECT count(*) - $PREROWS FROM restmon.observation")
REC_RATE=$(awk -v t="$REC_TPS" 'BEGIN {printf "%.0f", t * 1000}')

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
	echo "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB memory, shared_buffers $(q -d b_ref -c 'SHOW shared_buffers'),"
	echo "shared memory in huge pages: $HUGE (scripts/cluster.sh reserves them when run as root)."
	echo "Dataset: $STORES stores x 8 days of ~hourly polls ($POLLS polls), the demo generator's layout."
	echo "Times are medians of $RUNS runs; every ratio compares figures of this run."
	[ "${SMOKE:-0}" = 1 ] && echo && echo "**Smoke run at tiny scale: the figures mean nothing.**"
	echo
	echo "| measure | restmon | baseline | ratio | target |"
	echo "|---|---|---|---|---|"
	echo "| ingest $POLLS polls (ms) | $ING | plain COPY into an unindexed table: $COPY | $(ratio "$ING" "$COPY")x | <= 3x |"
	echo "| report, restmon_store_uptime() (ms) | $REPORT | floor, count + count distinct over the horizon: $FLOOR | $(ratio "$REPORT" "$FLOOR")x | <= 3x (stretch 1.5x) |"
	echo "| report, trigger -> Complete (ms) | $TRIG | floor: $FLOOR | $(ratio "$TRIG" "$FLOOR")x | <= 3x |"
	echo "| incidents, restmon_incidents() over every store, $NINC rows (ms) | $INCIDENTS | report: $REPORT | $(ratio "$INCIDENTS" "$REPORT")x | <= 2x |"
	echo "| pure-SQL reference implementation (ms) | $REPORT | bench/reference.sql: $REF | $(ratio "$REF" "$REPORT")x faster | >= 20x |"
	echo "| history: $HROWS rows, $((HISTORY + 1))x (ms) | $HIST | 8 days only: $REPORT_AGAIN | $(ratio "$HIST" "$REPORT_AGAIN")x | <= 1.5x |"
	echo "| HTTP status poll of a Running report | $POLL_RPS req/s, p99 $POLL_P99 | non-2xx: $POLL_BAD | | >= 5000 req/s, p99 < 10 ms |"
	echo "| HTTP CSV of the complete $STORES-store report | $CSV_RPS req/s, p99 $CSV_P99 | non-2xx: $CSV_BAD | | |"
	echo "| restmon_record_polls(), $POLL_BATCHES batches of 1,000 into $PREROWS rows (polls/s) | $REC_RATE | loaded: $REC_LOADED of $((POLL_BATCHES * 1000)) | | >= 100,000 polls/s |"
	echo "| POST /api/polls, 500 polls a request, 8 clients (polls/s) | $HTTP_RATE ($HTTP_RPS req/s, p99 $HTTP_P99) | non-2xx: $HTTP_BAD | | >= 20,000 polls/s |"
	echo
	echo "Reference agreement: restmon and bench/reference.sql differ on **$DIFF** of $STORES_REPORTED stores."
	echo
	echo "Scaling and memory (the same 8 days, stores cloned with their hours and zones):"
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
	echo "all partitions at once (single node, b_ref: report $REPORT ms, trigger -> Complete $TRIG ms, ingest $ING ms):"
	echo
	echo "| partitions | ingest $POLLS polls through the coordinator (ms) | report, restmon_store_uptime() (ms) | speed-up vs single node | trigger -> Complete (ms) | every figure = single node |"
	echo "|---|---|---|---|---|---|"
	while IFS='|' read -r np si sr st ok; do
		[ -n "$np" ] && echo "| $np | $si | $sr | $(ratio "$REPORT" "$sr")x | $st | $ok |"
	done <<< "$shard_rows"
} > "$RESULTS"
cat "$RESULTS"

scripts/cluster.sh stop
