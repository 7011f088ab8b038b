#!/usr/bin/env bash
# test/store_locks_load.sh: a bounded load of pollers at once (TAP;
# doc/sql.md, "Many pollers at once").  For 5 s, 8 pgbench clients record
# batches of 50 random polls of 200 stores (s0..s199) at 100 hours, in
# random order, so batches overlap and name their stores in every order;
# now and then a client loads a status file of the same stores at hours
# 100..119 (a table lock) or tries a prune.  Every poll's status is its
# hour's parity, so any two polls of a store and hour agree (semantics §1:
# polls accumulate, the first wins).  Afterwards: no transaction failed (a
# deadlock or a 23505 would), every poll stored has its status, the
# file's are all there, and restmon.store holds each store's first and latest poll.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. test/tap.sh
export RESTMON_CLUSTER=test
eval "$(scripts/cluster.sh env)"
FIX=${RESTMON_FIXTURES:?RESTMON_FIXTURES is not set: run the tests with scripts/test.sh}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod a+rx "$tmp"
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

q <<'SQL'
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS restmon CASCADE;
CREATE EXTENSION restmon;
-- a later poll, so that no batch raises restmon.poll_bound
INSERT INTO restmon.observation VALUES ('seed', '2023-03-10 00:00+00', true);
SQL
mkdir -p "$FIX/load"
q -c "COPY (SELECT 's' || s, CASE WHEN h % 2 = 0 THEN 'active' ELSE 'inactive' END,
		to_char((timestamptz '2023-03-01 00:00+00' + h * interval '1 hour') AT TIME ZONE 'UTC',
				'YYYY-MM-DD HH24:MI:SS') || ' UTC'
	FROM generate_series(100, 119) h, generate_series(0, 199) s)
	TO STDOUT WITH (FORMAT csv)" | { echo store_id,status,timestamp_utc; cat; } > "$FIX/load/status.csv"
chmod -R a+rX "$FIX/load"

cat > "$tmp/batch.sql" <<'SQL'
SELECT loaded FROM restmon_record_polls((
	SELECT jsonb_agg(jsonb_build_object('store_id', 's' || (random() * 199)::int,
		'status', CASE WHEN h % 2 = 0 THEN 'active' ELSE 'inactive' END,
		'timestamp_utc', to_char(timestamptz '2023-03-01 00:00+00' + h * interval '1 hour',
								 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))
	FROM (SELECT (random() * 99)::int AS h FROM generate_series(1, 50)) x));
SQL
echo "SELECT rows_loaded FROM restmon_ingest_status('$FIX/load/status.csv');" > "$tmp/file.sql"
echo "SELECT restmon_prune_observations();" > "$tmp/prune.sql"
"$PGBIN/pgbench" -n -c 8 -T 5 -f "$tmp/batch.sql@20" -f "$tmp/file.sql@1" \
	-f "$tmp/prune.sql@1" > "$tmp/out" 2>&1
done_n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$tmp/out")
failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$tmp/out")
is "8 clients recorded batches for 5 s, and none failed" "yes 0" \
	"$([ "${done_n:-0}" -gt 100 ] && echo yes || echo "no: ${done_n:-none}") ${failed:-$(tail -3 "$tmp/out")}"
is "every poll stored has its hour's status" 0 \
	"$(q -c "SELECT count(*) FROM restmon.observation WHERE store_id <> 'seed'
	     AND active <> ((extract(epoch FROM observed_at - timestamptz '2023-03-01 00:00+00') / 3600)::int % 2 = 0)")"
is "the file's 4,000 polls are all there" 4000 \
	"$(q -c "SELECT count(*) FROM restmon.observation WHERE observed_at >= '2023-03-05 04:00+00' AND store_id <> 'seed'")"
is "restmon.store holds each store's first and latest poll" "201|0" \
	"$(q -c "SELECT count(*), count(*) FILTER (WHERE s.first_observed_at <> o.lo OR s.last_observed_at <> o.hi)
	     FROM restmon.store s JOIN (SELECT store_id, min(observed_at) lo, max(observed_at) hi
	                                FROM restmon.observation GROUP BY store_id) o USING (store_id)")"
is "nothing was rejected" 0 "$(q -c "SELECT count(*) FROM restmon.rejected_row")"

echo "1..$n"
[ "$fails" -eq 0 ]
