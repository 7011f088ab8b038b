#!/usr/bin/env bash
# test/alerts_window.sh: the edges of the polls a state alert reads
# (semantics §5.6, src/alerts.c): it reads a store's polls from the batch's
# first new instant f on, and before f only back to the newest evidence
# poll (or, without one, the newest poll).  Each alert below is derived by
# hand from the whole week, as §5.6 defines it (TAP).
#   aw1 open 09:00-17:00 UTC; Mon 16:00 active, then a poll every 30 min
#       of the closed night (17:00 ... Tue 08:30, inactive: no evidence);
#       Tue 09:30 inactive: up before (by Mon 16:00, 33 polls back), down
#       after; the switch (Tue 00:45) is in closed time: down since the
#       09:00 opening, by 09:30
#   aw2 no hours (open around the clock); Mon 2024-10-07 00:00 active, then
#       one batch [Mon 20:00 inactive, Mon 2024-10-14 17:00 inactive]:
#       T = Oct 14 17:00:00.000001, the week starts at Oct 7 17:00:00.000001,
#       after the switch halfway 00:00-20:00 (10:00).  The evidence before f
#       (Oct 7 00:00, in the horizon, older than the week) made it up; now
#       down since the week's start, decided by Mon 20:00 (the run's first
#       segment; Oct 14 17:00 decides its second)
#   aw3 open 09:00-17:00 UTC; Mon 20:00 inactive (closed: no evidence);
#       Tue 10:00 active: down before (no evidence, §5.3), up after since
#       the 09:00 opening, by 10:00
set -uo pipefail
cd "$(dirname "$0")/.."
. test/tap.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

alerts_fresh aw1 aw3
q <<'SQL'
INSERT INTO restmon.observation
	SELECT 'aw1', t, false
	FROM generate_series(timestamptz '2024-10-07 17:00Z',
						 '2024-10-08 08:30Z', interval '30 minutes') t;
INSERT INTO restmon.observation VALUES
	('aw1', '2024-10-07 16:00Z', true),
	('aw2', '2024-10-07 00:00Z', true),
	('aw3', '2024-10-07 20:00Z', false);
SQL

listen_start

step() { q -c "$1" > /dev/null; }
step "SELECT restmon_record_poll('aw1', 'inactive', '2024-10-08 09:30Z')"
step "SELECT restmon_record_polls('[{\"store_id\": \"aw2\", \"status\": \"inactive\", \"timestamp_utc\": \"2024-10-07 20:00 UTC\"}, {\"store_id\": \"aw2\", \"status\": \"inactive\", \"timestamp_utc\": \"2024-10-14 17:00 UTC\"}]')"
step "SELECT restmon_record_poll('aw3', 'active', '2024-10-08 10:00Z')"
listen_stop
listen_is "the listener received the three alerts derived from the whole week" <<'EOF2'
{"store_id": "aw1", "state": "down", "since": "2024-10-08T09:00:00+00:00", "decided_by": "2024-10-08T09:30:00+00:00"}
{"store_id": "aw2", "state": "down", "since": "2024-10-07T17:00:00.000001+00:00", "decided_by": "2024-10-07T20:00:00+00:00"}
{"store_id": "aw3", "state": "up", "since": "2024-10-08T09:00:00+00:00", "decided_by": "2024-10-08T10:00:00+00:00"}
EOF2

# the same runs, as the report's timeline of the whole week shows them at
# t + 1 us (semantics §5.5): the last segment of each, and where the run of
# its state begins
is "the timelines end as the alerts say" \
	"aw1|down|2024-10-08 09:30:00+00
aw2|down|2024-10-14 17:00:00+00
aw3|up|2024-10-08 10:00:00+00" \
	"$(q -c "SELECT s, l.state, l.decided_by FROM unnest(array['aw1', 'aw2', 'aw3']) s,
		LATERAL (SELECT * FROM restmon_store_timeline(s,
			(SELECT max(observed_at) FROM restmon.observation o WHERE o.store_id = s) + interval '1 microsecond') tl
			ORDER BY tl.starts DESC LIMIT 1) l ORDER BY s")"

echo "1..$n"
[ "$fails" -eq 0 ]
