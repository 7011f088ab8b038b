#!/usr/bin/env bash
# test/postgrest_js.sh: restmon-http's PostgREST dialect driven by the real
# PostgREST client, @supabase/postgrest-js (the project's package.json,
# installed with npm ci from package-lock.json, as for the page).  The suite prints TAP.
. "$(dirname "$0")/pgrst_env.sh"

if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
	is "node and npm are installed (scripts/lib.sh installs them)" yes no
	exit 1
fi
if [ ! -f node_modules/.package-lock.json ] &&
	! npm ci --no-audit --no-fund --silent > "$tmp/npm" 2>&1; then
	cat "$tmp/npm"
	is "npm ci installs the locked packages" 0 1
	exit 1
fi
pgrst_setup
is "the gateway starts for the PostgREST client" 0 $?
RESTMON_URL="$BASE" node --test --test-reporter=tap test/client/postgrest.test.js
st=$?
[ "$fails" -eq 0 ] && exit $st
exit 1
