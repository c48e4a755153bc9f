# syncq - job worker pool: Redis in, HTTP out, PostgreSQL audit.
#
#   make            build bin/syncq-worker, bin/syncq, lib/libsyncq.a
#   make test       install missing packages, build, run unit + integration tests
#   make run        the demo on an embedded Redis + PostgreSQL under ./.run/
#   make bench      the throughput benchmark
#   make SANITIZE=1 ...  the same with ASan + UBSan (separate build tree)

CC      ?= cc
PKGS    := hiredis libcjson libpq libcurl
VERSION := 0.1.0

ifeq ($(SANITIZE),1)
  B       := build/san
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
  OPT     := -O1
else
  B       := build/rel
  SANFLAGS :=
  OPT     := -O2
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

# V=1 shows the full commands.
Q := $(if $(V),,@)

WARN   := -Wall -Wextra -Werror -Wformat=2 -Wstrict-prototypes -Wwrite-strings -Wshadow
override CFLAGS += -std=c11 $(OPT) -g $(WARN) $(SANFLAGS) -MMD -MP -Icommon -I$(B)/gen \
                   -DSYNCQ_VERSION='"$(VERSION)"' $(PKG_CFLAGS)
override LDFLAGS += $(SANFLAGS)

# Pure code: no server, no network. Unit-tested with cmocka.
PURE := xalloc errf sbuf utf8 json envelope mask url uuid config log wrap record backoff dead
PURE += prom
PURE += services
# I/O wrappers: one per library (rds = hiredis, db = libpq).
IO   := rds db funcs keys enqueue qstat http snapshot
COMMON_OBJ := $(addprefix $(B)/common/,$(addsuffix .o,$(PURE) $(IO)))

WORKER_OBJ := $(addprefix $(B)/worker/,master.o child.o job.o fetch.o handler.o writer.o reaper.o board.o salvage.o h_http.o h_sync.o schedule.o)
WORKER_OBJ += $(addprefix $(B)/worker/,stats.o metrics.o metrics_http.o)
CLI_OBJ    := $(addprefix $(B)/producer/,cli.o cli_enqueue.o cli_migrate.o cli_queue.o cli_status.o cli_dlq.o cli_dlq_store.o \
                cli_dlq_show.o cli_dlq_change.o)
CLI_OBJ    += $(addprefix $(B)/producer/,cli_ops.o cli_stats.o cli_health.o cli_check.o cli_jobs.o cli_jobs_show.o \
                cli_jobs_retry.o cli_prune.o)
CLI_OBJ    += $(B)/producer/cli_snapshot.o

UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test_*.c))

all: bin/syncq-worker bin/syncq lib/libsyncq.a

bin/syncq-worker: $(B)/bin/syncq-worker
	@mkdir -p bin && rm -f $@ && cp $< $@
bin/syncq: $(B)/bin/syncq
	@mkdir -p bin && rm -f $@ && cp $< $@
lib/libsyncq.a: $(B)/lib/libsyncq.a
	@mkdir -p lib && rm -f $@ && cp $< $@

$(B)/bin/syncq-worker: $(B)/worker/main.o $(WORKER_OBJ) $(COMMON_OBJ)
	@mkdir -p $(@D)
	@echo "  LD $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/bin/syncq: $(B)/producer/main.o $(CLI_OBJ) $(COMMON_OBJ)
	@mkdir -p $(@D)
	@echo "  LD $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/lib/libsyncq.a: $(COMMON_OBJ)
	@mkdir -p $(@D)
	@echo "  AR $@"
	$(Q)ar rcs $@ $^

# The Redis function library is embedded in the binaries as a C string.
$(B)/gen/funcs_lua.h: common/functions.lua scripts/embed.sh
	@mkdir -p $(@D)
	$(Q)sh scripts/embed.sh syncq_functions_lua < $< > $@
$(B)/common/funcs.o: $(B)/gen/funcs_lua.h

# Migrations are embedded too, so a container needs no schema/ folder.
SCHEMA := $(sort $(wildcard schema/*.sql))
$(B)/gen/schema_sql.h: $(SCHEMA) scripts/embed.sh
	@mkdir -p $(@D)
	$(Q)for f in $(SCHEMA); do n=$$(basename $$f .sql); sh scripts/embed.sh schema_$$n < $$f; done > $@
$(B)/producer/cli_migrate.o: $(B)/gen/schema_sql.h

$(B)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(COMMON_OBJ)
	@mkdir -p $(@D)
	@echo "  CC $<"
	$(Q)$(CC) $(CFLAGS) -o $@ $(filter %.c %.o,$^) $(CMOCKA_LIBS) $(PKG_LIBS) $(LDFLAGS)

# Worker code that is pure enough for cmocka: linked into its test
$(B)/tests/test_stats: $(B)/worker/stats.o
$(B)/tests/test_stats: override CFLAGS += -Iworker

deps:
	@sh scripts/deps.sh

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

test: deps
	@$(MAKE) --no-print-directory all unit-build
	@SANITIZE=$(SANITIZE) BUILD_DIR=$(B) bash tests/run.sh

unit-build: $(UNIT_TESTS)

run: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/bench.sh

clean:
	rm -rf build bin lib

.PHONY: all deps unit unit-build test run bench clean bin/syncq-worker bin/syncq lib/libsyncq.a

-include $(shell find build -name '*.d' 2>/dev/null)
