# restmon: PGXS build of the extension.  The HTTP gateway has its own
# Makefile (PGXS builds one MODULE_big or PROGRAM per file).

EXTENSION = restmon
EXTVERSION = $(shell grep default_version $(EXTENSION).control | \
	sed -e "s/default_version[[:space:]]*=[[:space:]]*'\([^']*\)'/\1/")

MODULE_big = restmon
OBJS = src/restmon.o src/core.o src/schedule.o src/observation.o \
	src/sources.o src/csv.o src/parse.o src/load_log.o src/polls.o \
	src/snapshot.o src/store_id.o src/ingest.o \
	src/store_uptime.o \
	src/report_queue.o src/report_csv.o src/report_worker.o src/report.o

DATA = $(wildcard sql/$(EXTENSION)--*.sql)

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

# The core builds outside the server: its unit tests run under
# AddressSanitizer and UndefinedBehaviorSanitizer.
UNIT_CFLAGS = -std=c99 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-omit-frame-pointer -fno-sanitize-recover=all -Isrc

test/unit/test_core: test/unit/test_core.c src/core.c src/core.h
	$(CC) $(UNIT_CFLAGS) -o $@ test/unit/test_core.c src/core.c

.PHONY: unittest
unittest: test/unit/test_core
	test/unit/test_core

EXTRA_CLEAN = test/unit/test_core

# Regression tests read their CSV fixtures server-side, from a copy the
# server's operating-system user can read.  Each checkout has its own copy
# (named after its path), so two clones on one machine do not share one;
# test/preamble.psql finds it through RESTMON_FIXTURES.
FIXTURE_DIR ?= /tmp/restmon-$(shell printf '%s' '$(CURDIR)' | md5sum | cut -c1-8)/fixtures
export RESTMON_FIXTURES = $(FIXTURE_DIR)
.PHONY: restmon-fixtures
restmon-fixtures:
	rm -rf $(FIXTURE_DIR)
	mkdir -p $(FIXTURE_DIR)
	cp -R test/fixtures/. $(FIXTURE_DIR)/
	mkdir -p $(FIXTURE_DIR)/demo
	chmod a+rx $(FIXTURE_DIR)/..
	chmod -R a+rX $(FIXTURE_DIR)
	chmod a+rwx $(FIXTURE_DIR)/demo

installcheck: restmon-fixtures

# The HTTP gateway, built and installed with the extension
all: gateway/restmon-http
gateway/restmon-http: $(wildcard gateway/*.c gateway/*.h) gateway/Makefile
	$(MAKE) -C gateway PG_CONFIG=$(PG_CONFIG)
install: install-gateway
.PHONY: install-gateway
install-gateway: gateway/restmon-http
	$(MAKE) -C gateway install PG_CONFIG=$(PG_CONFIG)
EXTRA_CLEAN += gateway/restmon-http gateway/*.o

# The benchmark (not a test): its own cluster, writes bench/RESULTS.md.
# SMOKE=1 for a quick run at tiny scale.
.PHONY: bench
bench:
	bash bench/run.sh
