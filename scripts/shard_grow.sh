#!/usr/bin/env bash
# scripts/shard_grow.sh: double the partitions of a restmon cluster whose
# partitions are databases of the same PostgreSQL cluster as the
# coordinator (the local case of doc/scale-out.md, "Growing").
#
#   scripts/shard_grow.sh COORDINATOR_DB OLD_0 ... OLD_{N-1}
#
# With PL/Proxy's rule (partition = hashtext(store_id) & (N - 1)), going
# from N to 2N partitions splits partition i into i and i + N: a store of
# partition i stays there when bit N of its hash is 0 and moves to i + N
# otherwise; no other store moves.  For each i, partition i + N is created
# as a copy of partition i (CREATE DATABASE ... TEMPLATE), named after it
# with its trailing number replaced by i + N (shard_p0 -> shard_p4 for
# N = 4); each copy drops the stores that stay; the cluster is redefined
# with the 2N partitions; then each old partition drops the stores that
# moved.  Reads stay right throughout; stop ingestion meanwhile (pg_cron:
# restmon_unschedule() on the coordinator), and expect a report running
# while the copies are made to fail (its partition connections are ended):
# trigger it again.  Uses the libpq environment (PGHOST, PGPORT, PGUSER).
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 COORDINATOR_DB OLD_0 ... OLD_{N-1}" >&2; exit 2; }
coord=$1
shift
old=("$@")
n=${#old[@]}
mask=$((2 * n - 1))

q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

have=$(q -d "$coord" -c "SELECT restmon_coordinator.partitions()")
[ "$have" = "$n" ] || { echo "the coordinator has $have partitions, $n given" >&2; exit 1; }

# the partitions' connection strings, in order (p0, p1, ...)
mapfile -t conns < <(q -d "$coord" -c "
	SELECT substr(o, strpos(o, '=') + 1)
	FROM pg_foreign_server s, unnest(s.srvoptions) o
	WHERE s.srvname = 'restmon_cluster' AND o ~ '^p[0-9]+='
	ORDER BY substr(o, 2, strpos(o, '=') - 2)::int")

DROP_STORES="
	DELETE FROM restmon.observation WHERE hashtext(store_id) & $mask = :k;
	DELETE FROM restmon.store WHERE hashtext(store_id) & $mask = :k;
	DELETE FROM restmon.business_hours WHERE hashtext(store_id) & $mask = :k;
	DELETE FROM restmon.store_timezone WHERE hashtext(store_id) & $mask = :k;"

new=()
newconns=()
for i in $(seq 0 $((n - 1))); do
	o=${old[$i]}
	nn="${o%%[0-9]*}$((i + n))"
	new+=("$nn")
	newconns+=("${conns[$i]//dbname=$o/dbname=$nn}")
	# a copy needs the source without sessions (the coordinator's
	# PL/Proxy connections are opened again when needed)
	q -d postgres -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$o'" > /dev/null
	q -d postgres -c "CREATE DATABASE \"$nn\" TEMPLATE \"$o\""
	# the copy keeps only the stores that move: drops those of partition i
	q -d "$nn" -v k="$i" <<< "BEGIN; $DROP_STORES COMMIT;"
	echo "partition $((i + n)): $nn, a copy of $o"
done

# the cluster with 2N partitions: from now on a moved store is read from
# its new partition
arr=""
for c in "${conns[@]}" "${newconns[@]}"; do
	arr="$arr,$(q -d "$coord" -c "SELECT quote_literal(\$q\$$c\$q\$)")"
done
q -d "$coord" -c "SELECT restmon_cluster_define(ARRAY[${arr#,}])" > /dev/null
echo "cluster redefined: $((2 * n)) partitions"

# the old partitions drop the stores that moved
for i in $(seq 0 $((n - 1))); do
	q -d "${old[$i]}" -v k="$((i + n))" <<< "BEGIN; $DROP_STORES COMMIT;"
	q -d "${old[$i]}" -c "VACUUM ANALYZE restmon.observation"
done
echo "done: stores of partition i with bit $n of hashtext set moved to i + $n"
