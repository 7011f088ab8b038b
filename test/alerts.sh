#!/usr/bin/env bash
# test/alerts.sh: NOTIFY restmon_store_state (semantics §5.6), as an
# operator's LISTEN sees it (TAP).  One session listens while another
# records a scripted sequence of polls; the notifications expected are
# derived by hand below.  Store al1: UTC, open every day 09:00-17:00; its
# earlier poll Mon 2024-10-07 10:00 active.  Store al2: same hours, no
# earlier poll.  Each step is its own transaction.
#   1 al1 11:00 active            up at 11:00 before (by 10:00), up after: nothing
#   2 al1 12:00 inactive          up before (by 11:00), down after; the switch
#                                 is halfway, 11:30: down since 11:30 by 12:00
#   3 al1 20:00 inactive          closed (after 17:00): nothing
#   4 al1 Tue 09:30 active        down before (by Mon 20:00), up after; the
#                                 switch (Tue 02:45) is in closed time, so the
#                                 up run starts at opening: up since 09:00 by 09:30
#   5 al1 [10:30 inactive, 11:30 inactive] in one batch: up before at 11:30
#                                 (by 09:30), down after from the switch
#                                 halfway 09:30-10:30: down since 10:00 by 10:30
#   6 al1 10:45 active            not the newest poll (11:30 is): nothing
#   7 al1 12:30 active, rolled back: nothing (NOTIFY is sent at commit)
#   8 al2 12:00 inactive          no earlier poll: nothing
#   9 al1 13:00 active, as a status file's text (restmon_record_polls_csv):
#                                 down before (by 11:30), up after since the
#                                 switch 12:15 by 13:00
#  10 al1 14:00 active through restmon_ingest_status (a file): nothing (the
#                                 hourly files raise no alerts)
#  11 al1 15:00 inactive with restmon.state_alerts off: nothing (it would be
#                                 down since 14:30)
set -uo pipefail
cd "$(dirname "$0")/.."
. test/tap.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

alerts_fresh al1 al2
q <<'SQL'
INSERT INTO restmon.observation VALUES ('al1', '2024-10-07 10:00Z', true);
SQL

# the listening session (test/tap.sh)
listen_start

step() { q -c "$1" > /dev/null; }
step "SELECT restmon_record_poll('al1', 'active', '2024-10-07 11:00Z')"
step "SELECT restmon_record_poll('al1', 'inactive', '2024-10-07 12:00Z')"
step "SELECT restmon_record_poll('al1', 'inactive', '2024-10-07 20:00Z')"
step "SELECT restmon_record_poll('al1', 'active', '2024-10-08 09:30Z')"
step "SELECT restmon_record_polls('[{\"store_id\": \"al1\", \"status\": \"inactive\", \"timestamp_utc\": \"2024-10-08 10:30 UTC\"}, {\"store_id\": \"al1\", \"status\": \"inactive\", \"timestamp_utc\": \"2024-10-08 11:30 UTC\"}]')"
step "SELECT restmon_record_poll('al1', 'active', '2024-10-08 10:45Z')"
step "BEGIN; SELECT restmon_record_poll('al1', 'active', '2024-10-08 12:30Z'); ROLLBACK"
step "SELECT restmon_record_poll('al2', 'inactive', '2024-10-08 12:00Z')"
step "SELECT restmon_record_polls_csv(E'store_id,status,timestamp_utc\nal1,active,2024-10-08 13:00:00 UTC\n')"
dir=$RESTMON_FIXTURES/alerts
mkdir -p "$dir"
printf 'store_id,status,timestamp_utc\nal1,active,2024-10-08 14:00:00 UTC\n' > "$dir/store_status.csv"
chmod -R a+rX "$dir"
step "SELECT * FROM restmon_ingest_status('$dir/store_status.csv')"
step "SET restmon.state_alerts = off; SELECT restmon_record_poll('al1', 'inactive', '2024-10-08 15:00Z')"
listen_stop

listen_is "the listener received exactly the four transitions, in order" <<'EOF'
{"store_id": "al1", "state": "down", "since": "2024-10-07T11:30:00+00:00", "decided_by": "2024-10-07T12:00:00+00:00"}
{"store_id": "al1", "state": "up", "since": "2024-10-08T09:00:00+00:00", "decided_by": "2024-10-08T09:30:00+00:00"}
{"store_id": "al1", "state": "down", "since": "2024-10-08T10:00:00+00:00", "decided_by": "2024-10-08T10:30:00+00:00"}
{"store_id": "al1", "state": "up", "since": "2024-10-08T12:15:00+00:00", "decided_by": "2024-10-08T13:00:00+00:00"}
EOF
is "every step was recorded (the rolled-back one aside): al1's 11, al2's 1" 12 \
	"$(q -c "SELECT count(*) FROM restmon.observation WHERE store_id IN ('al1', 'al2')")"
is "each payload is JSON with the four keys" 4 \
	"$(while read -r l; do q -c "SELECT count(*) FROM jsonb_object_keys('$l'::jsonb)"; done < "$tmp/got" | grep -c '^4$')"

echo "1..$n"
[ "$fails" -eq 0 ]
