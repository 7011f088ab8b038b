# test/pgrst_env.sh: what test/postgrest.sh and test/postgrest_js.sh share
# (sourced, not run): the test cluster's data (loop-2024 fixtures), the
# gateway's role with restmon_grant_postgrest_api(), and the gateway on
# RESTMON_TEST_PORT_BASE (stopped on exit), optionally under valgrind.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
export RESTMON_CLUSTER=test
eval "$(scripts/cluster.sh env)"
RESTMON_FIXTURES=${RESTMON_FIXTURES:-$(fixture_dir)}

PORT=${RESTMON_TEST_PORT_BASE:-5087}
BASE="http://127.0.0.1:$PORT"
tmp=$(mktemp -d)
gw_pid=""
trap '[ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null; rm -rf "$tmp"' EXIT

. test/tap.sh

pgrst_setup() {	# a fresh extension, data, the role, the gateway
	psql -X -q -v ON_ERROR_STOP=1 -v fixtures="$RESTMON_FIXTURES" -o /dev/null <<'SQL' || return 1
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS restmon CASCADE;
CREATE EXTENSION restmon;
SELECT restmon_ingest_timezones(:'fixtures' || '/loop-2024/timezones.csv');
SELECT restmon_ingest_hours(:'fixtures' || '/loop-2024/menu_hours.csv');
SELECT restmon_ingest_status(:'fixtures' || '/loop-2024/store_status_head_1000.csv');
DO $$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'restmon_pgrst_test') THEN
		CREATE ROLE restmon_pgrst_test LOGIN;
	END IF;
END $$;
-- the role of PostgREST's db-anon-role: restmon_api and nothing else
SELECT restmon_grant_postgrest_api('restmon_pgrst_test');
-- and the seed routes' (the same gateway serves both)
SELECT restmon_grant_report_api('restmon_pgrst_test');
SQL
	local wrap=()
	# GW_VALGRIND=1: under valgrind (its verdict: the exit status, 9 on an
	# error or a leak, once stopped with SIGTERM)
	[ "${GW_VALGRIND:-0}" = 1 ] && wrap=(valgrind --leak-check=full
		--errors-for-leak-kinds=definite --error-exitcode=9
		--log-file="$tmp/valgrind.log")
	PGUSER=restmon_pgrst_test "${wrap[@]}" "$PGBIN/restmon-http" --port "$PORT" \
		--threads "${GW_THREADS:-2}" > "$tmp/gateway.log" 2>&1 &
	gw_pid=$!
	for _ in $(seq 150); do
		kill -0 "$gw_pid" 2>/dev/null || return 1	# the port was taken
		curl -s -o /dev/null "$BASE/api/health" && return 0
		sleep 0.1
	done
	return 1
}
