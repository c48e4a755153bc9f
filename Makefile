# syncq - job worker pool: Redis in, HTTP out, PostgreSQL audit.
#
#   make            build bin/syncq-worker, bin/syncq, lib/libsyncq.a
#   make test       install missing packages, build, run unit + integration tests
#   make test-cluster  the Redis Cluster tests (tests/cluster/) on a private 6-node cluster, and
#                   Sentinel failover during 20,000 jobs (it_sentinel, docs/PRODUCTION.md)
#   make run        the demo on an embedded Redis + PostgreSQL under ./.run/
#   make bench      the throughput benchmark (and bench-web: the web console on 1,000,000 audit rows,
#                   bench-audit: the audit tables partitioned and not, on BENCH_AUDIT_ROWS rows)
#   make install    PREFIX=/usr/local DESTDIR=: binaries, libsyncq (static + shared), header,
#                   pkg-config file, schema, man pages, systemd unit
#   make SANITIZE=1 ...  the same with ASan + UBSan (separate build tree)
#   make fuzz       build the libFuzzer harnesses of fuzz/ (clang, ASan + UBSan, build/fuzz)
#   make fuzz-run   run each harness for FUZZ_SECONDS (default 20; `make test` runs them too)

CC      ?= cc
PKGS    := hiredis libcjson libpq libcurl libcrypto
# Only bin/syncq links these (the web console), not the worker or libsyncq.
WEB_PKGS := libmicrohttpd libcrypt
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

# rediss:// (TLS to Redis) needs hiredis >= 1.0 with hiredis_ssl; on when pkg-config finds
# both (TLS=0 turns it off, TLS=1 insists). Debian 12 ships hiredis 0.14: there the build has
# no TLS and rediss:// says to use the stunnel sidecar (docs/PRODUCTION.md "TLS").
TLS ?= $(shell pkg-config --atleast-version=1.0.0 hiredis 2>/dev/null && pkg-config --exists hiredis_ssl 2>/dev/null && echo 1 || echo 0)
ifeq ($(TLS),1)
  PKGS += hiredis_ssl
  TLS_CFLAGS := -DSYNCQ_TLS=1
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WEB_CFLAGS := $(shell pkg-config --cflags $(WEB_PKGS) 2>/dev/null)
WEB_LIBS   := $(shell pkg-config --libs $(WEB_PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

# V=1 shows the full commands.
Q := $(if $(V),,@)

WARN   := -Wall -Wextra -Werror -Wformat=2 -Wstrict-prototypes -Wwrite-strings -Wshadow
# -fPIC: the same objects go into bin/*, lib/libsyncq.a and lib/libsyncq.so.
override CFLAGS += -std=c11 $(OPT) -g -fPIC $(WARN) $(SANFLAGS) -MMD -MP -Icommon -Iinclude -I$(B)/gen \
                   -DSYNCQ_VERSION='"$(VERSION)"' $(TLS_CFLAGS) $(PKG_CFLAGS) $(WEB_CFLAGS)
override LDFLAGS += $(SANFLAGS)

# Pure code: no server, no network. Unit-tested with cmocka.
PURE := xalloc errf clock sbuf utf8 tty json envelope mask mask_text pct url uuid config log wrap record record_merge backoff dead
PURE += prom
PURE += services crypto sign paging sigv4
PURE += slot
# I/O wrappers: one per library (rds = hiredis, db = libpq).
IO   := rds db funcs keys queue enqueue qstat http snapshot schema audit
IO   += durability partition
IO   += cluster
COMMON_OBJ := $(addprefix $(B)/common/,$(addsuffix .o,$(PURE) $(IO)))

WORKER_OBJ := $(addprefix $(B)/worker/,master.o child.o job.o fetch.o handler.o writer.o reaper.o board.o salvage.o h_http.o h_sync.o h_exec.o schedule.o)
WORKER_OBJ += $(addprefix $(B)/worker/,exec_proc.o stage.o h_exec_sync.o handler_view.o h_builtin.o plugin.o)
WORKER_OBJ += $(addprefix $(B)/worker/,stats.o metrics.o metrics_http.o notify.o auth.o fiber.o calls.o)
CLI_OBJ    := $(addprefix $(B)/producer/,cli.o cli_enqueue.o cli_migrate.o cli_queue.o cli_status.o cli_dlq.o cli_dlq_store.o \
                cli_dlq_show.o cli_dlq_change.o)
CLI_OBJ    += $(addprefix $(B)/producer/,cli_ops.o cli_stats.o cli_health.o cli_check.o cli_jobs.o cli_jobs_show.o \
                cli_jobs_retry.o cli_prune.o)
CLI_OBJ    += $(B)/producer/cli_snapshot.o $(B)/producer/cli_healthcheck.o $(B)/producer/cli_audit.o $(B)/producer/cli_tty.o \
              $(B)/producer/cli_wait.o $(B)/producer/cli_table.o
# The web console (producer/web.h): pure parts first, for the unit tests.
WEB_PURE   := web_route web_session web_auth web_html web_chart
WEB_OBJ    := $(addprefix $(B)/producer/,$(addsuffix .o,$(WEB_PURE) web web_cmd web_routes web_static web_action web_task \
                web_page_login web_page_overview web_page_jobs web_page_job web_page_dlq web_page_snapshots web_page_queues))
CLI_OBJ    += $(WEB_OBJ)

UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test_*.c))

# The producer library: only what syncq_enqueue needs (no libpq), and only
# the names in common/libsyncq.sym visible to the programs that link it.
LIB_MODS := enqueue queue funcs rds cluster slot keys envelope mask mask_text pct json sbuf utf8 xalloc errf clock url uuid config log
LIB_OBJ  := $(addprefix $(B)/common/,$(addsuffix .o,$(LIB_MODS)))
LIB_PKGS := hiredis libcjson $(if $(filter 1,$(TLS)),hiredis_ssl)
SOMAJOR  := 0
SONAME   := libsyncq.so.$(SOMAJOR)

all: bin/syncq-worker bin/syncq lib/libsyncq.a lib/libsyncq.so lib/functions.lua plugins

bin/syncq-worker: $(B)/bin/syncq-worker
	@mkdir -p bin && rm -f $@ && cp $< $@
bin/syncq: $(B)/bin/syncq
	@mkdir -p bin && rm -f $@ && cp $< $@
lib/libsyncq.a: $(B)/lib/libsyncq.a
	@mkdir -p lib && rm -f $@ && cp $< $@
# The complete function library (common/functions.lua with the record's columns
# put in), for producers and clients that load it themselves (FUNCTION LOAD).
lib/functions.lua: $(B)/gen/functions.lua
	@mkdir -p lib && rm -f $@ && cp $< $@
lib/libsyncq.so: $(B)/lib/libsyncq.so.$(VERSION)
	@mkdir -p lib && rm -f $@ lib/$(SONAME) lib/libsyncq.so.$(VERSION)
	@cp $< lib/libsyncq.so.$(VERSION) && ln -s libsyncq.so.$(VERSION) lib/$(SONAME) && ln -s $(SONAME) $@

$(B)/bin/syncq-worker: $(B)/worker/main.o $(WORKER_OBJ) $(COMMON_OBJ)
	@mkdir -p $(@D)
	@echo "  LD $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -ldl

$(B)/bin/syncq: $(B)/producer/main.o $(CLI_OBJ) $(COMMON_OBJ)
	@mkdir -p $(@D)
	@echo "  LD $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(WEB_LIBS)

# Static: one relocatable object whose internal names are made local, so an
# application's own json_parse or log_init cannot collide with ours.
$(B)/lib/libsyncq.a: $(LIB_OBJ) common/libsyncq.sym
	@mkdir -p $(@D)
	@echo "  AR $@"
	$(Q)ld -r -o $(B)/lib/libsyncq.o $(LIB_OBJ)
	$(Q)objcopy --keep-global-symbols=common/libsyncq.sym $(B)/lib/libsyncq.o
	$(Q)rm -f $@ && ar rcs $@ $(B)/lib/libsyncq.o

$(B)/lib/libsyncq.map: common/libsyncq.sym
	@mkdir -p $(@D)
	$(Q){ echo 'SYNCQ_$(SOMAJOR) { global:'; sed 's/$$/;/' $<; echo 'local: *; };'; } > $@

$(B)/lib/libsyncq.so.$(VERSION): $(LIB_OBJ) $(B)/lib/libsyncq.map
	@mkdir -p $(@D)
	@echo "  LD $@"
	$(Q)$(CC) -shared $(LDFLAGS) -Wl,-soname,$(SONAME) -Wl,--version-script=$(B)/lib/libsyncq.map \
		-o $@ $(LIB_OBJ) $(shell pkg-config --libs $(LIB_PKGS) 2>/dev/null)

# C plugins (docs/HANDLERS.md): the example, and one built for another
# handler ABI, which the worker must refuse (tests/it/it_plugin.sh).
PLUGIN_CFLAGS := -std=c11 -O2 -g -fPIC -shared $(WARN) $(SANFLAGS) -Iinclude
plugins: $(B)/plugins/hello.so $(B)/plugins/other_abi.so
$(B)/plugins/hello.so: examples/plugins/hello.c include/syncq/handler.h
	@mkdir -p $(@D)
	@echo "  CC $@"
	$(Q)$(CC) $(PLUGIN_CFLAGS) $(shell pkg-config --cflags libcjson) -o $@ $< $(shell pkg-config --libs libcjson)
$(B)/plugins/other_abi.so: tests/plugins/other_abi.c include/syncq/handler.h
	@mkdir -p $(@D)
	@echo "  CC $@"
	$(Q)$(CC) $(PLUGIN_CFLAGS) -o $@ $<

# The Redis function library is embedded in the binaries as a C string, with
# the audit record's columns generated from common/record_cols.h put in at
# its @RECORD_COLS@ line, and a digest of them after its LIBRARY_VERSION (so
# masters reload a library whose columns changed).
$(B)/gen/record_lua: scripts/record_lua.c common/record_cols.h
	@mkdir -p $(@D)
	$(Q)$(CC) -std=c11 -Wall -Wextra -Werror -Icommon -o $@ $<
$(B)/gen/record_cols.lua: $(B)/gen/record_lua
	$(Q)$< > $@
$(B)/gen/functions.lua: common/functions.lua $(B)/gen/record_cols.lua
	$(Q)sum=$$(cksum < $(B)/gen/record_cols.lua | cut -d' ' -f1); \
	    sed -e "/^-- @RECORD_COLS@/{r $(B)/gen/record_cols.lua" -e 'd;}' \
	        -e "s/^\(local LIBRARY_VERSION = '[^']*\)'/\1.c$$sum'/" \
	        -e "s/^\(local V20_ANSWER = '[^']*\)'/\1.c$$sum'/" $< > $@.tmp && \
	    grep -q '^local RECORD_COLS = ' $@.tmp && grep -q "^local LIBRARY_VERSION = '.*\.c$$sum'" $@.tmp && \
	    grep -q "^local V20_ANSWER = '.*\.c$$sum'" $@.tmp && \
	    mv $@.tmp $@
$(B)/gen/funcs_lua.h: $(B)/gen/functions.lua scripts/embed.sh
	@mkdir -p $(@D)
	$(Q)sh scripts/embed.sh syncq_functions_lua < $< > $@
$(B)/common/funcs.o: $(B)/gen/funcs_lua.h

# The console's stylesheet and script are embedded as well (no files, no CDN).
$(B)/gen/web_assets.h: web/app.css web/app.js scripts/embed.sh
	@mkdir -p $(@D)
	$(Q){ sh scripts/embed.sh web_app_css < web/app.css; sh scripts/embed.sh web_app_js < web/app.js; } > $@
$(B)/producer/web_static.o: $(B)/gen/web_assets.h

# Migrations are embedded too, so a container needs no schema/ folder.
SCHEMA := $(sort $(wildcard schema/*.sql))
$(B)/gen/schema_sql.h: $(SCHEMA) scripts/embed.sh Makefile
	@mkdir -p $(@D)
	$(Q){ for f in $(SCHEMA); do n=$$(basename $$f .sql); sh scripts/embed.sh schema_$$n < $$f; done; \
	    echo '/* every migration, in order: X(version, name, sql) */'; \
	    echo '#define SCHEMA_MIGRATIONS(X) \'; \
	    for f in $(SCHEMA); do n=$$(basename $$f .sql); v=$$(echo $$n | sed 's/_.*//; s/^0*//'); \
	        echo "    X($$v, \"$$n\", schema_$$n) \\"; done; \
	    echo '    /* end */'; } > $@
$(B)/producer/cli_migrate.o: $(B)/gen/schema_sql.h $(B)/gen/schema_version.h
# The highest migration number, for the worker's startup check (common/schema.c).
$(B)/gen/schema_version.h: $(SCHEMA)
	@mkdir -p $(@D)
	$(Q)n=$$(for f in $(SCHEMA); do basename $$f | sed 's/_.*//; s/^0*//'; done | sort -n | tail -n 1); \
	    echo "#define SYNCQ_SCHEMA_VERSION $${n:-0}" > $@
$(B)/common/schema.o $(B)/worker/main.o $(B)/worker/writer.o: $(B)/gen/schema_version.h

$(B)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(COMMON_OBJ)
	@mkdir -p $(@D)
	@echo "  CC $<"
	$(Q)$(CC) $(CFLAGS) -o $@ $(filter %.c %.o,$^) $(CMOCKA_LIBS) $(PKG_LIBS) $(LDFLAGS)

# The web console's pure parts, linked into its tests (tests/unit/test_web_*.c)
# (test_web_route checks the real route table, which names every page: it links the CLI)
$(B)/tests/test_web_route: $(CLI_OBJ)
$(B)/tests/test_web_session $(B)/tests/test_web_html $(B)/tests/test_web_auth: \
    $(addprefix $(B)/producer/,$(addsuffix .o,$(WEB_PURE)))
$(B)/tests/test_web_route $(B)/tests/test_web_session $(B)/tests/test_web_html $(B)/tests/test_web_auth: \
    override CFLAGS += -Iproducer
$(B)/tests/test_web_route $(B)/tests/test_web_session $(B)/tests/test_web_html $(B)/tests/test_web_auth: \
    override LDFLAGS += $(WEB_LIBS)

# Worker code that is pure enough for cmocka: linked into its test
$(B)/tests/test_stats: $(B)/worker/stats.o
$(B)/tests/test_stats: override CFLAGS += -Iworker
$(B)/tests/test_fiber: $(B)/worker/fiber.o
$(B)/tests/test_fiber: override CFLAGS += -Iworker

# ---------------------------------------------------------------- Fuzzing
# libFuzzer harnesses, one per parser (fuzz/README.md). Always clang with
# ASan + UBSan, in their own tree, whatever SANITIZE says.
FUZZ_CC      ?= clang-14
FUZZ_B       := build/fuzz
FUZZ_SECONDS ?= 20
# make test runs each harness for this long (twice in CI: plain and SANITIZE=1,
# the same ASan build both times); longer runs are `make fuzz-run`.
TEST_FUZZ_SECONDS ?= 10
FUZZ_NAMES   ?= envelope wrap mask services link
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# gcc checks formats already; clang would also want a format attribute on
# every vprintf-style helper (log.c), which gcc does not ask for.
FUZZ_CFLAGS  := -std=c11 -O1 -g $(WARN) -Wno-format-nonliteral $(FUZZ_SAN) -MMD -MP -Icommon -Ifuzz $(PKG_CFLAGS)
# The pure modules, plus http.c for its pure Link parser.
FUZZ_OBJ     := $(addprefix $(FUZZ_B)/common/,$(addsuffix .o,$(PURE) http))
FUZZ_BINS    := $(addprefix $(FUZZ_B)/fuzz_,$(FUZZ_NAMES))

fuzz: $(FUZZ_BINS)

fuzz-run: fuzz
	@FUZZ_DIR=$(FUZZ_B) FUZZ_SECONDS=$(FUZZ_SECONDS) bash fuzz/run.sh $(FUZZ_NAMES)

$(FUZZ_B)/common/%.o: common/%.c
	@mkdir -p $(@D)
	@echo "  CC $< (fuzz)"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_B)/libsyncq_fuzz.a: $(FUZZ_OBJ)
	@echo "  AR $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_B)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FUZZ_B)/libsyncq_fuzz.a
	@echo "  LD $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_B)/libsyncq_fuzz.a $(PKG_LIBS) -lm

deps:
	@sh scripts/deps.sh

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

test: deps
	@$(MAKE) --no-print-directory all unit-build fuzz
	@SANITIZE=$(SANITIZE) BUILD_DIR=$(B) FUZZ_DIR=$(FUZZ_B) FUZZ_SECONDS=$(TEST_FUZZ_SECONDS) bash tests/run.sh

unit-build: $(UNIT_TESTS)

# soak: every lease scenario (docs/LEASES.md) SOAK_RUNS times (10), one Redis
# and PostgreSQL for all; the summary counts passes and failures per test.
SOAK_TESTS = it_lease_stop,it_lease_pause,it_lease_partition,it_lease_stall_kill,it_lease_redis_restart
SOAK_RUNS ?= 10
soak: deps
	@$(MAKE) --no-print-directory all
	@SANITIZE=$(SANITIZE) BUILD_DIR=$(B) TESTS=$(SOAK_TESTS) REPEAT=$(SOAK_RUNS) bash tests/run.sh

# The previous release, for tests/it/it_upgrade.sh (a rolling upgrade: its
# worker and CLI next to this build's). Built once from git into
# build/old-<commit> and kept there (make clean removes it). UPGRADE_FROM is
# the last commit before versioned libraries (library version 20, with the
# partitioned audit schema 006; an older one cannot write to it).
# UPGRADE_PRODUCER_FROM is older still (33c95c4: its binaries replaced any
# library that was not their own), for its producer side only (syncq
# enqueue, the C library): workers that old cannot write to schema 006.
UPGRADE_FROM ?= 2a4573c375960fdc529211bd5e2aa1a32820b18a
UPGRADE_PRODUCER_FROM ?= 33c95c48d035250e9362fd643e2d00524b0ab5ad
old-release: build/old-$(UPGRADE_FROM)/bin/syncq-worker build/old-$(UPGRADE_PRODUCER_FROM)/bin/syncq-worker
build/old-%/bin/syncq-worker:
	@rm -rf build/old-$* && mkdir -p build/old-$*
	git archive $* | tar -x -C build/old-$*
	$(MAKE) --no-print-directory -C build/old-$* bin/syncq-worker bin/syncq

# test-cluster: tests/cluster/*.sh on a private 3-master 3-replica Redis
# Cluster (a minute or two; CLUSTER_N jobs in it_cluster_run, default 50000); then
# Sentinel failover during 20,000 jobs (make test runs it_sentinel with 3,000).
test-cluster: deps
	@$(MAKE) --no-print-directory all
	@bash tests/cluster/run.sh
	@SANITIZE=$(SANITIZE) BUILD_DIR=$(B) TESTS=it_sentinel SENTINEL_JOBS=20000 bash tests/run.sh

run: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/bench.sh

# the audit tables partitioned next to unpartitioned, BENCH_AUDIT_ROWS (1,000,000)
# jobs: write rate, jobs pages, lookup by id, retention (also run by make bench)
bench-audit: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/bench_audit.sh

# the web console's page times on 1,000,000 audit rows (also run by make bench)
bench-web: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/bench_web.sh

# ---- install (FHS under PREFIX; DESTDIR for packaging and the tests) ----
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR    ?= $(PREFIX)/share
MANDIR     ?= $(DATADIR)/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc

$(B)/dist/syncq.pc: dist/syncq.pc.in Makefile
	@mkdir -p $(@D)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
		-e 's|@VERSION@|$(VERSION)|g' -e 's|@REQUIRES@|$(LIB_PKGS)|g' $< > $@

$(B)/dist/syncq-worker.service: dist/syncq-worker.service.in Makefile
	@mkdir -p $(@D)
	$(Q)sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' $< > $@

install: all $(B)/dist/syncq.pc $(B)/dist/syncq-worker.service
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(DATADIR)/syncq/schema $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DATADIR)/syncq/examples
	install -m 755 bin/syncq bin/syncq-worker $(DESTDIR)$(BINDIR)/
	install -m 644 lib/libsyncq.a $(DESTDIR)$(LIBDIR)/
	install -m 755 lib/libsyncq.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libsyncq.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libsyncq.so
	install -m 644 common/syncq.h $(DESTDIR)$(INCLUDEDIR)/
	install -d $(DESTDIR)$(INCLUDEDIR)/syncq
	install -m 644 include/syncq/handler.h $(DESTDIR)$(INCLUDEDIR)/syncq/
	install -m 644 $(B)/dist/syncq.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 644 $(SCHEMA) $(DESTDIR)$(DATADIR)/syncq/schema/
	install -m 644 lib/functions.lua $(DESTDIR)$(DATADIR)/syncq/
	install -m 644 examples/services.dns.json $(DESTDIR)$(DATADIR)/syncq/examples/
	install -m 644 man/syncq.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/syncq-services.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 man/syncq-worker.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 $(B)/dist/syncq-worker.service $(DESTDIR)$(UNITDIR)/
	install -d $(DESTDIR)$(PREFIX)/lib/sysusers.d
	install -m 644 dist/syncq.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/syncq.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/syncq $(DESTDIR)$(BINDIR)/syncq-worker $(DESTDIR)$(LIBDIR)/libsyncq.a \
		$(DESTDIR)$(LIBDIR)/libsyncq.so $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libsyncq.so.$(VERSION) \
		$(DESTDIR)$(INCLUDEDIR)/syncq.h $(DESTDIR)$(INCLUDEDIR)/syncq/handler.h $(DESTDIR)$(LIBDIR)/pkgconfig/syncq.pc \
		$(DESTDIR)$(MANDIR)/man1/syncq.1 $(DESTDIR)$(MANDIR)/man5/syncq-services.5 \
		$(DESTDIR)$(MANDIR)/man8/syncq-worker.8 $(DESTDIR)$(UNITDIR)/syncq-worker.service \
		$(DESTDIR)$(PREFIX)/lib/sysusers.d/syncq.conf
	rm -rf $(DESTDIR)$(DATADIR)/syncq

clean:
	rm -rf build bin lib

.PHONY: old-release plugins all deps unit unit-build test test-cluster soak run bench bench-web clean install uninstall fuzz fuzz-run bin/syncq-worker bin/syncq lib/libsyncq.a lib/libsyncq.so lib/functions.lua

-include $(shell find build -name '*.d' 2>/dev/null)
