#!/usr/bin/env bash
# test/own_data.sh: the README's setup command with your own files, as
# doc/operations.md "Your own data" describes it (TAP).  scripts/setup.sh
# runs in a cluster of its own (RESTMON_CLUSTER=setup, recreated here), with
# a 30-store demo and, as "your files", the public 2024 sample of
# test/fixtures/loop-2024:
#   demo -> your files: reset, exactly your stores, the job on your directory
#   a file added later to your directory: the hourly job's command reads it
#   two status files in your directory: refused, nothing changed
#   your files -> demo again: reset, exactly the demo's stores
# Expected store sets come from the files themselves (awk), not from restmon.
set -uo pipefail
cd "$(dirname "$0")/.."
. test/tap.sh
. scripts/lib.sh

export RESTMON_CLUSTER=setup STORES=30
export RESTMON_HTTP_PORT=$(( ${RESTMON_TEST_PORT_BASE:-5087} + 3 ))
tmp=$(mktemp -d)
mine="$tmp/mine"
nodata="$tmp/none"
mkdir -p "$mine" "$nodata"
cleanup() { scripts/cluster.sh destroy > /dev/null 2>&1; rm -rf "$tmp"; }
trap cleanup EXIT
scripts/cluster.sh destroy > /dev/null 2>&1
rm -rf "$(cluster_dir)"

cp test/fixtures/loop-2024/store_status_head_1000.csv "$mine/store_status.csv"
cp test/fixtures/loop-2024/menu_hours.csv test/fixtures/loop-2024/timezones.csv "$mine/"
chmod -R a+rX "$tmp"

# store ids in a directory's files, sorted byte-wise: those of the status
# file (a full report has a row for each polled store, semantics §6.1) and
# those of all three files (every store your data names)
polled_ids() { tail -n +2 "$1/store_status.csv" | cut -d, -f1 | LC_ALL=C sort -u; }
named_ids() { tail -q -n +2 "$1"/*.csv | cut -d, -f1 | LC_ALL=C sort -u; }
q() { psql -X -At -v ON_ERROR_STOP=1 -c "$1"; }
setup() { scripts/setup.sh > "$tmp/setup.log" 2>&1; }


# --- the demo first ---
RESTMON_DATA=$nodata setup
is "setup with no files of yours: the demo" 0 $?
eval "$(scripts/cluster.sh env)"
is "... a report of the demo's 30 stores" 30 \
	"$(q "SELECT rows FROM restmon.reports ORDER BY requested_at DESC LIMIT 1")"

# --- then your files ---
RESTMON_DATA=$mine setup
is "setup with your files after the demo" 0 $?
is "... says it resets the demo's data first" 1 \
	"$(grep -c "^the database holds demo; resetting restmon's data" "$tmp/setup.log")"
polled_ids "$mine" > "$tmp/expected"
named_ids "$mine" > "$tmp/named"
q "SELECT store_id FROM restmon_store_uptime() ORDER BY store_id COLLATE \"C\"" > "$tmp/got"
is "... the report holds exactly your files' stores (no demo store)" \
	"$(wc -l < "$tmp/expected") same" \
	"$(wc -l < "$tmp/got") $(cmp -s "$tmp/expected" "$tmp/got" && echo same || echo different)"
is "... and its last report has as many rows" "$(wc -l < "$tmp/expected")" \
	"$(q "SELECT rows FROM restmon.reports ORDER BY requested_at DESC LIMIT 1")"
is "... the hourly ingest job reads your directory itself" \
	"SELECT * FROM public.restmon_ingest('$mine')" \
	"$(q "SELECT command FROM cron.job WHERE jobname = 'restmon-ingest'")"

# --- a poll added to your directory later: the job's command picks it up
echo "00000000-0000-4000-8000-00000000add1,active,2024-10-14 12:00:00 UTC" >> "$mine/store_status.csv"
q "$(q "SELECT command FROM cron.job WHERE jobname = 'restmon-ingest'")" > /dev/null
is "a poll added to your file later: the scheduled command loads it" 1 \
	"$(q "SELECT count(*) FROM restmon.observation WHERE store_id = '00000000-0000-4000-8000-00000000add1'")"

# --- two status files: refused before anything is loaded (first, the
# polls older than the retention edge pruned, as the upkeep job may do it
# meanwhile: doc/operations.md, Retention of polls)
q "SELECT restmon_prune_observations(1000000)" > /dev/null
polls_before=$(q "SELECT count(*) FROM restmon.observation")
cp "$mine/store_status.csv" "$mine/stores.csv"
RESTMON_DATA=$mine setup
is "store_status.csv and stores.csv both in your directory: setup fails" 1 $?
is "... and names both" 1 \
	"$(grep -c '^both store_status.csv and stores.csv are in .*: keep one' "$tmp/setup.log")"
is "... loading nothing, resetting nothing" "$polls_before" \
	"$(q "SELECT count(*) FROM restmon.observation")"
rm "$mine/stores.csv"

# --- back to the demo
RESTMON_DATA=$nodata setup
is "setup with no files of yours again: the demo" 0 $?
is "... after resetting your data" 1 \
	"$(grep -c "^the database holds $mine; resetting restmon's data" "$tmp/setup.log")"
q "SELECT store_id FROM restmon_store_uptime() ORDER BY store_id COLLATE \"C\"" > "$tmp/got"
is "... exactly the demo's 30 stores, none of yours" "30 0" \
	"$(wc -l < "$tmp/got") $(LC_ALL=C comm -12 "$tmp/named" "$tmp/got" | wc -l)"

echo "1..$n"
[ "$fails" -eq 0 ]
