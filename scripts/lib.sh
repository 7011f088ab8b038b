# scripts/lib.sh: shared by restmon's scripts (sourced, not run).
# Where the local cluster lives, how to run PostgreSQL's tools as the
# postgres user when we are root, and the Debian packages restmon needs.

PROJECT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# PG_CONFIG chooses the PostgreSQL installation (default: Debian's 15);
# PostgreSQL finds its libraries and share files relative to its binaries,
# so a copy of the installation elsewhere works too (see CONTRIBUTING.md).
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
export PG_CONFIG
PGBIN=$("$PG_CONFIG" --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
PACKAGES="postgresql-15 postgresql-server-dev-15 postgresql-15-cron postgresql-15-pgtap postgresql-contrib
libtap-parser-sourcehandler-pgtap-perl libmicrohttpd-dev libjson-c-dev libpq-dev
make gcc clang libclang-rt-14-dev curl jq valgrind pg-bsd-indent
chromium postgresql-15-plproxy"

# RESTMON_CLUSTER names the cluster: "main" (setup, your data), "test" (the
# test command's own), "setup" (test/own_data.sh runs setup.sh in it) or
# "bench" (the benchmark's); the last three are recreated on every run.
RESTMON_CLUSTER=${RESTMON_CLUSTER:-main}
case "$RESTMON_CLUSTER" in
	main) CLUSTER_PORT=5499 ;;
	test) CLUSTER_PORT=5498 ;;
	setup) CLUSTER_PORT=5497 ;;
	bench) CLUSTER_PORT=5496 ;;
	*) echo "RESTMON_CLUSTER must be main, test, setup or bench" >&2; return 1 ;;
esac

as_postgres() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# The cluster lives in the project when the postgres user can reach it and
# the socket path stays short; otherwise under /tmp.
cluster_dir() {
	local d="$PROJECT_DIR/.cluster/$RESTMON_CLUSTER"
	local hash
	if [ "$(id -u)" -eq 0 ]; then
		if ! runuser -u postgres -- test -x "$PROJECT_DIR" 2>/dev/null ||
		   [ ${#d} -gt 80 ]; then
			hash=$(printf '%s' "$PROJECT_DIR" | md5sum | cut -c1-8)
			d="/tmp/restmon-$hash/$RESTMON_CLUSTER"
		fi
	fi
	printf '%s\n' "$d"
}

# The copy of test/fixtures that the test cluster's server reads: one per
# checkout (the Makefile's FIXTURE_DIR names it the same way).
fixture_dir() {
	printf '/tmp/restmon-%s/fixtures\n' "$(printf '%s' "$PROJECT_DIR" | md5sum | cut -c1-8)"
}

install_packages() {
	local missing=""
	for p in $PACKAGES; do
		dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
	done
	# the PostgREST client's tests (test/client): Node.js and npm, from Debian
	# unless a node with its npm is already there (NodeSource's, say)
	command -v node >/dev/null && command -v npm >/dev/null ||
		missing="$missing nodejs npm"
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing Debian packages:$missing (run as root to install them)" >&2
		return 1
	fi
	echo "installing:$missing"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
}

# RESTMON_WERROR=1 (CI sets it) turns every compiler warning into an error.
build_and_install() {
	local werror=""
	[ "${RESTMON_WERROR:-0}" = 1 ] && werror="-Werror"
	make -C "$PROJECT_DIR" -s PG_CFLAGS="-Wall -Wextra $werror -Wno-unused-parameter -Wno-missing-field-initializers" &&
	make -C "$PROJECT_DIR" -s install
}
