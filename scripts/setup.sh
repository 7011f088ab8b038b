#!/usr/bin/env bash
# scripts/setup.sh: the README's main command.  Installs what restmon needs,
# builds and installs it, starts the local cluster, loads data (your CSV
# files from ./data -- or RESTMON_DATA -- if you put them there, otherwise
# generated demo data; never both: see doc/operations.md#your-own-data),
# schedules hourly ingestion of that directory with pg_cron, runs a report,
# and starts the HTTP gateway on 127.0.0.1:5000 (RESTMON_HTTP_PORT and
# RESTMON_HTTP_BIND choose another port and address, see scripts/gateway.sh).
# STORES=N sets the demo size (default 14000, the real data's scale).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$PROJECT_DIR"
export RESTMON_CLUSTER=${RESTMON_CLUSTER:-main}	# test/own_data.sh: "setup"
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
-- the gateway's poll role (POST /api/polls): it may only record polls
DO $$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'restmon_poller') THEN
		CREATE ROLE restmon_poller LOGIN;
	END IF;
END $$;
SELECT restmon_grant_poll_api('restmon_poller') \gset
SQL

# --- data ---
# Your files (RESTMON_DATA, default ./data) or the generated demo; never
# both in one database: .cluster/main/source names what the database holds,
# and when that changes restmon's data is reset before loading the new one.
USER_DIR=${RESTMON_DATA:-$PROJECT_DIR/data}
if ls "$USER_DIR"/*.csv >/dev/null 2>&1; then
	USER_DIR=$(cd "$USER_DIR" && pwd)
	SOURCE=$USER_DIR
else
	SOURCE=demo
fi
SOURCE_FILE="$(cluster_dir)/source"
held=$(cat "$SOURCE_FILE" 2>/dev/null || true)
if [ -z "$held" ] &&
   [ "$(psql -X -At -c 'SELECT EXISTS (SELECT FROM restmon.observation)')" = t ]; then
	held="an earlier setup's data"
fi
if [ -n "$held" ] && [ "$held" != "$SOURCE" ]; then
	echo "the database holds $(rel "$held"); resetting restmon's data (polls, hours, zones, reports, ingestion history) before loading $(rel "$SOURCE")"
	psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
SELECT restmon_unschedule() AS unscheduled \gset
DROP EXTENSION restmon;
CREATE EXTENSION restmon;
SELECT restmon_grant_report_api('restmon_gateway') \gset
SELECT restmon_grant_poll_api('restmon_poller') \gset
SQL
	rm -f "$DATA_DIR"/*.csv
fi
if [ "$SOURCE" != demo ]; then
	for pair in "store_status.csv stores.csv" "business_hours.csv menu_hours.csv"; do
		set -- $pair
		if [ -e "$USER_DIR/$1" ] && [ -e "$USER_DIR/$2" ]; then
			echo "both $1 and $2 are in $(rel "$USER_DIR"): keep one (restmon reads one file per source)" >&2
			exit 1
		fi
	done
	echo "using your CSV files from $(rel "$USER_DIR")"
	if as_postgres test -r "$USER_DIR" -a -x "$USER_DIR" 2>/dev/null &&
	   ! as_postgres find "$USER_DIR" -maxdepth 1 -name '*.csv' ! -readable | grep -q .; then
		DATA_DIR=$USER_DIR		# ingested and scheduled where it is
	else
		echo "  the server (user postgres) cannot read $(rel "$USER_DIR"): using a copy in $(rel "$DATA_DIR");"
		echo "  copy later files there too, or make $(rel "$USER_DIR") readable (chmod -R a+rX) and run setup again"
		cp "$USER_DIR"/*.csv "$DATA_DIR"/
	fi
else
	echo "generating demo data: ${STORES:-14000} stores x 8 days"
	psql -X -q -v ON_ERROR_STOP=1 -v outdir="$DATA_DIR" -v stores="${STORES:-14000}" \
		-f scripts/gen_demo.sql | grep -v '^Output format is '
fi
echo "$SOURCE" > "$SOURCE_FILE"
if [ "$DATA_DIR" = "$(cluster_dir)/demo" ]; then
	[ "$(id -u)" -eq 0 ] && chown -R postgres: "$DATA_DIR"
	chmod -R a+rX "$DATA_DIR"
fi

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
REPORT_DIR="$(cluster_dir)/demo"		# never into your data directory
psql -X -At -v ON_ERROR_STOP=1 -c "SELECT restmon_report_csv('$id')" | sed '/^$/d' > "$REPORT_DIR/report-$id.csv"
head -6 "$REPORT_DIR/report-$id.csv"
echo "  ... $(($(wc -l < "$REPORT_DIR/report-$id.csv") - 1)) stores in $(rel "$REPORT_DIR/report-$id.csv")"
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
