#!/usr/bin/env bash
# scripts/cluster.sh start|stop|status|env|destroy
# (destroy stops the cluster and its gateway and deletes the cluster's data)
# A project-local PostgreSQL 15 cluster for restmon: unix socket only (no TCP
# port to clash with), pg_cron preloaded, database "restmon".
# RESTMON_CLUSTER=main (default) or test selects which cluster.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

DIR=$(cluster_dir)
DATA="$DIR/data"
SOCK="$DIR"
LOG="$DIR/server.log"

psql_admin() { psql -X -q -h "$SOCK" -p "$CLUSTER_PORT" -U postgres "$@"; }

running() {
	[ -f "$DATA/postmaster.pid" ] && as_postgres "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

start() {
	mkdir -p "$DIR"
	[ "$(id -u)" -eq 0 ] && chown postgres: "$DIR"
	if [ ! -f "$DATA/PG_VERSION" ]; then
		as_postgres "$PGBIN/initdb" -D "$DATA" -A trust -U postgres \
			--encoding=UTF8 --locale=C.UTF-8 >/dev/null
		cat >> "$DATA/postgresql.conf" <<CONF

# restmon local cluster
listen_addresses = ''
unix_socket_directories = '$SOCK'
port = $CLUSTER_PORT
shared_preload_libraries = 'pg_cron'
cron.database_name = 'restmon'
cron.use_background_workers = on
max_worker_processes = 32
shared_buffers = '1GB'
restmon.data_dir = '$DIR/demo'
CONF
		# full-page images compressed: an hourly status load writes one per
		# primary-key leaf (doc/operations.md, "What a load costs")
		case "$("$PG_CONFIG" --configure 2>/dev/null)" in
			*--with-lz4*) echo "wal_compression = lz4" >> "$DATA/postgresql.conf" ;;
		esac
	fi
	if ! running; then
		reserve_huge_pages
		if ! as_postgres "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null; then
			echo "cluster did not start; end of $LOG:" >&2
			tail -20 "$LOG" >&2
			exit 1
		fi
	fi
	if ! psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'restmon'" | grep -q 1; then
		psql_admin -d postgres -c "CREATE DATABASE restmon"
	fi
	psql_admin -d restmon -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS pg_cron"
}

# Shared memory in huge pages (PostgreSQL's huge_pages = try, the default,
# uses them when the kernel has them reserved): with 4 kB pages every new
# backend, and so every report worker, page-faults its way through the
# shared buffers it touches, which costs a 14,000-store report more than
# its own work.  As root, reserve what this cluster needs on top of what is
# in use; RESTMON_HUGEPAGES=0 leaves the kernel setting alone.
reserve_huge_pages() {
	local need total free rsvd want
	[ "$(id -u)" -eq 0 ] && [ "${RESTMON_HUGEPAGES:-1}" != 0 ] || return 0
	[ -w /proc/sys/vm/nr_hugepages ] || return 0
	need=$(as_postgres "$PGBIN/postgres" -D "$DATA" -C shared_memory_size_in_huge_pages 2>/dev/null) || return 0
	[ "$need" -gt 0 ] 2>/dev/null || return 0
	total=$(awk '/HugePages_Total/ {print $2}' /proc/meminfo)
	free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
	rsvd=$(awk '/HugePages_Rsvd/ {print $2}' /proc/meminfo)
	want=$((total - free + rsvd + need))
	if [ "$total" -lt "$want" ]; then
		echo "$want" > /proc/sys/vm/nr_hugepages 2>/dev/null || true
	fi
}

stop() {
	if running; then
		as_postgres "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
	fi
}

case "${1:-}" in
	start) start ;;
	stop) stop ;;
	status)
		if running; then echo "running: $DATA (socket $SOCK, port $CLUSTER_PORT)"
		else echo "stopped: $DATA"; exit 3; fi ;;
	env)
		echo "export PGHOST='$SOCK' PGPORT=$CLUSTER_PORT PGUSER=postgres PGDATABASE=restmon" ;;
	destroy)	# the gateway started for this cluster goes with it
		[ -f "$DIR/gateway.pid" ] && "$(dirname "$0")/gateway.sh" stop >/dev/null 2>&1
		stop; rm -rf "$DIR" ;;
	*) echo "usage: $0 start|stop|status|env|destroy" >&2; exit 2 ;;
esac
