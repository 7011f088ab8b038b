#!/usr/bin/env bash
# scripts/indent.sh [--check] [--typedefs]
# Formats restmon's C the way PostgreSQL formats its own: pg_bsd_indent
# (Debian's pg-bsd-indent) with pgindent's options and the typedef names in
# typedefs.list.  --check changes nothing and exits 1 when a file would
# change (CI runs it); --typedefs regenerates typedefs.list first, from the
# typedefs of restmon's own files and of the headers it includes
# (PostgreSQL's server headers, libpq, json-c, libmicrohttpd) with
# universal-ctags, plus the C library's.  make indent / make indent-check.
set -euo pipefail
cd "$(dirname "$0")/.."

OPTS="-bad -bap -bbb -bc -bl -cli1 -cp33 -cdb -nce -d0 -di12 -nfc1 -i4 -l79 -lp -lpl -nip -npro -sac -tpg -ts4"
FILES=$(ls src/*.[ch] gateway/*.[ch] test/unit/*.[ch] test/fuzz/*.[ch] 2>/dev/null || true)
check=0
for a in "$@"; do
	case "$a" in
		--check) check=1 ;;
		--typedefs)
			{
				ctags -R --languages=C --langmap=C:.c.h --kinds-C=t -f - \
					"$(pg_config --includedir-server)" \
					"$(pg_config --includedir)/libpq-fe.h" \
					/usr/include/json-c /usr/include/microhttpd.h \
					src gateway test/unit $(ls -d test/fuzz 2>/dev/null) | cut -f1
				printf '%s\n' FILE size_t ssize_t pthread_key_t pthread_t \
					pthread_mutex_t pthread_cond_t pthread_once_t uint8_t uint16_t uint32_t \
					uint64_t int8_t int16_t int32_t int64_t uintptr_t off_t \
					time_t socklen_t sig_atomic_t va_list
			} | LC_ALL=C sort -u > typedefs.list ;;
		*) echo "usage: $0 [--check] [--typedefs]" >&2; exit 2 ;;
	esac
done

command -v pg_bsd_indent >/dev/null ||
	{ echo "pg_bsd_indent not found: apt-get install pg-bsd-indent" >&2; exit 2; }
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.in"' EXIT
changed=0
for f in $FILES; do
	# shellcheck disable=SC2086
	pg_bsd_indent $OPTS -Utypedefs.list "$f" "$tmp.in"
	# as pgindent does afterwards: one space before the '*' of a function's
	# pointer return type on its own line ("char *", not "char\t   *")
	sed -E 's/^([A-Za-z_][^[:space:]]*)[[:space:]]+\*$/\1 */' "$tmp.in" > "$tmp"
	if ! cmp -s "$f" "$tmp"; then
		changed=$((changed + 1))
		if [ $check = 1 ]; then
			diff -u "$f" "$tmp" | sed "s|$tmp|$f (indented)|" || true
		else
			cat "$tmp" > "$f"
			echo "indented $f"
		fi
	fi
done
if [ $check = 1 ] && [ $changed -gt 0 ]; then
	echo "$changed file(s) not formatted: run make indent" >&2
	exit 1
fi
exit 0
