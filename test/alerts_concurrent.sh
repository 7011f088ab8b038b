#!/usr/bin/env bash
# test/alerts_concurrent.sh: state alerts (semantics §5.6) when pollers
# record at once (TAP).  A recorded batch locks its stores' rows
# (doc/sql.md, "Many pollers at once"), so a store's alerts are decided
# from one sequence of polls, in commit order, while other stores' batches
# go on meanwhile.  Stores ac1 and ac2: UTC, open every day 09:00-17:00,
# each with an earlier poll Mon 2024-10-07 10:00 active.
#   A  ac1 11:00 inactive, its transaction held open 2 s: up before (by
#      10:00), down after from halfway, 10:30: down since 10:30 by 11:00
#   C  ac2 11:00 inactive meanwhile: not held up by A; the same figures for
#      ac2, sent first (C commits first)
#   B  ac1 12:00 active meanwhile: waits for A, then decides from A's poll
#      too: down before (by 11:00), up after from 11:30: up since 11:30 by
#      12:00 (from the 10:00 poll alone it would be up before and after:
#      nothing)
set -uo pipefail
cd "$(dirname "$0")/.."
. test/tap.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

alerts_fresh ac1 ac2
q -c "INSERT INTO restmon.observation VALUES ('ac1', '2024-10-07 10:00Z', true), ('ac2', '2024-10-07 10:00Z', true)"
listen_start

# 1 while session A sleeps in its open transaction, else 0
a_sleeping() {
	q -c "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(2);' AND state = 'active'"
}
q > "$tmp/a" 2>&1 <<'SQL' &
BEGIN;
SELECT restmon_record_poll('ac1', 'inactive', '2024-10-07 11:00Z');
SELECT pg_sleep(2);
COMMIT;
SQL
a=$!
for _ in $(seq 100); do [ "$(a_sleeping)" = 1 ] && break; sleep 0.05; done

q -c "SELECT restmon_record_poll('ac2', 'inactive', '2024-10-07 11:00Z')" > /dev/null
is "store ac2's poll is recorded while A holds store ac1" 1 "$(a_sleeping)"

q -c "SELECT restmon_record_poll('ac1', 'active', '2024-10-07 12:00Z')" > "$tmp/b" 2>&1 &
b=$!
for _ in $(seq 40); do
	w=$(q -c "SELECT wait_event_type FROM pg_stat_activity WHERE query LIKE '%''ac1'', ''active''%' AND pid <> pg_backend_pid()")
	[ "$w" = Lock ] && break
	sleep 0.05
done
is "store ac1's second poll waits on a lock while A holds the store" "Lock 1" "$w $(a_sleeping)"
wait "$a"
wait "$b"
listen_stop

listen_is "the listener received the three transitions, in commit order" <<'EOF2'
{"store_id": "ac2", "state": "down", "since": "2024-10-07T10:30:00+00:00", "decided_by": "2024-10-07T11:00:00+00:00"}
{"store_id": "ac1", "state": "down", "since": "2024-10-07T10:30:00+00:00", "decided_by": "2024-10-07T11:00:00+00:00"}
{"store_id": "ac1", "state": "up", "since": "2024-10-07T11:30:00+00:00", "decided_by": "2024-10-07T12:00:00+00:00"}
EOF2
is "every poll is stored: ac1 3, ac2 2" "ac1 3
ac2 2" "$(q -c "SELECT store_id || ' ' || count(*) FROM restmon.observation GROUP BY store_id ORDER BY store_id")"

echo "1..$n"
[ "$fails" -eq 0 ]
