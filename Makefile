# restmon: PGXS build of the extension.  The HTTP gateway has its own
# Makefile (PGXS builds one MODULE_big or PROGRAM per file).

EXTENSION = restmon
EXTVERSION = $(shell grep default_version $(EXTENSION).control | \
	sed -e "s/default_version[[:space:]]*=[[:space:]]*'\([^']*\)'/\1/")

MODULE_big = restmon
OBJS = src/restmon.o src/core.o src/schedule.o src/observation.o src/observation_write.o src/observation_find.o src/observation_weeks.o \
	src/store_bounds.o src/poll_sort.o \
	src/sources.o src/csvsplit.o src/csv.o src/parse.o src/load_log.o \
	src/polls.o src/snapshot.o src/store_id.o src/store_id_hash.o src/header.o src/ingest.o \
	src/store_uptime.o src/store_reader.o src/timeline.o src/record_polls.o src/alerts.o src/alert_hours.o \
	src/report_parallel.o src/report_parallel_worker.o src/report_helper.o \
	src/report_helper_worker.o src/coordinator.o \
	src/report_queue.o src/report_csv.o src/report_worker.o src/report_slots.o src/report.o \
	src/store_zone.o src/prune.o src/report_rows.o src/report_file.o \
	src/store_track.o src/gather.o

# restmon_coordinator (SQL only, restmon_coordinator.control): the
# coordinator role of a sharded cluster (doc/scale-out.md)
DATA = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*.sql)) \
	restmon_coordinator.control sql/restmon_coordinator--0.4.0.sql

# The current version's two scripts are built from the pieces in sql/0.4.0/
# (edit those): the install script from every piece but the upgrade's own
# (01-from-0.3.0-key, 04, 06-from-0.3.0-ingest), the upgrade from 0.3.0 from the pieces 0.4.0
# added or changed and its own, so each object's definition is written once.  Released versions' scripts
# are kept as files.
PARTS = sql/$(EXTVERSION)
INSTALL_PARTS = $(addprefix $(PARTS)/,01-data.sql 01-observation-key.sql \
	02-reports.sql 03-api.sql \
	05-retention.sql 06-ingest.sql 07-gather.sql 08-drop.sql \
	09-drop-trigger.sql)
UPGRADE_PARTS = $(addprefix $(PARTS)/,01-from-0.3.0-key.sql \
	01-observation-key.sql 03-api.sql 04-from-0.3.0-grant.sql \
	05-retention.sql 06-from-0.3.0-ingest.sql 06-ingest.sql 07-gather.sql \
	08-drop.sql)
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql \
	sql/$(EXTENSION)--0.3.0--$(EXTVERSION).sql

TESTS = $(sort $(wildcard test/sql/*.sql))
REGRESS = $(patsubst test/sql/%.sql,%,$(TESTS))
REGRESS_OPTS = --inputdir=test

PG_CFLAGS += -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# every object depends on every header (a few small headers: simpler than
# listing which file includes which)
$(OBJS): $(wildcard src/*.h)

# script_head FILE STATEMENT: the first lines of a built script (Q: a single
# quote inside the shell's single quotes)
Q = '\''
script_head = printf '/* %s: built by make from $(PARTS)/; edit those */\n\n-- complain if script is sourced in psql, rather than via %s\n\\echo Use "%s" to load this file. \\quit\n\n' '$(1)' '$(word 1,$(2)) EXTENSION' '$(2)'

sql/$(EXTENSION)--$(EXTVERSION).sql: $(INSTALL_PARTS)
	{ $(call script_head,$@,CREATE EXTENSION $(EXTENSION)); cat $^; } > $@

sql/$(EXTENSION)--0.3.0--$(EXTVERSION).sql: $(UPGRADE_PARTS)
	{ $(call script_head,$@,ALTER EXTENSION $(EXTENSION) UPDATE TO $(Q)$(EXTVERSION)$(Q)); cat $^; } > $@

# The core builds outside the server: its unit tests run under
# AddressSanitizer and UndefinedBehaviorSanitizer.
UNIT_CFLAGS = -std=c99 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-omit-frame-pointer -fno-sanitize-recover=all -Isrc

test/unit/test_core: test/unit/test_core.c test/unit/test_timeline.c \
		test/unit/test_alert.c test/unit/unit.h test/unit/brute_core.c test/unit/brute_core.h \
		src/core.c src/core.h
	$(CC) $(UNIT_CFLAGS) -o $@ test/unit/test_core.c \
		test/unit/test_timeline.c test/unit/test_alert.c \
		test/unit/brute_core.c src/core.c

.PHONY: unittest
unittest: test/unit/test_core
	test/unit/test_core

EXTRA_CLEAN = test/unit/test_core

# libFuzzer targets (clang): the core against the brute force, and the CSV
# splitter (CONTRIBUTING.md, "Fuzzing").  "make fuzz" runs each for
# FUZZ_SECONDS; "make fuzz-check" for FUZZ_CHECK_SECONDS, as test/fuzz.sh
# does.  New inputs go to FUZZ_WORK, never into the checked-in corpus;
# a crash leaves its input there too, and the run fails.
FUZZ_CC ?= clang
FUZZ_CFLAGS = -std=c99 -g -O1 -Wall -Wextra -Werror \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -Isrc -Itest/unit
FUZZ_SECONDS ?= 300
FUZZ_CHECK_SECONDS ?= 15
FUZZ_WORK ?= test/fuzz/work
FUZZERS = test/fuzz/fuzz_core test/fuzz/fuzz_csv
FUZZ_OPTS_core = -max_len=512
FUZZ_OPTS_csv = -max_len=4096 -dict=test/fuzz/csv.dict

test/fuzz/fuzz_core: test/fuzz/fuzz_core.c test/unit/brute_core.c \
		test/unit/brute_core.h src/core.c src/core.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ test/fuzz/fuzz_core.c \
		test/unit/brute_core.c src/core.c
test/fuzz/fuzz_csv: test/fuzz/fuzz_csv.c src/csvsplit.c src/csvsplit.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ test/fuzz/fuzz_csv.c src/csvsplit.c

# fuzz-run-core, fuzz-run-csv: one fuzzer for FUZZ_TIME seconds
FUZZ_TIME ?= $(FUZZ_CHECK_SECONDS)
.PHONY: fuzz fuzz-check fuzz-build fuzz-run-core fuzz-run-csv
fuzz-build: $(FUZZERS)
fuzz: FUZZ_TIME = $(FUZZ_SECONDS)
fuzz-check: FUZZ_TIME = $(FUZZ_CHECK_SECONDS)
fuzz fuzz-check: fuzz-run-core fuzz-run-csv
fuzz-run-core fuzz-run-csv: fuzz-run-%: test/fuzz/fuzz_%
	mkdir -p $(FUZZ_WORK)/$*
	test/fuzz/fuzz_$* $(FUZZ_OPTS_$*) -max_total_time=$(FUZZ_TIME) \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix=$(FUZZ_WORK)/crash-$*- \
		$(FUZZ_WORK)/$* test/fuzz/corpus/$*

EXTRA_CLEAN += $(FUZZERS)

# Regression tests read their CSV fixtures server-side, from a copy the
# server's operating-system user can read.  Each checkout has its own copy
# (named after its path), so two clones on one machine do not share one;
# test/preamble.psql finds it through RESTMON_FIXTURES.
FIXTURE_DIR ?= /tmp/restmon-$(shell printf '%s' '$(CURDIR)' | md5sum | cut -c1-8)/fixtures
export RESTMON_FIXTURES = $(FIXTURE_DIR)
.PHONY: restmon-fixtures
restmon-fixtures:
	@test -n "$(FIXTURE_DIR)" || { echo "FIXTURE_DIR is empty" >&2; exit 1; }
	rm -rf $(FIXTURE_DIR)
	mkdir -p $(FIXTURE_DIR)
	cp -R test/fixtures/. $(FIXTURE_DIR)/
	mkdir -p $(FIXTURE_DIR)/demo
	chmod a+rx $(FIXTURE_DIR)/..
	chmod -R a+rX $(FIXTURE_DIR)
	chmod a+rwx $(FIXTURE_DIR)/demo

installcheck: restmon-fixtures

# The HTTP gateway, built and installed with the extension when its
# libraries (libmicrohttpd, json-c; libpq comes with PostgreSQL) are there;
# without them the extension alone builds and a note says why the gateway
# did not.  GATEWAY=no skips it, GATEWAY=yes insists on it.
GATEWAY_LIBS_FOUND := $(shell test -f /usr/include/microhttpd.h && \
	test -f /usr/include/json-c/json.h && echo yes)
GATEWAY ?= $(if $(GATEWAY_LIBS_FOUND),yes,no)
ifeq ($(GATEWAY),yes)
all: gateway/restmon-http
gateway/restmon-http: $(wildcard gateway/*.c gateway/*.h) gateway/Makefile
	$(MAKE) -C gateway PG_CONFIG=$(PG_CONFIG)
install: install-gateway
.PHONY: install-gateway
install-gateway: gateway/restmon-http
	$(MAKE) -C gateway install PG_CONFIG=$(PG_CONFIG)
else
all: gateway-skipped
.PHONY: gateway-skipped
gateway-skipped:
	@echo "note: the HTTP gateway is not built: it needs libmicrohttpd-dev and libjson-c-dev (the extension alone is built)"
endif
EXTRA_CLEAN += gateway/restmon-http gateway/*.o

# The web page (web/, doc/page.md): bundled with esbuild into web/dist when
# npm is there (npm ci from package-lock.json first), and installed into
# $(sharedir)/restmon/web, the gateway's default --web-root.  Without npm
# the page is neither built nor installed (a note says so) and the gateway
# answers /web/ with 404; WEB=no skips it, WEB=yes insists on it.
WEB ?= $(if $(shell command -v npm 2>/dev/null),yes,no)
WEB_SOURCES = $(wildcard web/*.html web/*.css web/src/*.js) web/build.mjs
ifeq ($(WEB),yes)
all: web/dist/index.html
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
web/dist/index.html: $(WEB_SOURCES) node_modules/.package-lock.json
	node web/build.mjs
install: install-web
.PHONY: install-web
install-web: web/dist/index.html
	rm -rf '$(DESTDIR)$(datadir)/restmon/web'
	$(MKDIR_P) '$(DESTDIR)$(datadir)/restmon/web'
	$(INSTALL_DATA) web/dist/* '$(DESTDIR)$(datadir)/restmon/web/'
else
all: web-skipped
.PHONY: web-skipped
web-skipped:
	@echo "note: the web page is not built: it needs npm (the gateway answers /web/ with 404)"
endif
EXTRA_CLEAN += web/dist

# The benchmark (not a test): its own cluster, writes bench/RESULTS.md.
# SMOKE=1 for a quick run at tiny scale (writes bench/RESULTS-smoke.md).
.PHONY: bench
bench:
	bash bench/run.sh

# Formatting: pg_bsd_indent with pgindent's options (scripts/indent.sh).
.PHONY: indent indent-check typedefs
indent:
	scripts/indent.sh
indent-check:
	scripts/indent.sh --check
typedefs:
	scripts/indent.sh --typedefs --check || true
