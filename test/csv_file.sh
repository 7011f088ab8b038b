#!/usr/bin/env bash
# test/csv_file.sh: a complete report's CSV stored once (restmon.report_file)
# and served by restmon-http from its cache with an ETag (TAP).  The file
# equals restmon_report_csv() and the figures of restmon_report_row; its
# ETag is computed here by hand from the bytes (doc/sql.md); the gateway
# sends it stable, answers If-None-Match with 304 and no body, another tag
# with 200; a pruned report is a 404 even after its CSV was cached; a report
# without a file (completed before 0.4.0) gets one on its first request; a
# gateway without a cache (--csv-cache-mb=0) streams the same bytes, in
# pages cut from the file, with the same ETag; a burst of first requests
# for a report gets the same bytes; a file that cannot be stored after the
# report's commit leaves it Complete, its CSV rendered from the rows.  Run by scripts/test.sh after the other suites.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
export RESTMON_CLUSTER=test
eval "$(scripts/cluster.sh env)"

PORT=${RESTMON_TEST_PORT_BASE:-5087}
PORT2=$((PORT + 1))
GW="$PGBIN/restmon-http"
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
. test/tap.sh

q() { psql -X -At -v ON_ERROR_STOP=1 "$@"; }
start_gateway() {	# port [options]: tap.sh's gw_start on that port
	PORT=$1 gw_start -- --threads 2 "${@:2}"
	local st=$?
	pids="$pids $gw_pid"
	return $st
}
# get PORT ID [curl args]: sets STATUS, LEN (bytes of body); body in $tmp/body
get() {
	curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code} %{size_download}' \
		"http://127.0.0.1:$1/api/get_report?report_id=$2" "${@:3}" > "$tmp/meta"
	read -r STATUS LEN < "$tmp/meta"
}
header() { grep -i "^$1:" "$tmp/headers" | sed 's/^[^:]*: //; s/\r$//'; }
same_as_db() {	# id: 0 if $tmp/body is restmon_report_csv(id) byte for byte
	q -c "SELECT restmon_report_csv('$1')" -o "$tmp/db.csv"
	(cat "$tmp/body"; echo) > "$tmp/body_nl"
	cmp -s "$tmp/body_nl" "$tmp/db.csv"
	echo $?
}

q > /dev/null <<'SQL' || { echo "not ok 1 - database setup"; echo "1..1"; exit 1; }
\i test/preamble.psql
SET client_min_messages = warning;
SELECT restmon_ingest_timezones(:'fixtures' || '/loop-2024/timezones.csv');
SELECT restmon_ingest_hours(:'fixtures' || '/loop-2024/menu_hours.csv');
SELECT restmon_ingest_status(:'fixtures' || '/loop-2024/store_status_head_1000.csv');
-- a store id the CSV must quote (semantics §6: a comma and a quote)
INSERT INTO restmon.observation
	VALUES ('a,"q"', restmon_default_as_of() - interval '30 min', true);
DO $$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'restmon_gateway_test') THEN
		CREATE ROLE restmon_gateway_test LOGIN;
	END IF;
END $$;
SELECT restmon_grant_report_api('restmon_gateway_test');
-- a report that stays Running: its "worker" is the checkpointer, which
-- lives as long as the server, so no worker or upkeep takes it
INSERT INTO restmon.report (report_id, as_of, worker_pid)
SELECT 'runRUNrunRUNrunRUNrun7', now(), pid
FROM pg_stat_activity WHERE backend_type = 'checkpointer';
-- a Complete report of 3,000 stores (a 180 kB CSV) written straight into
-- the tables, as one completed before 0.4.0: no file
INSERT INTO restmon.report (report_id, status, as_of, finished_at, row_count)
VALUES ('bigBIGbigBIGbigBIGbig8', 'Complete', '2023-01-25 18:00+00', now(), 3000);
INSERT INTO restmon.report_row
SELECT 'bigBIGbigBIGbigBIGbig8', md5(i::text)::uuid::text,
	(i % 61)::numeric(6,2), (i % 25)::numeric(6,2), (i % 169)::numeric(6,2),
	(60 - i % 61)::numeric(6,2), (24 - i % 25)::numeric(6,2),
	(168 - i % 169)::numeric(6,2)
FROM generate_series(1, 3000) i;
SQL

# --- the file, in SQL ---
id=$(q -c "SELECT restmon_trigger_report()")
q -c "SELECT restmon_wait_report('$id', '60 s')" > /dev/null
id2=$(q -c "SELECT restmon_trigger_report(store_id => 'a,\"q\"', wait => true)")
is "a report computed with wait => true has its file when it returns" "1" \
	"$(q -c "SELECT count(*) FROM restmon.report_file WHERE report_id = '$id2'")"
# the worker stores the file in its own transaction right after the
# report's commit (src/report_worker.c): wait for it, up to 10 s
for _ in $(seq 100); do
	[ "$(q -c "SELECT count(*) FROM restmon.report_file WHERE report_id = '$id'")" = 1 ] && break
	sleep 0.1
done
is "a report a worker completes has its file right after" "1" \
	"$(q -c "SELECT count(*) FROM restmon.report_file WHERE report_id = '$id'")"
# every line by hand from the rows: semantics §6 (a field quoted only when
# it holds a comma, a quote or a line break, quotes doubled)
is "the file is the header and a line per row of restmon.report_row, in byte order" "t" \
	"$(q -c "SELECT f.csv = 'store_id,uptime_last_hour,uptime_last_day,uptime_last_week,downtime_last_hour,downtime_last_day,downtime_last_week' || E'\n'
		|| (SELECT string_agg(CASE WHEN r.store_id ~ '[,\"\r\n]'
				THEN '\"' || replace(r.store_id, '\"', '\"\"') || '\"' ELSE r.store_id END
			|| ',' || concat_ws(',', r.uptime_last_hour, r.uptime_last_day, r.uptime_last_week,
				r.downtime_last_hour, r.downtime_last_day, r.downtime_last_week) || E'\n', ''
			ORDER BY r.store_id COLLATE \"C\")
			FROM restmon.report_row r WHERE r.report_id = f.report_id)
		FROM restmon.report_file f WHERE f.report_id = '$id'")"
# one active poll 30 min before T, no hours (open all the time, semantics
# §2): the poll covers everything (§5.2), hour in minutes, day and week in
# hours (§6.3)
is "... with the quoted store id" "\"a,\"\"q\"\"\",60.00,24.00,168.00,0.00,0.00,0.00" \
	"$(q -c "SELECT split_part(csv, E'\n', 2) FROM restmon.report_file WHERE report_id = '$id2'")"
is "restmon_report_csv() is the file, and bytes its length" "t t" \
	"$(q -F' ' -c "SELECT restmon_report_csv('$id') = csv, bytes = octet_length(csv)
		FROM restmon.report_file WHERE report_id = '$id'")"
is "the ETag is \"<id>-<first 32 hex digits of the SHA-256 of the bytes>\"" \
	"\"$id-$(q -c "SELECT restmon_report_csv('$id')" | head -c -1 | sha256sum | cut -c1-32)\"" \
	"$(q -c "SELECT etag FROM restmon_report_csv_etag('$id')")"
is "restmon_report_csv_etag(): status, no error, bytes" "Complete||$(q -c "SELECT octet_length(restmon_report_csv('$id'))")" \
	"$(q -c "SELECT concat_ws('|', status, coalesce(error, ''), bytes) FROM restmon_report_csv_etag('$id')")"
is "... and for a Running report no ETag" "Running|||" \
	"$(q -c "SELECT concat_ws('|', status, coalesce(error, ''), coalesce(etag, ''), coalesce(bytes::text, '')) FROM restmon_report_csv_etag('runRUNrunRUNrunRUNrun7')")"
etag=$(q -c "SELECT etag FROM restmon.report_file WHERE report_id = '$id'")
etag2=$(q -c "SELECT etag FROM restmon.report_file WHERE report_id = '$id2'")

# --- over HTTP, from the cache ---
start_gateway "$PORT"
is "the gateway starts" 0 $?
get "$PORT" "$id"
is "GET a complete report: 200 with its ETag" "200 $etag" "$STATUS $(header ETag)"
is "... Cache-Control: no-cache" "no-cache" "$(header Cache-Control)"
is "... the body is restmon_report_csv() byte for byte" 0 "$(same_as_db "$id")"
is "... with its length" "$(q -c "SELECT bytes FROM restmon.report_file WHERE report_id = '$id'")" "$(header Content-Length)"
get "$PORT" "$id"
is "GET it again (cached): the same ETag and body" "200 $etag 0" "$STATUS $(header ETag) $(same_as_db "$id")"
get "$PORT" "$id" -H "If-None-Match: $etag"
is "If-None-Match with its ETag: 304, no body, the ETag" "304 0 $etag" "$STATUS $LEN $(header ETag)"
get "$PORT" "$id" -H "If-None-Match: W/$etag"
is "... its weak form: 304" "304 0" "$STATUS $LEN"
get "$PORT" "$id" -H "If-None-Match: \"x\", $etag"
is "... in a list: 304" "304 0" "$STATUS $LEN"
get "$PORT" "$id" -H "If-None-Match: *"
is "... *: 304" "304 0" "$STATUS $LEN"
get "$PORT" "$id" -H "If-None-Match: $etag2"
is "another report's ETag: 200 and the CSV" "200 0" "$STATUS $(same_as_db "$id")"
get "$PORT" "$id" -H "If-None-Match: \"$id-00000000000000000000000000000000\""
is "an old ETag of the same report: 200 and the CSV" "200 0" "$STATUS $(same_as_db "$id")"
get "$PORT" "$id" -H "If-None-Match: ${etag//\"/}"
is "the ETag without its quotes is no entity tag: 200" "200" "$STATUS"
curl -s -o "$tmp/body" -w '%{http_code}' -X POST -H "If-None-Match: $etag" \
	-d "{\"report_id\": \"$id\"}" "http://127.0.0.1:$PORT/store/get_report/" > "$tmp/meta"
is "POST /store/get_report/ ignores If-None-Match: 200 and the CSV" "200 0" "$(cat "$tmp/meta") $(same_as_db "$id")"
get "$PORT" runRUNrunRUNrunRUNrun7 -H "If-None-Match: *"
is "a Running report: 200 JSON Running, no ETag" "200 Running " \
	"$STATUS $(jq -r .status "$tmp/body") $(header ETag)"
get "$PORT" "$id2"
is "the one-store report: its own ETag and CSV" "200 $etag2 0" "$STATUS $(header ETag) $(same_as_db "$id2")"

# --- pruned after it was cached: 404, the file gone with the report ---
q -c "UPDATE restmon.report SET finished_at = now() - interval '30 days' WHERE report_id = '$id2'" > /dev/null
is "restmon_prune_reports() prunes the report" 1 "$(q -c "SELECT restmon_prune_reports()")"
is "... and its file goes with it" 0 "$(q -c "SELECT count(*) FROM restmon.report_file WHERE report_id = '$id2'")"
get "$PORT" "$id2"
is "GET the pruned report, cached before: 404 P0002" "404 P0002" "$STATUS $(jq -r .sqlstate "$tmp/body")"
get "$PORT" "$id2" -H "If-None-Match: $etag2"
is "... with its old ETag: 404 too" "404" "$STATUS"

# --- a report without a file (completed before 0.4.0): rendered from its
# rows, and stored by its first request ---
q -c "DELETE FROM restmon.report_file WHERE report_id = '$id'" > /dev/null
get "$PORT" "$id"
is "a complete report without a file: 200, the same ETag and bytes" "200 $etag 0" "$STATUS $(header ETag) $(same_as_db "$id")"
is "... and the request stored its file again" "$etag" \
	"$(q -c "SELECT etag FROM restmon.report_file WHERE report_id = '$id'")"

# --- without a cache: the same bytes, streamed in pages (cut from the
# file), the same ETag ---
start_gateway "$PORT2" --csv-cache-mb=0
get "$PORT2" "$id"
is "--csv-cache-mb=0: 200, the ETag, the CSV byte for byte" "200 $etag 0" "$STATUS $(header ETag) $(same_as_db "$id")"
get "$PORT2" "$id" -H "If-None-Match: $etag"
is "... and If-None-Match: 304" "304 0" "$STATUS $LEN"
big=bigBIGbigBIGbigBIGbig8
is "the 3,000-store report has no file yet" 0 "$(q -c "SELECT count(*) FROM restmon.report_file WHERE report_id = '$big'")"
get "$PORT2" "$big"
is "... GET: 200, sent chunked (pages of 64 KiB)" "200 chunked" "$STATUS $(header Transfer-Encoding)"
is "... the CSV byte for byte, 3,001 lines" "0 3001" "$(same_as_db "$big") $(wc -l < "$tmp/body")"
is "... and its file stored, with the ETag sent" "$(header ETag)" \
	"$(q -c "SELECT etag FROM restmon.report_file WHERE report_id = '$big'")"
get "$PORT2" "$big"
is "... again, from the file's pages: the same bytes" "200 0" "$STATUS $(same_as_db "$big")"
get "$PORT" "$big"
is "... and from the cache of the other gateway" "200 0" "$STATUS $(same_as_db "$big")"

# --- a burst of first requests: one reads the CSV, the others wait for it ---
start_gateway "$((PORT + 2))"
seq 16 | xargs -P 16 -I{} curl -s -o "$tmp/burst.{}" -w '%{http_code}\n' \
	"http://127.0.0.1:$((PORT + 2))/api/get_report?report_id=$big" > "$tmp/burst"
is "16 first requests at once for a report not cached: all 200" 16 "$(grep -c '^200$' "$tmp/burst")"
is "... all the CSV byte for byte" "$(q -c "SELECT md5(restmon_report_csv('$big'))")" \
	"$(md5sum "$tmp"/burst.* | cut -c1-32 | sort -u | tr '\n' ' ' | sed 's/ $//')"

# --- storing the file fails after the report's commit (a trigger on
# restmon.report_file refuses it): the report stays Complete, the server
# log says why, and the CSV is rendered from the rows, the same bytes ---
log="$(cluster_dir)/server.log"
q -c "CREATE FUNCTION public.refuse_file() RETURNS trigger LANGUAGE plpgsql AS \$\$
	BEGIN RAISE EXCEPTION 'no file today'; END \$\$" \
	-c "CREATE TRIGGER refuse BEFORE INSERT ON restmon.report_file
	FOR EACH ROW EXECUTE FUNCTION public.refuse_file()" > /dev/null
id3=$(q -c "SELECT restmon_trigger_report()")
is "a report whose file cannot be stored completes" "Complete" "$(q -c "SELECT restmon_wait_report('$id3', '60 s')")"
for _ in $(seq 100); do
	grep -q "could not store the CSV of restmon report $id3: no file today" "$log" && break
	sleep 0.1
done
is "... the server log says why" 1 "$(grep -c "could not store the CSV of restmon report $id3: no file today" "$log")"
q -c "DROP TRIGGER refuse ON restmon.report_file" -c "DROP FUNCTION public.refuse_file()" > /dev/null
is "... it has no file, and is still Complete" "0 Complete" \
	"$(q -F' ' -c "SELECT (SELECT count(*) FROM restmon.report_file WHERE report_id = '$id3'), status
		FROM restmon.report WHERE report_id = '$id3'")"
is "... its CSV: a header and a line per row, rendered from the rows" "t" \
	"$(q -c "SELECT restmon_report_csv('$id3') = 'store_id,uptime_last_hour,uptime_last_day,uptime_last_week,downtime_last_hour,downtime_last_day,downtime_last_week' || E'\n'
		|| (SELECT string_agg(CASE WHEN r.store_id ~ '[,\"\r\n]'
				THEN '\"' || replace(r.store_id, '\"', '\"\"') || '\"' ELSE r.store_id END
			|| ',' || concat_ws(',', r.uptime_last_hour, r.uptime_last_day, r.uptime_last_week,
				r.downtime_last_hour, r.downtime_last_day, r.downtime_last_week) || E'\n', ''
			ORDER BY r.store_id COLLATE \"C\")
			FROM restmon.report_row r WHERE r.report_id = '$id3')")"

echo "1..$n"
[ "$fails" -eq 0 ]
