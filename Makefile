# squirrel: the tutorial "Exploring HTTPS with Python", in C.
#
#   make                 build bin/squirrel-{server,client,pki,tap}
#   make test            unit tests, then end-to-end tests against real peers
#   make test SAN=1      the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make test VALGRIND=1 the same under valgrind memcheck
#   make demo            the four tutorial stages, in one run
#   make test-chroot     make demo and make test from a clean clone in a minimal Debian chroot
#   make install PREFIX=/usr/local DESTDIR=...
#
# Objects go to $(BUILD), programs to $(BIN); helpers and CI may point both elsewhere.

PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DESTDIR  ?=
WOLFSSL  ?= system
SAN      ?=
VALGRIND ?=
PYTHON   ?= /usr/bin/python3

FLAVOR   := $(WOLFSSL)$(if $(SAN),-san)
BUILD    ?= build/$(FLAVOR)
BIN      ?= $(if $(SAN),$(BUILD)/bin,bin)

CFLAGS   ?= -O2 -g
WARN     := -std=c11 -Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wcast-qual -Wsign-compare -Wformat=2
CPPFLAGS += -D_GNU_SOURCE -Icommon -Ipki -Iserver -Iclient -Itap
ifneq ($(SAN),)
CFLAGS   += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=address,undefined
endif

ifeq ($(WOLFSSL),source)
WOLFSSL_PREFIX ?= $(CURDIR)/build/wolfssl-source/prefix
WOLFSSL_CFLAGS ?= -I$(WOLFSSL_PREFIX)/include
WOLFSSL_LIBS   ?= $(WOLFSSL_PREFIX)/lib/libwolfssl.a -lm -lpthread
WOLFSSL_DEP    := $(WOLFSSL_PREFIX)/lib/libwolfssl.a
else
WOLFSSL_CFLAGS ?= $(shell pkg-config --cflags wolfssl)
WOLFSSL_LIBS   ?= $(shell pkg-config --libs wolfssl)
WOLFSSL_DEP    :=
endif

ALL_CFLAGS = $(WARN) $(CPPFLAGS) $(WOLFSSL_CFLAGS) $(CFLAGS) -MMD -MP

# Each program has a main file; the rest of its folder is a library that unit tests link too.
COMMON_SRC := $(wildcard common/*.c)
SERVER_SRC := $(filter-out server/main.c,$(wildcard server/*.c))
CLIENT_SRC := $(filter-out client/main.c,$(wildcard client/*.c))
TAP_SRC    := $(filter-out tap/main.c,$(wildcard tap/*.c))
PKI_SRC    := $(filter-out pki/pki_main.c pki/cmd_%.c,$(wildcard pki/*.c))
PKI_CLI    := pki/pki_main.c $(wildcard pki/cmd_*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_SUPPORT := $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
LIBS = $(BUILD)/libserver.a $(BUILD)/libclient.a $(BUILD)/libtap.a $(BUILD)/libpki.a \
       $(BUILD)/libcommon.a
LDLIBS = $(WOLFSSL_LIBS)

PROGRAMS := $(BIN)/squirrel-server $(BIN)/squirrel-client $(BIN)/squirrel-pki $(BIN)/squirrel-tap
UNITS    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all deps test check-unit check-e2e test-chroot demo bench bench-both bench-publish fuzz lint hostile audit install clean FORCE
all: $(PROGRAMS)

# Missing Debian packages are installed (as root) or named (otherwise) before anything compiles.
$(BUILD)/.deps-build: .ci/deps
	@sh .ci/deps build $(if $(filter source,$(WOLFSSL)),source)
	@mkdir -p $(@D) && touch $@
deps: $(BUILD)/.deps-build

$(BUILD)/%.o: %.c | $(BUILD)/.deps-build $(WOLFSSL_DEP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

MEMBERS_common := $(COMMON_SRC)
MEMBERS_server := $(SERVER_SRC)
MEMBERS_client := $(CLIENT_SRC)
MEMBERS_tap    := $(TAP_SRC)
MEMBERS_pki    := $(PKI_SRC)
# An archive is rebuilt when its member list changes, not only when a member does: a file
# moved out of a folder must leave that folder's library.
$(BUILD)/lib%.members: FORCE
	@mkdir -p $(@D)
	@echo '$(MEMBERS_$*)' | cmp -s - $@ || echo '$(MEMBERS_$*)' > $@
.SECONDEXPANSION:
$(BUILD)/lib%.a: $$(call obj,$$(MEMBERS_$$*)) $(BUILD)/lib%.members
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $(filter %.o,$^)

# Programs remember which wolfSSL they were linked with, so switching WOLFSSL= relinks.
$(BIN)/.flavor: FORCE
	@mkdir -p $(@D)
	@echo '$(FLAVOR)' | cmp -s - $@ || echo '$(FLAVOR)' > $@

# Each program links only the libraries it uses: its own folder's, libcommon, and libpki
# for the server and client (key decoding, certificate dates and names); libseccomp for the
# three that confine themselves (common/sandbox.c).
SECCOMP_LIBS ?= $(shell pkg-config --libs libseccomp)
$(BIN)/squirrel-server $(BIN)/squirrel-client $(BIN)/squirrel-tap: LDLIBS += $(SECCOMP_LIBS)
$(BIN)/squirrel-server: $(call obj,server/main.c) $(BUILD)/libserver.a $(BUILD)/libpki.a $(BUILD)/libcommon.a
$(BIN)/squirrel-client: $(call obj,client/main.c) $(BUILD)/libclient.a $(BUILD)/libpki.a $(BUILD)/libcommon.a
$(BIN)/squirrel-pki:    $(call obj,$(PKI_CLI)) $(BUILD)/libpki.a $(BUILD)/libcommon.a
$(BIN)/squirrel-tap:    $(call obj,tap/main.c) $(BUILD)/libtap.a $(BUILD)/libcommon.a
$(PROGRAMS): $(BIN)/.flavor
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS)

$(BUILD)/tests/%: $(call obj,tests/unit/%.c $(UNIT_SUPPORT)) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBS) $(LDLIBS) -lcmocka

# ---- tests ---------------------------------------------------------------------------------
VG := valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
      --show-leak-kinds=definite --track-fds=no
RUNWRAP := $(if $(VALGRIND),$(VG))

# make test ends with what it skipped and why (docs/testing.md): the unit tests run first and
# write their skips to UNIT_SKIPS; the end-to-end run lists those with its own.
test: check-unit check-e2e
UNIT_SKIPS := $(BUILD)/tests/skipped
MAKING_TEST := $(filter test,$(MAKECMDGOALS))

$(BUILD)/.deps-test: .ci/deps
	@sh .ci/deps test $(if $(VALGRIND),valgrind)
	@mkdir -p $(@D) && touch $@

check-unit: $(BUILD)/.deps-test $(UNITS)
	@SKIPS=$(UNIT_SKIPS) WRAP='$(RUNWRAP)' SQUIRREL_VECTORS=tests/vectors \
		sh tests/unit/run.sh $(UNITS)

check-e2e: $(BUILD)/.deps-test $(PROGRAMS) | $(if $(MAKING_TEST),check-unit)
	SQUIRREL_BIN=$(abspath $(BIN)) SQUIRREL_WRAP='$(RUNWRAP)' \
		$(if $(MAKING_TEST),SQUIRREL_UNIT_SKIPS=$(abspath $(UNIT_SKIPS))) \
		$(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e $(PYTEST_ARGS)

# The README's two commands from a clean clone of HEAD in a minimal Debian chroot (as root;
# about 1.3 GiB under /var/tmp while it runs, and 6 minutes): what a new user meets.
test-chroot:
	sh .ci/chroot

demo: $(PROGRAMS)
	@sh .ci/deps demo
	@SQUIRREL_BIN=$(abspath $(BIN)) $(PYTHON) tests/demo.py

# ---- benchmarks (tests/bench/*.c are in-process micro-benchmarks) -------------------------
BENCH_SRC := $(wildcard tests/bench/*.c)
BENCHES   := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
$(BUILD)/bench/%: $(call obj,tests/bench/%.c) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBS) $(LDLIBS)
# The floor server (row a's goal) links libc and msg.c only: no wolfSSL, nothing it does not run.
$(BUILD)/bench/bench_floor: $(call obj,tests/bench/bench_floor.c) $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(BUILD)/libcommon.a

bench: $(PROGRAMS) $(BENCHES)
	@sh .ci/deps bench
	SQUIRREL_BIN=$(abspath $(BIN)) BENCH_BIN=$(abspath $(BUILD)/bench) \
		$(PYTHON) tests/bench/bench.py $(if $(QUICK),--quick) $(if $(ONLY),--only $(ONLY)) \
		$(if $(WORKERS),--workers $(WORKERS)) $(if $(REPS),--reps $(REPS)) $(BENCH_ARGS)

# Both wolfSSL builds side by side in one run: Debian's, and the one with x86-64 assembly.
bench-both:
	$(MAKE) WOLFSSL=source BUILD=build/source BIN=build/source/bin all \
		$(patsubst tests/bench/%.c,build/source/bench/%,$(BENCH_SRC))
	SQUIRREL_BIN_ALT=$(CURDIR)/build/source/bin BENCH_BIN_ALT=$(CURDIR)/build/source/bench $(MAKE) bench

# The last run's table and charts into docs/bench/, which docs/benchmarks.md shows. Refused unless
# both charts carry the table's date line, so the three always come from one run.
BENCH_RESULTS := build/bench-results.md build/bench-rps.svg build/bench-latency.svg
bench-publish:
	@for f in $(BENCH_RESULTS); do [ -f $$f ] || \
		{ echo "bench-publish: $$f: missing (run make bench or make bench-both first)" >&2; exit 1; }; done
	@run=$$(sed -n '1s/^# make bench: //p' build/bench-results.md); \
	for f in build/bench-rps.svg build/bench-latency.svg; do grep -qF "make bench, $$run," $$f || \
		{ echo "bench-publish: $$f: not from the run of build/bench-results.md ($$run)" >&2; exit 1; }; done
	@mkdir -p docs/bench
	cp build/bench-results.md docs/bench/results.md
	cp build/bench-rps.svg docs/bench/rps.svg
	cp build/bench-latency.svg docs/bench/latency.svg

# make WOLFSSL=source: wolfSSL 5.5.4 from Debian's source package, with its x86-64 assembly.
# Its packages come with the build's (.deps-build asks for them), one apt-get at a time.
ifeq ($(WOLFSSL),source)
$(WOLFSSL_DEP): | $(BUILD)/.deps-build
	sh tests/bench/wolfssl-source.sh $(WOLFSSL_PREFIX)
endif

# ---- assurance: bounded targets outside `make test` -------------------------------------
# make fuzz      libFuzzer harnesses (tests/fuzz), FUZZ_SECONDS each (default 60);
#                HARNESS="request response" runs some of them
# make lint      cppcheck and clang-tidy with the checked-in configuration
# make hostile   slow senders, 10,000 idle connections, descriptor exhaustion, resets
# make audit     testssl.sh against --mode tls
FUZZ_SECONDS ?= 60
fuzz:
	@sh .ci/deps fuzz
	FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh $(HARNESS)

lint:
	@sh .ci/deps lint
	sh tests/lint/run.sh

hostile: $(PROGRAMS)
	@sh .ci/deps hostile
	SQUIRREL_BIN=$(abspath $(BIN)) $(PYTHON) -m pytest -q -p no:cacheprovider tests/hostile $(PYTEST_ARGS)

audit: $(PROGRAMS)
	@sh .ci/deps audit
	SQUIRREL_BIN=$(abspath $(BIN)) sh tests/audit/testssl.sh

# ---- install -------------------------------------------------------------------------------
install: $(PROGRAMS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(BINDIR)
	install -m 0644 $(wildcard docs/man/*.1) $(DESTDIR)$(MANDIR)/man1

clean:
	rm -rf build bin

FORCE:

# Test and bench objects are not intermediates: keep them between builds.
.SECONDARY:
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
