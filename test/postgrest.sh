#!/usr/bin/env bash
# test/postgrest.sh: restmon-http's PostgREST dialect with curl (TAP): the
# protocol's edges (OpenAPI at /, Accept, Range and Content-Range, methods,
# profiles, instants), the whitelist against the catalog (every function
# and view of restmon_api, and nothing else), and hostile query strings:
# each one is answered 400 (or what is said) and reaches no SQL, which is
# checked on the gateway's only connection (one thread): its last
# statement in pg_stat_activity does not change.  The gateway runs under
# valgrind throughout: no memory error and no leak.  doc/postgrest.md.
GW_THREADS=1
GW_VALGRIND=1
. "$(dirname "$0")/pgrst_env.sh"

# req METHOD PATH [curl args]: sets STATUS, CTYPE; body in $tmp/body
req() {
	local method=$1 path=$2
	shift 2
	curl -s --path-as-is -o "$tmp/body" -D "$tmp/headers" \
		-w '%{http_code} %{content_type}' -X "$method" "$BASE$path" "$@" > "$tmp/meta"
	STATUS=$(cut -d' ' -f1 "$tmp/meta")
	CTYPE=$(cut -d' ' -f2- "$tmp/meta")
}
code() { jq -r .code "$tmp/body" 2>/dev/null; }
header() { grep -i "^$1:" "$tmp/headers" | sed 's/^[^:]*: //; s/\r$//'; }
last_sql() {	# the gateway connection's last statement and when it began
	psql -X -At -c "SELECT query_start, query FROM pg_stat_activity
		WHERE usename = 'restmon_pgrst_test'"
}

pgrst_setup
is "the gateway starts" 0 $?
id=$(curl -s -X POST "$BASE/rpc/restmon_trigger_report" -H 'Content-Type: application/json' -d '{}' | jq -r .)
psql -X -At -c "SELECT restmon_wait_report('$id')" > /dev/null
stores=$(psql -X -At -c "SELECT count(*) FROM restmon_store_uptime()")
store=$(psql -X -At -c "SELECT min(store_id) FROM restmon.store")

# --- the protocol ---
req GET /
is "GET /: 200, the OpenAPI document" "200 application/openapi+json; charset=utf-8 3.0.3" "$STATUS $CTYPE $(jq -r .openapi "$tmp/body")"
req GET "/reports?report_id=eq.$id&select=report_id,status"
is "GET /reports?report_id=eq.ID: the report, Content-Range 0-0/*" "200 0-0/* Complete" "$STATUS $(header Content-Range) $(jq -r '.[0].status' "$tmp/body")"
req GET "/rpc/restmon_get_report?report_id=$id&select=store_id" -H 'Range: 0-9' -H 'Prefer: count=exact'
is "Range: 0-9 with count=exact: 206, Content-Range 0-9/$stores" "206 0-9/$stores 10" "$STATUS $(header Content-Range) $(jq length "$tmp/body")"
req GET "/rpc/restmon_get_report?report_id=$id&select=store_id&offset=5&limit=3" -H 'Range: 0-6'
is "Range and limit/offset intersect: 5-6" "200 5-6/*" "$STATUS $(header Content-Range)"
req GET "/rpc/restmon_get_report?report_id=$id&offset=100000" -H 'Prefer: count=exact'
is "an offset past the end with a count: 416 PGRST103, */$stores" "416 PGRST103 */$stores" "$STATUS $(code) $(header Content-Range)"
req GET "/rpc/restmon_get_report?report_id=$id" -H 'Range: 5-2'
is "a reversed Range: 416 PGRST103" "416 PGRST103" "$STATUS $(code)"
req GET "/reports?report_id=eq.$id&select=report_id,status" -H 'Accept: text/csv'
is "Accept: text/csv on a view: PostgREST's CSV" "200 text/csv; charset=utf-8 report_id,status|$id,Complete" "$STATUS $CTYPE $(tr '\n' '|' < "$tmp/body")"
req GET "/rpc/restmon_report_csv?report_id=$id" -H 'Accept: text/csv'
psql -X -At -c "SELECT restmon_report_csv('$id')" -o "$tmp/db.csv"
(cat "$tmp/body"; echo) > "$tmp/body_nl"
is "restmon_report_csv as text/csv: semantics §6's CSV byte for byte" "200 0" "$STATUS $(cmp -s "$tmp/body_nl" "$tmp/db.csv"; echo $?)"
req GET "/rpc/restmon_report_csv?report_id=$id"
is "... and as JSON, one string" "200 string" "$STATUS $(jq -r type "$tmp/body")"
req GET /reports -H 'Accept: text/xml'
is "Accept: text/xml: 406 PGRST107" "406 PGRST107" "$STATUS $(code)"
req GET "/rpc/restmon_report_status?report_id=$id" -H 'Accept: application/vnd.pgrst.object+json'
is "vnd.pgrst.object+json: one object" "200 Complete" "$STATUS $(jq -r .status "$tmp/body")"
req GET "/rpc/restmon_get_report?report_id=$id" -H 'Accept: application/vnd.pgrst.object+json'
is "... of many rows: 406 PGRST116" "406 PGRST116" "$STATUS $(code)"
req GET /rpc/restmon_trigger_report
is "GET of the VOLATILE trigger: 405 25006, Allow: POST" "405 25006 POST" "$STATUS $(code) $(header Allow)"
req DELETE "/rpc/restmon_get_report"
is "DELETE on a function: 405 PGRST101" "405 PGRST101" "$STATUS $(code)"
req POST /reports -d '{}'
is "POST on a view: 405 (read-only)" "405 PGRST117" "$STATUS $(code)"
req POST /rpc/restmon_get_report -H 'Content-Type: text/plain' -d 'x'
is "a body that is not JSON by Content-Type: 415 PGRST107" "415 PGRST107" "$STATUS $(code)"
req GET /rpc/restmon_default_as_of -H 'Accept-Profile: public'
is "Accept-Profile: public: 406 PGRST106" "406 PGRST106" "$STATUS $(code)"
req GET "/rpc/restmon_store_uptime?as_of=now"
is "as_of=now (semantics §4): 400 22007" "400 22007" "$STATUS $(code)"
req GET "/reports?as_of=lt.infinity"
is "an instant filter without an offset: 400 22007" "400 22007" "$STATUS $(code)"
req POST /rpc/restmon_get_report -H 'Content-Type: application/json' -d '{}'
is "a required argument missing: 404 PGRST202" "404 PGRST202" "$STATUS $(code)"
req GET /rpc/restmon_get_report?report_id=AAAAAAAAAAAAAAAAAAAAAA
is "an unknown report: 404 PT404, message and hint" "404 PT404 true" "$STATUS $(code) $(jq '.hint != null and (.message | test("does not exist"))' "$tmp/body")"
req GET /rpc/restmon_get_report?report_id=nope
is "a malformed id: 400 22023 with its detail" "400 22023 true" "$STATUS $(code) $(jq '.details != null' "$tmp/body")"
req GET /api/get_report?report_id=AAAAAAAAAAAAAAAAAAAAAA
is "the seed route still says 404 P0002" "404 P0002" "$STATUS $(jq -r .sqlstate "$tmp/body")"

# --- the trigger is rate-limited per client, as on the seed routes ---
PGUSER=restmon_pgrst_test "$PGBIN/restmon-http" --port $((PORT + 1)) --threads 1 \
	--trigger-rate 0.01 --trigger-burst 2 >> "$tmp/gateway.log" 2>&1 &
lim_pid=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$((PORT + 1))/api/health" && break; sleep 0.1; done
codes=""
for _ in 1 2 3; do
	codes="$codes $(curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' -X POST \
		"http://127.0.0.1:$((PORT + 1))/rpc/restmon_trigger_report" -H 'Content-Type: application/json' -d '{}')"
done
is "burst 2: POST /rpc/restmon_trigger_report x3 is 200 200 429" " 200 200 429" "$codes"
is "... the 429 is PT429 with Retry-After" "PT429 yes" "$(code) $(header Retry-After | grep -qE '^[1-9][0-9]*$' && echo yes)"
kill "$lim_pid"; wait "$lim_pid" 2>/dev/null

# --- the whitelist is restmon_api, exactly: every function and view of
# the catalog is in the OpenAPI document and answers with all its columns ---
catalog=$(psql -X -At -c "SELECT CASE WHEN c.relkind = 'v' THEN '/' || c.relname END
	FROM pg_class c WHERE c.relnamespace = 'restmon_api'::regnamespace
	UNION ALL SELECT '/rpc/' || proname FROM pg_proc
	WHERE pronamespace = 'restmon_api'::regnamespace ORDER BY 1")
documented=$(jq -r '.paths | keys[] | select(startswith("/rpc/") or (startswith("/api") or startswith("/store") or . == "/" | not))' gateway/openapi.json | sort)
is "restmon_api's functions and views = the documented PostgREST paths" "$catalog" "$documented"
bad=""
while IFS='|' read -r path cols args; do
	req GET "$path?select=$cols&limit=0$args"
	[ "$STATUS" = 200 ] || bad="$bad $path:$STATUS"
done < <(psql -X -At -c "
	SELECT '/' || c.relname, string_agg(a.attname, ',' ORDER BY a.attnum), ''
	FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
	WHERE c.relnamespace = 'restmon_api'::regnamespace AND c.relkind = 'v'
	GROUP BY c.relname
	UNION ALL
	SELECT '/rpc/' || p.proname, string_agg(o.name, ',' ORDER BY o.n),
	       CASE WHEN 'report_id' = ANY (p.proargnames) THEN '&report_id=$id'
	            WHEN p.proname IN ('restmon_store_hours', 'restmon_store_timeline')
	            THEN '&store_id=$store' ELSE '' END
	FROM pg_proc p, unnest(p.proargnames, p.proargmodes) WITH ORDINALITY AS o(name, mode, n)
	WHERE p.pronamespace = 'restmon_api'::regnamespace AND p.proretset
	  AND o.mode IN ('o', 't') GROUP BY p.proname, p.proargnames
	UNION ALL
	SELECT '/rpc/' || p.proname, string_agg(a.attname, ',' ORDER BY a.attnum), ''
	FROM pg_proc p JOIN pg_type t ON t.oid = p.prorettype
	JOIN pg_attribute a ON a.attrelid = t.typrelid AND a.attnum > 0
	WHERE p.pronamespace = 'restmon_api'::regnamespace AND p.proretset
	  AND p.proargmodes IS NULL GROUP BY p.proname")
is "every set function and view answers a select of all its catalog columns" "" "$bad"
vol=$(psql -X -At -c "SELECT string_agg(proname || ':' || provolatile::text, ' ' ORDER BY proname)
	FROM pg_proc WHERE pronamespace = 'restmon_api'::regnamespace")
is "the trigger alone is VOLATILE, the readers STABLE" "restmon_default_as_of:s restmon_get_report:s restmon_incidents:s restmon_report_csv:s restmon_report_histogram:s restmon_report_overview:s restmon_report_status:s restmon_store_hours:s restmon_store_timeline:s restmon_store_uptime:s restmon_trigger_report:v" "$vol"

# --- hostile query strings: 400 (or as said), and no SQL ---
before=$(last_sql)
hostile() {	# description, expected "STATUS CODE", path, [curl args]
	local d=$1 want=$2 path=$3
	shift 3
	req GET "$path" "$@"
	is "hostile: $d" "$want" "$STATUS $(code)"
}
many() { for _ in $(seq "$1"); do printf '%s&' "$2"; done; }
hostile "unknown column in a filter" "400 42703" "/reports?nope=eq.1"
hostile "unknown column in select" "400 42703" "/reports?select=report_id,nope"
hostile "unknown column in order" "400 42703" "/rpc/restmon_store_uptime?order=nope.desc"
hostile "an unknown argument of a function" "404 PGRST202" "/rpc/restmon_store_uptime?nope=1"
hostile "unknown operator (like)" "400 PGRST100" "/reports?status=like.Comp*"
hostile "unsupported operator (not.eq)" "400 PGRST100" "/reports?status=not.eq.x"
hostile "no operator" "400 PGRST100" "/reports?status=Complete"
hostile "bad order modifier" "400 PGRST100" "/reports?order=status.sideways"
hostile "SQL in select" "400 PGRST100" "/reports?select=report_id%3BDROP%20TABLE%20restmon.report"
hostile "SQL in order" "400 42703" "/reports?order=status%3Bselect%201"
hostile "SQL in a filter's column" "400 42703" "/reports?status%22%20OR%201%3D1--=eq.x"
hostile "a quote in a column name" "400 42703" "/reports?select=%22status%22"
hostile "an embedding" "400 PGRST100" "/reports?select=report_id,report_rows(*)"
hostile "a cast" "400 PGRST100" "/reports?select=rows::text"
hostile "a JSON path" "400 PGRST100" "/reports?select=error->>x"
hostile "deep nesting in select (1,000 levels)" "400 PGRST100" "/reports?select=$(printf 'a(%.0s' $(seq 1000))"
hostile "deep nesting in or=(...)" "400 PGRST100" "/reports?or=$(printf 'and(%.0s' $(seq 500))"
hostile "33 filters (32 at most)" "400 PGRST100" "/reports?$(many 33 status=eq.x)"
hostile "10,000 filters: the URL is over the connection's memory (libmicrohttpd)" "414 " "/reports?$(many 10000 status=eq.x)"
hostile "invalid percent-encoding in a value" "400 PGRST100" "/reports?status=eq.%zz"
hostile "invalid percent-encoding in a key" "400 PGRST100" "/reports?st%G1tus=eq.x"
hostile "truncated percent-encoding" "400 PGRST100" "/reports?status=eq.x%2"
hostile "an encoded control character" "400 PGRST100" "/reports?status=eq.%01"
hostile "an encoded NUL" "400 PGRST100" "/reports?status=eq.a%00b"
hostile "a parameter without a value" "400 PGRST100" "/reports?status"
hostile "an empty key" "400 42703" "/reports?=eq.x"
hostile "limit -1" "400 PGRST100" "/reports?limit=-1"
hostile "limit beyond 10^9" "400 PGRST100" "/reports?limit=99999999999"
hostile "offset not a number" "400 PGRST100" "/reports?offset=1e3"
hostile "an unterminated quote in in.()" "400 PGRST100" "/reports?status=in.(%22a,b)"
hostile "in. without a list" "400 PGRST100" "/reports?status=in.a,b"
hostile "101 values in in.()" "400 PGRST100" "/reports?status=in.($(seq -s, 101))"
hostile "limit on a scalar function" "400 PGRST100" "/rpc/restmon_default_as_of?limit=1"
hostile "a function outside restmon_api" "404 PGRST202" "/rpc/restmon_ingest?dir=/etc"
hostile "a path outside the dialect" "404 null" "/restmon.report"
req POST /rpc/restmon_get_report -H 'Content-Type: application/json' --data-binary "$(printf '[%.0s' $(seq 5000))$(printf ']%.0s' $(seq 5000))"
is "hostile: a body nested 5,000 deep: 400 PGRST102" "400 PGRST102" "$STATUS $(code)"
req POST /rpc/restmon_get_report -H 'Content-Type: application/json' -d '{"report_id": {"a": 1}}'
is "hostile: an object as an argument: 400 PGRST102" "400 PGRST102" "$STATUS $(code)"
req POST /rpc/restmon_trigger_report -H 'Content-Type: application/json' -d '{"wait": true}'
is "hostile: an argument the exposed function has not (wait): 404 PGRST202" "404 PGRST202" "$STATUS $(code)"
is "no hostile request reached SQL (the connection's last statement)" "$before" "$(last_sql)"

# values are data: bound as parameters, never SQL text
req GET "/reports?status=eq.x%27%3B%20DROP%20TABLE%20restmon.report%3B--"
is "SQL in a text value is a value: 200 []" "200 []" "$STATUS $(jq -c . "$tmp/body")"
req GET "/reports?rows=eq.1%3B%20DROP%20TABLE%20restmon.report"
is "SQL in a number value: the database refuses the value, 400 22P02" "400 22P02" "$STATUS $(code)"
is "... and restmon.report is still there, with its report" 1 "$(psql -X -At -c "SELECT count(*) FROM restmon.report WHERE report_id = '$id'")"

kill -TERM "$gw_pid"
wait "$gw_pid"
st=$?
gw_pid=""
is "valgrind: no memory error and no leak in the dialect's requests" 0 "$st"
[ "$st" -ne 0 ] && grep -E 'ERROR SUMMARY|definitely' "$tmp/valgrind.log"

echo "1..$n"
[ "$fails" -eq 0 ]
