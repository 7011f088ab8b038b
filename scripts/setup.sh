#!/usr/bin/env bash
# scripts/setup.sh: the README's main command.  Installs what restmon needs,
# builds and installs it, starts the local cluster, loads data (your CSV
# files from ./data if you put them there, otherwise generated demo data),
# schedules hourly ingestion with pg_cron, runs a report, and starts the
# HTTP gateway on 127.0.0.1:5000 (RESTMON_HTTP_PORT and RESTMON_HTTP_BIND
# choose another port and address, see scripts/gateway.sh).
# STORES=N sets the demo size (default 14000, the real data's scale).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$PROJECT_DIR"
export RESTMON_CLUSTER=main
# paths in messages: relative to the checkout when they are inside it
rel() { case "$1" in "$PROJECT_DIR"/*) printf '%s\n' "${1#"$PROJECT_DIR"/}" ;; *) printf '%s\n' "$1" ;; esac; }
echo "restmon setup: packages, build, cluster $(rel "$(cluster_dir)"), data, ingest, report, gateway"

install_packages
build_and_install
scripts/cluster.sh start
eval "$(scripts/cluster.sh env)"
DATA_DIR="$(cluster_dir)/demo"
mkdir -p "$DATA_DIR"

psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS restmon;
ALTER EXTENSION restmon UPDATE;
-- the HTTP gateway's role: it may only execute the report API
DO $$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'restmon_gateway') THEN
		CREATE ROLE restmon_gateway LOGIN;
	END IF;
END $$;
SELECT restmon_grant_report_api('restmon_gateway') \gset
SQL

# --- data ---
if ls data/*.csv >/dev/null 2>&1; then
	echo "using your CSV files from ./data"
	cp data/*.csv "$DATA_DIR"/
else
	echo "generating demo data: ${STORES:-14000} stores x 8 days"
	psql -X -q -v ON_ERROR_STOP=1 -v outdir="$DATA_DIR" -v stores="${STORES:-14000}" \
		-f scripts/gen_demo.sql | grep -v '^Output format is '
fi
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$DATA_DIR"
chmod -R a+rX "$DATA_DIR"

# --- main job: ingest, schedule, report ---
echo
echo "ingesting $(rel "$DATA_DIR"):"
psql -X -v ON_ERROR_STOP=1 -c "SELECT regexp_replace(file, '^.*/', '') AS file, rows_read, rows_loaded, rows_duplicate, rows_rejected, outcome FROM restmon_ingest('$DATA_DIR')"

echo "scheduling hourly ingestion and upkeep with pg_cron:"
psql -X -v ON_ERROR_STOP=1 -c "SELECT * FROM restmon_schedule('$DATA_DIR')"

echo "report:"
id=$(psql -X -At -v ON_ERROR_STOP=1 -c "SELECT restmon_trigger_report()")
echo "  restmon_trigger_report() -> $id"
psql -X -At -v ON_ERROR_STOP=1 -c "SELECT '  status: ' || restmon_wait_report('$id')"
psql -X -v ON_ERROR_STOP=1 -c "SELECT report_id, status, as_of, rows, duration FROM restmon.reports WHERE report_id = '$id'"
psql -X -At -v ON_ERROR_STOP=1 -c "SELECT restmon_report_csv('$id')" | sed '/^$/d' > "$DATA_DIR/report-$id.csv"
head -6 "$DATA_DIR/report-$id.csv"
echo "  ... $(($(wc -l < "$DATA_DIR/report-$id.csv") - 1)) stores in $(rel "$DATA_DIR/report-$id.csv")"
echo
scripts/gateway.sh stop
scripts/gateway.sh start
url=$(scripts/gateway.sh url)
url=${url/#http:\/\/0.0.0.0:/http://127.0.0.1:}	# bound to every interface
echo "  curl -s -X POST ${url}api/trigger_report"
echo "  curl -s '${url}api/get_report?report_id=$id' | head -3"
curl -s "${url}api/get_report?report_id=$id" | head -3 || true
echo
echo "connect with:  eval \"\$(scripts/cluster.sh env)\"; psql"
echo "then:          SELECT * FROM restmon_get_report('$id') LIMIT 5;"
echo "restmon setup done in ${SECONDS}s (stop: scripts/gateway.sh stop; scripts/cluster.sh stop; more: doc/operations.md)"
