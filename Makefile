# floe — top-level build.
#   make            library (static + shared + pkg-config), tools, examples,
#                   tests, and the module when kernel headers are installed
#   make check      every test tier: checkpatch, host (shm backend), VM
#                   (Debian's kernels, kmod backend), KUnit (debug kernel);
#                   non-zero on failure
#   make demo       the publish-subscribe example pair
SHELL := /bin/bash
VERSION := 0.1.0
SOVERSION := 0
O := build

CC ?= cc
# V=1 shows full command lines
Q := $(if $(V),,@)
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS += -Iinclude -Iinclude/uapi -Ilib -D_GNU_SOURCE
LIB_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11 -fPIC -fvisibility=hidden
PROG_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11
LIBS := -luring -linih -lpthread
# Test and example programs are linked statically so the very same binaries
# run on the host and inside the qemu initramfs.
PROG_LDFLAGS := -static

LIB_SRCS := $(wildcard lib/*.c lib/base/*.c lib/backend/*.c lib/engine/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(O)/%.o)
LIB_HDRS := $(wildcard include/*.h include/uapi/linux/*.h lib/*.h lib/base/*.h \
	lib/backend/*.h lib/engine/*.h)

HOST_TESTS := $(patsubst tests/host/%.c,$(O)/tests/host/%,$(wildcard tests/host/t_*.c))
EXAMPLES := $(patsubst examples/%.c,$(O)/examples/%,$(wildcard examples/*.c))
BENCHES := $(patsubst bench/%.c,$(O)/bench/%,$(wildcard bench/*.c))
# Peer IPC systems for scripts/bench.sh: bench/peers/driver.c + one file
# each; they need the libraries of `scripts/deps.sh bench`, so they are not
# part of `all`, and are linked dynamically (C++ runtime of iceoryx).
PEERS := $(patsubst bench/peers/%.c,$(O)/bench/peers/%,\
	$(filter-out bench/peers/driver.c,$(wildcard bench/peers/*.c)))
PEER_CFLAGS_iceoryx := $(addprefix -isystem ,\
	$(lastword $(wildcard /usr/include/iceoryx/v*)))
PEER_LIBS_iceoryx := -liceoryx_binding_c
PEER_LIBS_zeromq := -lzmq
# The floe tool: public API, plus lib/config.h to report configuration errors.
TOOL := $(O)/tools/floe
TOOL_SRCS := $(wildcard tools/*.c)
TOOL_LIBS := -ljson-c
CLI_TESTS := $(wildcard tests/cli/t_*.sh)
# floe-gateway: floe services onto Eclipse Cyclone DDS (Debian's libddsc);
# the envelope type is compiled by idlc into $(O)/tools/gateway. Linked
# dynamically against libddsc; the library and the floe tool know
# nothing of DDS.
GATEWAY := $(O)/tools/floe-gateway
GW_GEN := $(O)/tools/gateway
GW_SRCS := $(wildcard tools/gateway/*.c)
GW_CFLAGS := -Itools/gateway -I$(GW_GEN) $(shell pkg-config --cflags CycloneDDS 2>/dev/null)
GW_LIBS := $(or $(shell pkg-config --libs CycloneDDS 2>/dev/null),-lddsc)
# programs of the gateway's tests and benchmark: Cyclone DDS alone (no
# floe), and floe alone (no DDS)
GW_TEST_PROGS := $(O)/tests/gateway/dds_peer $(O)/tests/gateway/floe_peer
GW_BENCH := $(O)/bench/gateway/gateway_pingpong
# examples the CLI tests run ports with
CLI_EXAMPLES := $(O)/examples/blackboard_writer \
	$(O)/examples/request_response_server

KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	$(wildcard /lib/modules/*-amd64/build))

.PHONY: all lib module tools tests examples benches check check-host \
	check-cli check-vm check-asan check-tsan check-fuzz check-kunit demo \
	install install-dkms clean peers gateway-bench bench bench-quick check-storm \
	check-checkpatch check-gateway
all: lib tools tests examples benches module

lib: $(O)/libfloe.a $(O)/libfloe.so.$(VERSION) $(O)/floe.pc

$(O)/%.o: %.c $(LIB_HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(LIB_CFLAGS) -c $< -o $@

$(O)/libfloe.a: $(LIB_OBJS)
	@rm -f $@
	@echo "  AR      $@"
	$(Q)ar rcs $@ $^

$(O)/libfloe.so.$(VERSION): $(LIB_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) -shared -Wl,-soname,libfloe.so.$(SOVERSION) -o $@ $^ $(LIBS)
	$(Q)ln -sf libfloe.so.$(VERSION) $(O)/libfloe.so.$(SOVERSION)
	$(Q)ln -sf libfloe.so.$(SOVERSION) $(O)/libfloe.so

PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|'
$(O)/floe.pc: floe.pc.in
	$(PC_SED) $< > $@

tools: $(TOOL) $(GATEWAY)

$(GW_GEN)/envelope.c $(GW_GEN)/envelope.h: tools/gateway/envelope.idl
	@mkdir -p $(GW_GEN)
	@echo "  IDLC    $<"
	$(Q)idlc -o $(GW_GEN) $<

# (idlc's output is not ours to warn about)
$(GW_GEN)/envelope.o: $(GW_GEN)/envelope.c
	$(Q)$(CC) $(CFLAGS) $(GW_CFLAGS) -c $< -o $@

$(GATEWAY): $(GW_SRCS) tools/gateway/gateway.h $(GW_GEN)/envelope.o \
		$(O)/libfloe.a
	@echo "  CCLD    $@"
	$(Q)$(CC) $(CPPFLAGS) $(GW_CFLAGS) $(PROG_CFLAGS) $(GW_SRCS) \
		$(GW_GEN)/envelope.o -o $@ $(O)/libfloe.a $(GW_LIBS) -pthread \
		$(LIBS)

$(TOOL): $(TOOL_SRCS) tools/cli.h lib/config.h $(O)/libfloe.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(CPPFLAGS) -DFLOE_TOOL_VERSION='"$(VERSION)"' $(PROG_CFLAGS) \
		$(TOOL_SRCS) -o $@ $(PROG_LDFLAGS) $(O)/libfloe.a $(TOOL_LIBS) $(LIBS)

tests: $(HOST_TESTS)

$(O)/tests/gateway/floe_peer: tests/gateway/floe_peer.c $(O)/libfloe.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(CPPFLAGS) $(PROG_CFLAGS) $< -o $@ $(PROG_LDFLAGS) \
		$(O)/libfloe.a $(LIBS)

$(O)/tests/gateway/dds_peer: tests/gateway/dds_peer.c $(GW_GEN)/envelope.o
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(GW_CFLAGS) $(PROG_CFLAGS) $< $(GW_GEN)/envelope.o -o $@ \
		$(GW_LIBS)
examples: $(EXAMPLES)
benches: $(BENCHES)

$(O)/tests/host/%: tests/host/%.c tests/tap.h $(wildcard tests/host/*.h) $(O)/libfloe.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(CPPFLAGS) -Itests $(PROG_CFLAGS) $< -o $@ $(PROG_LDFLAGS) $(O)/libfloe.a $(LIBS)

$(O)/examples/%: examples/%.c $(wildcard examples/*.h) $(O)/libfloe.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(CPPFLAGS) $(PROG_CFLAGS) $< -o $@ $(PROG_LDFLAGS) $(O)/libfloe.a $(LIBS)

$(O)/bench/%: bench/%.c $(wildcard bench/*.h) $(O)/libfloe.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(CPPFLAGS) $(PROG_CFLAGS) $< -o $@ $(PROG_LDFLAGS) $(O)/libfloe.a $(LIBS)

peers: $(PEERS)

# floe-gateway against Cyclone DDS alone (scripts/bench-gateway.sh)
gateway-bench: $(GW_BENCH)
# (with the gateway's QoS mapping, so that both paths have the same QoS)
$(GW_BENCH): bench/gateway/gateway_pingpong.c bench/bench.h \
		tools/gateway/qos.c tools/gateway/gateway.h \
		$(GW_GEN)/envelope.o $(O)/libfloe.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(CPPFLAGS) -Ibench $(GW_CFLAGS) $(PROG_CFLAGS) $< \
		tools/gateway/qos.c $(GW_GEN)/envelope.o -o $@ \
		$(O)/libfloe.a $(GW_LIBS) $(LIBS)

$(PEERS): $(O)/bench/peers/%: bench/peers/%.c bench/peers/driver.c \
		bench/peers/peer.h bench/bench.h
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(PEER_CFLAGS_$*) $(PROG_CFLAGS) -D_GNU_SOURCE $< \
		bench/peers/driver.c -o $@ $(PEER_LIBS_$*)

# Every benchmark against the raw limits and the peers, results in
# bench/results/ (scripts/bench.sh --help); bench-quick only proves that
# all the programs still work, in well under a minute.
bench:
	O=$(O) scripts/bench.sh
bench-quick:
	O=$(O) scripts/bench.sh --quick

module:
ifneq ($(KDIR),)
	@# O= is ours (the library build dir), not Kbuild's output dir
	$(MAKE) -C kmod KDIR=$(KDIR) O=
else
	@echo "module: no kernel headers found (scripts/deps.sh vm), skipped"
endif

check:
	scripts/deps.sh all
	$(MAKE) check-checkpatch
	$(MAKE) check-host
	$(MAKE) check-asan
	$(MAKE) check-tsan
	$(MAKE) check-fuzz
	$(MAKE) check-vm
	$(MAKE) check-kunit
	@echo "check: all tiers passed"

check-host: tests benches tools
	tests/run-host.sh $(HOST_TESTS)
	@# the benchmark still works (speed is not judged here: machines are noisy)
	$(O)/bench/pubsub_pingpong --quick --sizes 8,1M >/dev/null
	$(O)/bench/event_wakeup --quick >/dev/null
	$(O)/bench/waitset_wakeup --quick >/dev/null
	$(O)/bench/request_response --quick >/dev/null
	$(O)/bench/blackboard --quick >/dev/null
	$(MAKE) check-cli
	$(MAKE) check-gateway

# floe-gateway (tests/gateway/): on loopback with floe domains as hosts,
# across two network namespaces (root), the envelope decoder's fuzzer for
# GW_FUZZ_TIME seconds, and a smoke run of its benchmark.
GW_TESTS := $(wildcard tests/gateway/t_*.sh)
GW_FUZZ_TIME ?= 10
check-gateway: tools $(GW_TEST_PROGS) $(GW_BENCH)
	FLOE_TEST_TIMEOUT=$${FLOE_TEST_TIMEOUT:-300} tests/run-host.sh $(GW_TESTS)
	$(MAKE) check-fuzz FUZZ_TARGETS=gateway FUZZ_TIME=$(GW_FUZZ_TIME)
	@# the benchmark still works (speed is not judged here)
	rm -rf $(O)/bench-gateway-quick
	O=$(O) scripts/bench-gateway.sh $(O)/bench-gateway-quick --quick

# The long crash storms (the bounded ones run in check-host): STORM_N
# kills, for at most STORM_SECS seconds each, and as long a model-based
# test (t_model). E.g. make check-storm STORM_SECS=3600.
STORM_N ?= 1000000
STORM_SECS ?= 600
STORM_TESTS := $(O)/tests/host/t_crash_storm $(O)/tests/host/t_death_storm \
	$(O)/tests/host/t_model
check-storm: $(STORM_TESTS)
	FLOE_STORM_N=$(STORM_N) FLOE_STORM_SECS=$(STORM_SECS) \
		FLOE_MODEL_SECS=$(STORM_SECS) \
		FLOE_TEST_TIMEOUT=$$(($(STORM_SECS) + 300)) \
		tests/run-host.sh $(STORM_TESTS)

# The kernel's checkpatch.pl --strict over kmod/ and include/uapi/ (from
# linux-source-6.1, extracted once): any error, warning or check fails.
check-checkpatch:
	scripts/deps.sh checkpatch
	scripts/checkpatch.sh

# The floe tool's tests (POSIX sh, TAP) on the shm backend, then an install
# into a scratch directory that an example is built against.
check-cli: tools examples
	FLOE_CLI=$(abspath $(TOOL)) FLOE_EXAMPLES=$(abspath $(O)/examples) \
		tests/run-host.sh $(CLI_TESTS)
	tests/cli/install.sh

# The host tests again under AddressSanitizer + UndefinedBehaviorSanitizer,
# and under ThreadSanitizer (sanitizer runtimes need dynamic linking).
SAN_FLAGS_asan := -O1 -g -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all
SAN_FLAGS_tsan := -O1 -g -fsanitize=thread
check-asan check-tsan: check-%:
	$(MAKE) O=$(O)/$* CFLAGS="$(SAN_FLAGS_$*)" PROG_LDFLAGS= tests
	FLOE_STORM_N=300 tests/run-host.sh \
		$(patsubst $(O)/%,$(O)/$*/%,$(HOST_TESTS))

# libFuzzer harnesses (tests/fuzz/fuzz_<target>.c) of every parser of
# shared or external input, built with clang in $(O)/fuzz; each runs
# FUZZ_TIME seconds from its seed corpus (tests/fuzz/corpus/<target>, left
# untouched: new inputs go to $(O)/fuzz/corpus). Any crash, sanitizer
# report, leak or hang fails; its input is saved in $(O)/fuzz.
FUZZ_CC := clang
FUZZ_TIME ?= 15
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
# the floe tool is linked in with its main renamed
FUZZ_SRCS_cli := $(TOOL_SRCS) -Dmain=floe_tool_main -Wno-missing-prototypes \
	-DFLOE_TOOL_VERSION='"$(VERSION)"'
FUZZ_LIBS_cli := $(TOOL_LIBS)
# floe-gateway's envelope decoder (no DDS library: only its headers)
FUZZ_SRCS_gateway := tools/gateway/decode.c $(GW_CFLAGS)
$(O)/fuzz/fuzz_gateway: tools/gateway/decode.c tools/gateway/gateway.h \
	$(GW_GEN)/envelope.h

$(O)/fuzz/libfloe.a: $(LIB_SRCS) $(LIB_HDRS)
	$(MAKE) O=$(O)/fuzz CC=$(FUZZ_CC) \
		CFLAGS="$(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link" $@

$(O)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(TOOL_SRCS) \
		$(O)/fuzz/libfloe.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(FUZZ_CC) $(CPPFLAGS) -Itools $(FUZZ_CFLAGS) -fsanitize=fuzzer \
		$(WARN) $< $(FUZZ_SRCS_$*) -o $@ $(O)/fuzz/libfloe.a \
		$(FUZZ_LIBS_$*) $(LIBS)

check-fuzz: $(FUZZ_TARGETS:%=$(O)/fuzz/fuzz_%)
	set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz_$$t: $(FUZZ_TIME) s"; \
		mkdir -p $(O)/fuzz/corpus/$$t; \
		$(O)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_TIME) -timeout=20 \
			-close_fd_mask=1 -print_final_stats=1 \
			-artifact_prefix=$(O)/fuzz/$$t- \
			$(O)/fuzz/corpus/$$t tests/fuzz/corpus/$$t \
			2>$(O)/fuzz/$$t.log || \
			{ tail -n 60 $(O)/fuzz/$$t.log; exit 1; }; \
		grep -E "^stat::number_of_executed_units" $(O)/fuzz/$$t.log; \
	done

# The VM tier on Debian's kernel lines (KVERS=6.12 picks one), with the
# module DKMS builds (VM_MODULE=kbuild: built from kmod/ directly).
KVERS ?= 6.1 6.12
VM_MODULE ?= dkms
check-vm: tests tools examples
	KVERS="$(KVERS)" VM_MODULE="$(VM_MODULE)" \
		VM_EXTRA_TESTS="$(HOST_TESTS) $(CLI_TESTS)" \
		VM_EXTRA_FILES="$(TOOL) tests/cli/lib.sh $(CLI_EXAMPLES)" \
		scripts/vm-test.sh

check-kunit: tests
	KUNIT_EXTRA_TESTS="$(HOST_TESTS)" scripts/kunit-test.sh

demo:
	scripts/deps.sh host
	$(MAKE) examples
	scripts/demo.sh

clean:
	rm -rf $(O)
	$(MAKE) -C kmod clean >/dev/null 2>&1 || true

# make install [PREFIX=/usr/local] [DESTDIR=]: library, headers, pkg-config
# file, the floe tool, its manual and bash completion under PREFIX; the udev
# rule and the module's DKMS source where udev and DKMS look for them.
PREFIX ?= /usr/local
UDEVRULESDIR ?= /lib/udev/rules.d
DKMSDIR ?= /usr/src/floe-$(VERSION)
# (kmod/*.mod.c are generated by a module build there)
KMOD_SRCS := $(filter-out %.mod.c,$(wildcard kmod/*.c kmod/*.h)) kmod/Kbuild \
	kmod/Makefile kmod/dkms.conf
DEST_PREFIX := $(DESTDIR)$(PREFIX)
install: lib tools install-dkms
	install -d $(addprefix $(DEST_PREFIX)/,lib/pkgconfig include/linux bin \
		share/man/man1 share/bash-completion/completions) \
		$(DESTDIR)$(UDEVRULESDIR)
	install -m 644 $(O)/libfloe.a $(DEST_PREFIX)/lib/
	install -m 755 $(O)/libfloe.so.$(VERSION) $(DEST_PREFIX)/lib/
	ln -sf libfloe.so.$(VERSION) $(DEST_PREFIX)/lib/libfloe.so.$(SOVERSION)
	ln -sf libfloe.so.$(SOVERSION) $(DEST_PREFIX)/lib/libfloe.so
	$(PC_SED) floe.pc.in > $(DEST_PREFIX)/lib/pkgconfig/floe.pc
	install -m 644 include/floe.h $(DEST_PREFIX)/include/
	install -m 644 include/uapi/linux/floe.h $(DEST_PREFIX)/include/linux/
	install -m 755 $(TOOL) $(GATEWAY) $(DEST_PREFIX)/bin/
	install -m 644 docs/floe.1 docs/floe-gateway.1 \
		$(DEST_PREFIX)/share/man/man1/
	install -m 644 tools/floe.bash-completion \
		$(DEST_PREFIX)/share/bash-completion/completions/floe
	install -m 644 udev/60-floe.rules $(DESTDIR)$(UDEVRULESDIR)/

# The module's DKMS source alone (the VM tier builds it with DKMS).
install-dkms:
	install -d $(DESTDIR)$(DKMSDIR)/uapi/linux
	@# DKMS builds from this tree; kmod/Kbuild finds the uapi header in
	@# uapi/ (FLOE_UAPI in kmod/dkms.conf)
	install -m 644 $(KMOD_SRCS) $(DESTDIR)$(DKMSDIR)/
	install -m 644 include/uapi/linux/floe.h $(DESTDIR)$(DKMSDIR)/uapi/linux/
