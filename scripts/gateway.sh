#!/usr/bin/env bash
# scripts/gateway.sh: restmon-http against the local cluster, as the role
# restmon_gateway (which may only execute the report API), and for
# POST /api/polls as restmon_poller (which may only record polls).
# Log: <cluster>/gateway.log.
#
# usage: scripts/gateway.sh start|stop|status|url [--port PORT] [--bind ADDRESS]
#   start    start the gateway (if it is not running) and wait until it answers
#   stop     stop it (SIGTERM) and wait until it has exited
#   status   "running, pid N, http://ADDRESS:PORT/" (exit 0) or "stopped" (exit 3)
#   url      the running gateway's URL, e.g. http://127.0.0.1:5000/ (exit 3 if stopped)
# options (start only; status and url report what the running one was given):
#   --port PORT      port to listen on; else $RESTMON_HTTP_PORT, else $PORT,
#                    else 5000
#   --bind ADDRESS   IPv4 address to listen on; else $RESTMON_HTTP_BIND, else
#                    127.0.0.1 (0.0.0.0: every interface)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
DIR=$(cluster_dir)
PIDFILE="$DIR/gateway.pid"
URLFILE="$DIR/gateway.url"		# where the running one listens
LOGFILE="$DIR/gateway.log"
HTTP_PORT=${RESTMON_HTTP_PORT:-${PORT:-5000}}
HTTP_BIND=${RESTMON_HTTP_BIND:-127.0.0.1}

usage() {
	sed -n '/^# usage:/,/^[^#]/s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

cmd=""
while [ $# -gt 0 ]; do
	case "$1" in
		--port) [ $# -ge 2 ] || usage; HTTP_PORT=$2; shift ;;
		--port=*) HTTP_PORT=${1#--port=} ;;
		--bind) [ $# -ge 2 ] || usage; HTTP_BIND=$2; shift ;;
		--bind=*) HTTP_BIND=${1#--bind=} ;;
		start|stop|status|url) [ -z "$cmd" ] || usage; cmd=$1 ;;
		*) usage ;;
	esac
	shift
done

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
url() { cat "$URLFILE" 2>/dev/null || echo "http://$HTTP_BIND:$HTTP_PORT/"; }
check_port() {
	case "$HTTP_PORT" in
		''|*[!0-9]*) echo "gateway: the port must be a number, not '$HTTP_PORT'" >&2; exit 2 ;;
	esac
	if [ "$HTTP_PORT" -lt 1 ] || [ "$HTTP_PORT" -gt 65535 ]; then
		echo "gateway: the port must be 1 to 65535, not $HTTP_PORT" >&2
		exit 2
	fi
}

case "$cmd" in
	start)
		check_port
		running && { echo "gateway already running (pid $(cat "$PIDFILE"), $(url))"; exit 0; }
		eval "$("$(dirname "$0")/cluster.sh" env)"
		mkdir -p "$DIR"
		PGUSER=restmon_gateway nohup "$PGBIN/restmon-http" \
			--port "$HTTP_PORT" --bind "$HTTP_BIND" \
			--poll-dsn "user=restmon_poller" >> "$LOGFILE" 2>&1 &
		echo $! > "$PIDFILE"
		echo "http://$HTTP_BIND:$HTTP_PORT/" > "$URLFILE"
		# 0.0.0.0 listens on every interface, the loopback one included
		probe="http://${HTTP_BIND/#0.0.0.0/127.0.0.1}:$HTTP_PORT/api/health"
		for _ in $(seq 50); do
			curl -s -o /dev/null "$probe" && break
			running || break
			sleep 0.1
		done
		running || { rm -f "$PIDFILE" "$URLFILE"; echo "gateway did not start; see $LOGFILE" >&2; exit 1; }
		echo "gateway: $(url) (pid $(cat "$PIDFILE"), log $LOGFILE)" ;;
	stop)
		if running; then
			pid=$(cat "$PIDFILE")
			kill -TERM "$pid"
			for _ in $(seq 50); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
		fi
		rm -f "$PIDFILE" "$URLFILE" ;;
	status)
		if running; then echo "running, pid $(cat "$PIDFILE"), $(url)"; else echo "stopped"; exit 3; fi ;;
	url)
		if running; then url; else echo "gateway is not running" >&2; exit 3; fi ;;
	*) usage ;;
esac
