#!/usr/bin/env bash
# bench/page.sh: the web page's first load over the demo's 14,000 stores
# (issue 16: first meaningful paint under 1 s, no response over 1 MB), on
# the benchmark's own cluster (RESTMON_CLUSTER=bench, recreated), with
# Debian's chromium (bench/page.mjs).  Prints one JSON line and writes it,
# with the machine's load, to bench/RESULTS-page.md.
#
#   STORES=14000  RUNS=5  PORT=5095
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
export RESTMON_CLUSTER=bench
STORES=${STORES:-14000}
RUNS=${RUNS:-5}
PORT=${PORT:-5095}

install_packages
build_and_install
scripts/cluster.sh destroy
scripts/cluster.sh start > /dev/null
eval "$(scripts/cluster.sh env)"
DATA="$(cluster_dir)/data-page"
mkdir -p "$DATA"
chmod a+rwx "$DATA"
echo "generating and loading $STORES stores x 8 days" >&2
psql -X -q -v ON_ERROR_STOP=1 -o /dev/null <<'SQL'
CREATE EXTENSION IF NOT EXISTS restmon;
DO $$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'restmon_gateway') THEN
		CREATE ROLE restmon_gateway LOGIN;
	END IF;
END $$;
SELECT restmon_grant_postgrest_api('restmon_gateway');
SQL
psql -X -q -v ON_ERROR_STOP=1 -v outdir="$DATA" -v stores="$STORES" \
	-f scripts/gen_demo.sql > /dev/null
psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -c "SELECT * FROM restmon_ingest('$DATA')"
id=$(psql -X -At -c "SELECT restmon_trigger_report()")
psql -X -At -c "SELECT restmon_wait_report('$id')" > /dev/null
PGUSER=restmon_gateway "$PGBIN/restmon-http" --port "$PORT" > "$DATA/gateway.log" 2>&1 &
gw=$!
trap 'kill $gw 2>/dev/null; scripts/cluster.sh stop > /dev/null 2>&1' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/api/health" && break; sleep 0.1; done
result=$(RESTMON_URL="http://127.0.0.1:$PORT" RUNS=$RUNS node bench/page.mjs)
echo "$result"
{
	echo "# The web page's first load (bench/page.sh)"
	echo
	echo "$STORES stores, $RUNS first loads in fresh contexts of $(chromium --version 2>/dev/null | head -1 | cut -d' ' -f1-2),"
	echo "$(nproc) CPUs, load average before the run: $(cut -d' ' -f1-3 /proc/loadavg). Target: paint < 1000 ms, every response < 1 MB."
	echo
	echo '```'
	echo "$result" | jq .
	echo '```'
} > bench/RESULTS-page.md
