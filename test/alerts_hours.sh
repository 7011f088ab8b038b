#!/usr/bin/env bash
# test/alerts_hours.sh: a session keeps the zones and hours its state
# alerts read (src/alert_hours.c) only while they are unchanged: every
# write to restmon.business_hours or restmon.store_timezone is seen by the
# next batch of the same session (semantics §5.6; each alert derived by
# hand, TAP).  All polls of store ah1 on Monday 2024-10-07, recorded in ONE
# session, one batch a step (10:00 active stored first):
#   1. hours 09:00-17:00 UTC; 11:00 inactive: down since 10:30 (halfway),
#      by 11:00
#   2. UPDATE: hours 12:00-17:00; 11:30 active is closed time: nothing
#      (the old hours would say up since 11:15)
#   3. TRUNCATE: open around the clock (semantics §2); 11:40 inactive: down
#      since 11:35, by 11:40 (the old hours: closed, nothing)
#   4. INSERT: 09:00-17:00 again; 11:50 active: up since 11:45, by 11:50
#   5. zone UTC -> Asia/Tokyo (UTC+9): 12:00 UTC is 21:00 there, closed:
#      nothing (the old zone would say down since 11:55)
set -uo pipefail
cd "$(dirname "$0")/.."
. test/tap.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

alerts_fresh ah1
q <<'SQL'
INSERT INTO restmon.observation VALUES ('ah1', '2024-10-07 10:00Z', true);
SQL

listen_start
q > /dev/null <<'SQL'
SELECT restmon_record_poll('ah1', 'inactive', '2024-10-07 11:00Z');
UPDATE restmon.business_hours SET start_local = '12:00' WHERE store_id = 'ah1';
SELECT restmon_record_poll('ah1', 'active', '2024-10-07 11:30Z');
TRUNCATE restmon.business_hours;
SELECT restmon_record_poll('ah1', 'inactive', '2024-10-07 11:40Z');
INSERT INTO restmon.business_hours
	SELECT 'ah1', d, '09:00', '17:00' FROM generate_series(0, 6) d;
SELECT restmon_record_poll('ah1', 'active', '2024-10-07 11:50Z');
UPDATE restmon.store_timezone SET timezone = 'Asia/Tokyo';
SELECT restmon_record_poll('ah1', 'inactive', '2024-10-07 12:00Z');
SQL
listen_stop
listen_is "one session's alerts follow every change of its hours and zone" <<'EOF2'
{"store_id": "ah1", "state": "down", "since": "2024-10-07T10:30:00+00:00", "decided_by": "2024-10-07T11:00:00+00:00"}
{"store_id": "ah1", "state": "down", "since": "2024-10-07T11:35:00+00:00", "decided_by": "2024-10-07T11:40:00+00:00"}
{"store_id": "ah1", "state": "up", "since": "2024-10-07T11:45:00+00:00", "decided_by": "2024-10-07T11:50:00+00:00"}
EOF2
is "all five polls were recorded" "6" \
	"$(q -c "SELECT count(*) FROM restmon.observation WHERE store_id = 'ah1'")"

echo "1..$n"
[ "$fails" -eq 0 ]
