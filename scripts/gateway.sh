#!/usr/bin/env bash
# scripts/gateway.sh start|stop|status: restmon-http on 127.0.0.1:${PORT:-5000}
# against the local cluster, as the role restmon_gateway (which may only
# execute the report API).  Log: <cluster>/gateway.log.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
DIR=$(cluster_dir)
PIDFILE="$DIR/gateway.pid"
LOGFILE="$DIR/gateway.log"
PORT=${PORT:-5000}

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

case "${1:-}" in
	start)
		running && { echo "gateway already running (pid $(cat "$PIDFILE"))"; exit 0; }
		eval "$("$(dirname "$0")/cluster.sh" env)"
		PGUSER=restmon_gateway nohup "$PGBIN/restmon-http" --port "$PORT" \
			>> "$LOGFILE" 2>&1 &
		echo $! > "$PIDFILE"
		for _ in $(seq 50); do
			curl -s -o /dev/null "http://127.0.0.1:$PORT/api/health" && break
			sleep 0.1
		done
		running || { echo "gateway did not start; see $LOGFILE" >&2; exit 1; }
		echo "gateway: http://127.0.0.1:$PORT/ (pid $(cat "$PIDFILE"), log $LOGFILE)" ;;
	stop)
		if running; then kill -TERM "$(cat "$PIDFILE")"; fi
		rm -f "$PIDFILE" ;;
	status)
		if running; then echo "running (pid $(cat "$PIDFILE"))"; else echo "stopped"; exit 3; fi ;;
	*) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
