#!/usr/bin/env bash
# test/page.sh: the operators' web page (issue 16, doc/page.md) in a real
# browser (TAP): Debian's chromium driven by playwright-core (Node, from
# package-lock.json) against the real gateway, serving the installed page,
# and the test cluster loaded with a generated demo (DEMO_STORES stores, 8
# days; the 1-second paint on 14,000 stores is bench/page.sh's).  The tests
# are test/page/page.test.mjs; they compare what the page shows with the
# same SQL.  RESTMON_SCREENSHOTS=1 writes the screenshots into doc/ (the
# README's), otherwise into a temporary directory.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
export RESTMON_CLUSTER=test
eval "$(scripts/cluster.sh env)"
. test/tap.sh

PORT=${RESTMON_TEST_PORT_BASE:-5087}
BASE="http://127.0.0.1:$PORT"
DEMO_STORES=${DEMO_STORES:-1000}
tmp=$(mktemp -d)
chmod a+rwx "$tmp"
gw_pid=""
trap '[ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null; rm -rf "$tmp"' EXIT

if [ ! -x /usr/bin/chromium ] || ! command -v node > /dev/null; then
	is "chromium and node are installed (scripts/lib.sh installs them)" yes no
	exit 1
fi
if [ ! -f node_modules/.package-lock.json ] &&
	! npm ci --no-audit --no-fund --silent > "$tmp/npm" 2>&1; then
	cat "$tmp/npm"
	is "npm ci installs the locked packages" 0 1
	exit 1
fi
WEB_ROOT=$("$PG_CONFIG" --sharedir)/restmon/web
is "make install installed the page into $WEB_ROOT" yes \
	"$([ -f "$WEB_ROOT/index.html" ] && [ -f "$WEB_ROOT/app.js" ] && echo yes)"

# the demo, a report of every store, the gateway's two roles
psql -X -q -v ON_ERROR_STOP=1 -o /dev/null <<SQL
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS restmon CASCADE;
CREATE EXTENSION restmon;
DO \$\$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'restmon_page_test') THEN
		CREATE ROLE restmon_page_test LOGIN;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'restmon_page_poller') THEN
		CREATE ROLE restmon_page_poller LOGIN;
	END IF;
END \$\$;
SELECT restmon_grant_postgrest_api('restmon_page_test');
SELECT restmon_grant_poll_api('restmon_page_poller');
SQL
psql -X -q -v ON_ERROR_STOP=1 -v outdir="$tmp" -v stores="$DEMO_STORES" \
	-f scripts/gen_demo.sql > /dev/null &&
	psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -c "SELECT * FROM restmon_ingest('$tmp')"
is "the demo of $DEMO_STORES stores is loaded" 0 $?
id=$(psql -X -At -c "SELECT restmon_trigger_report()")
is "its report is Complete" Complete "$(psql -X -At -c "SELECT restmon_wait_report('$id')")"

PGUSER=restmon_page_test "$PGBIN/restmon-http" --port "$PORT" --threads 4 \
	--poll-dsn "user=restmon_page_poller" > "$tmp/gateway.log" 2>&1 &
gw_pid=$!
for _ in $(seq 150); do
	curl -s -o /dev/null "$BASE/api/health" && break
	sleep 0.1
done

shots=$tmp
[ "${RESTMON_SCREENSHOTS:-0}" = 1 ] && shots=$PROJECT_DIR/doc
RESTMON_URL=$BASE RESTMON_REPORT=$id RESTMON_SHOTS=$shots \
	node --test --test-concurrency=1 --test-reporter=tap test/page/page.test.mjs
st=$?
if [ $st -ne 0 ]; then
	tail -20 "$tmp/gateway.log" | sed 's/^/# /'
fi
# the node runner's own plan is not ours: the counts come from its ok lines
[ "$fails" -eq 0 ] && exit $st
exit 1
