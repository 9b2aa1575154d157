# floe — top-level build.
#   make            library (static + shared + pkg-config), tools, examples,
#                   tests, and the module when kernel headers are installed
#   make check      every test tier: checkpatch, host (shm backend), the
#                   Debian packages, VM (Debian's kernels, kmod backend),
#                   KUnit (debug kernel); non-zero on failure
#   make deb        the Debian packages, in build/deb
#   make demo       the example pairs (C, C++ and Python)
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
CXX_EXAMPLES := $(patsubst examples/cxx/%.cpp,$(O)/examples/cxx/%,\
	$(wildcard examples/cxx/*.cpp))
BENCHES := $(patsubst bench/%.c,$(O)/bench/%,$(wildcard bench/*.c)) \
	$(patsubst bench/cxx/%.cpp,$(O)/bench/cxx_%,$(wildcard bench/cxx/*.cpp))
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
# (recordings: tools/mcap_*.c, zstd chunks and their CRC-32s)
TOOL_LIBS := -ljson-c -lzstd -lz
# the tool's MCAP writer and reader, tested (t_mcap) and fuzzed on their own
MCAP_SRCS := tools/mcap_read.c tools/mcap_records.c tools/mcap_write.c
MCAP_LIBS := -lzstd -lz
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
	$(O)/examples/request_response_server \
	$(O)/examples/pubsub_publisher \
	$(O)/examples/pubsub_user_header_publisher \
	$(O)/examples/pubsub_user_header_subscriber

KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	$(wildcard /lib/modules/*-amd64/build))

.PHONY: all lib module tools tests examples benches check check-host \
	check-bindings install-bindings \
	check-cli check-vm check-asan check-tsan check-fuzz check-kunit demo \
	install install-dkms clean peers gateway-bench bench bench-quick \
	check-storm check-checkpatch check-gateway deb check-deb
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

# lib/floe.map: the exported functions (the ABI), versioned FLOE_0.1
$(O)/libfloe.so.$(VERSION): $(LIB_OBJS) lib/floe.map
	@echo "  LD      $@"
	$(Q)$(CC) -shared -Wl,-soname,libfloe.so.$(SOVERSION) \
		-Wl,--version-script=lib/floe.map $(LDFLAGS) -o $@ $(LIB_OBJS) $(LIBS)
	$(Q)ln -sf libfloe.so.$(VERSION) $(O)/libfloe.so.$(SOVERSION)
	$(Q)ln -sf libfloe.so.$(SOVERSION) $(O)/libfloe.so

PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	-e 's|@VERSION@|$(VERSION)|'
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

$(TOOL): $(TOOL_SRCS) $(wildcard tools/*.h) lib/config.h $(O)/libfloe.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(CPPFLAGS) -DFLOE_TOOL_VERSION='"$(VERSION)"' $(PROG_CFLAGS) \
		$(TOOL_SRCS) -o $@ $(PROG_LDFLAGS) $(LDFLAGS) $(O)/libfloe.a \
		$(TOOL_LIBS) $(LIBS)

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
examples: $(EXAMPLES) $(CXX_EXAMPLES)
benches: $(BENCHES)

$(O)/tests/host/%: tests/host/%.c tests/tap.h $(wildcard tests/host/*.h) $(O)/libfloe.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(CPPFLAGS) -Itests $(PROG_CFLAGS) $< -o $@ $(PROG_LDFLAGS) $(O)/libfloe.a $(LIBS)

$(O)/tests/host/t_mcap: tests/host/t_mcap.c tests/tap.h $(wildcard tools/mcap*.h) $(MCAP_SRCS)
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(CPPFLAGS) -Itests -Itools $(PROG_CFLAGS) $< $(MCAP_SRCS) -o $@ \
		$(PROG_LDFLAGS) $(MCAP_LIBS)

$(O)/examples/%: examples/%.c $(wildcard examples/*.h) $(O)/libfloe.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(CPPFLAGS) $(PROG_CFLAGS) $< -o $@ $(PROG_LDFLAGS) $(O)/libfloe.a $(LIBS)

$(O)/bench/%: bench/%.c $(wildcard bench/*.h) $(O)/libfloe.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(CPPFLAGS) $(PROG_CFLAGS) $< -o $@ $(PROG_LDFLAGS) $(O)/libfloe.a $(LIBS)

# ---- C++ (include/floe.hpp) and Python (bindings/python) -----------------
CXX_HDRS := include/floe.hpp $(wildcard include/floe/*.hpp)
CXX_WARN := -Wall -Wextra -Werror -Wshadow
# Debian's interpreter, whatever else is first on PATH: python3-cffi,
# python3-numpy and python3-pytest are installed for it
PYTHON ?= /usr/bin/python3
# C++ programs: examples, the NumPy test's receiver, the ping-pong bench
$(O)/examples/cxx/%: examples/cxx/%.cpp $(wildcard examples/cxx/*.hpp) \
		$(CXX_HDRS) $(O)/libfloe.a
	@mkdir -p $(dir $@)
	@echo "  CXXLD   $@"
	$(Q)$(CXX) -std=c++17 $(CPPFLAGS) $(CFLAGS) $(CXX_WARN) $< -o $@ \
		$(PROG_LDFLAGS) $(O)/libfloe.a $(LIBS)

$(O)/bench/cxx_%: bench/cxx/%.cpp $(wildcard bench/*.h) $(CXX_HDRS) \
		$(O)/libfloe.a
	@mkdir -p $(dir $@)
	@echo "  CXXLD   $@"
	$(Q)$(CXX) -std=c++17 $(CPPFLAGS) -Ibench $(CFLAGS) $(CXX_WARN) $< \
		-o $@ $(PROG_LDFLAGS) $(O)/libfloe.a $(LIBS)

# The C++ tests (tests/cxx/t_*.cpp, TAP) by g++ and clang++, as C++17 and
# C++20, and by g++ under AddressSanitizer + UBSan; helpers (other names)
# for the Python tests by g++.
CXX_TESTS := $(patsubst tests/cxx/%.cpp,%,$(wildcard tests/cxx/t_*.cpp))
CXX_HELPERS := $(patsubst tests/cxx/%.cpp,$(O)/tests/cxx/%,\
	$(filter-out tests/cxx/t_%,$(wildcard tests/cxx/*.cpp)))
CXX_VARIANTS := g++:c++17 g++:c++20 clang++:c++17 clang++:c++20
cxx_dir = $(subst +,x,$(subst :,-,$(1)))
define CXX_VARIANT_RULE
$(O)/tests/cxx/$(call cxx_dir,$(1))/%: tests/cxx/%.cpp tests/tap.h \
		$(CXX_HDRS) $(O)/libfloe.a
	@mkdir -p $$(dir $$@)
	@echo "  CXXLD   $$@"
	$(Q)$(word 1,$(subst :, ,$(1))) -std=$(word 2,$(subst :, ,$(1))) \
		$$(CPPFLAGS) -Itests $$(CFLAGS) $$(CXX_WARN) $$< -o $$@ \
		$$(PROG_LDFLAGS) $(O)/libfloe.a $$(LIBS)
endef
$(foreach v,$(CXX_VARIANTS),$(eval $(call CXX_VARIANT_RULE,$(v))))
CXX_TEST_BINS := $(foreach v,$(CXX_VARIANTS),\
	$(addprefix $(O)/tests/cxx/$(call cxx_dir,$(v))/,$(CXX_TESTS))) \
	$(addprefix $(O)/tests/cxx/asan/,$(CXX_TESTS))

$(O)/tests/cxx/asan/%: tests/cxx/%.cpp tests/tap.h $(CXX_HDRS) \
		$(O)/asan/libfloe.a
	@mkdir -p $(dir $@)
	@echo "  CXXLD   $@"
	$(Q)$(CXX) -std=c++17 $(CPPFLAGS) -Itests $(SAN_FLAGS_asan) \
		$(CXX_WARN) $< -o $@ $(O)/asan/libfloe.a $(LIBS)

$(O)/asan/libfloe.a: $(LIB_SRCS) $(LIB_HDRS)
	$(MAKE) O=$(O)/asan CFLAGS="$(SAN_FLAGS_asan)" $@

$(O)/tests/cxx/%: tests/cxx/%.cpp $(CXX_HDRS) $(O)/libfloe.a
	@mkdir -p $(dir $@)
	@echo "  CXXLD   $@"
	$(Q)$(CXX) -std=c++17 $(CPPFLAGS) $(CFLAGS) $(CXX_WARN) $< -o $@ \
		$(PROG_LDFLAGS) $(O)/libfloe.a $(LIBS)

# The C++ tests (tests/run-host.sh: TAP, leftover shared memory), then the
# Python package's (pytest, each test in its own domain and checked for
# leftovers; the cross-language ones run the C and C++ programs).
check-bindings: lib examples $(CXX_TEST_BINS) $(CXX_HELPERS)
	tests/run-host.sh $(CXX_TEST_BINS)
	cd bindings/python && FLOE_BACKEND=shm PYTHONDONTWRITEBYTECODE=1 \
		FLOE_LIBRARY=$(abspath $(O))/libfloe.so.0 \
		FLOE_BUILD=$(abspath $(O)) PYTHONPATH=. \
		timeout --kill-after=10 600 \
		$(PYTHON) -m pytest -q -p no:cacheprovider tests

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
	$(MAKE) check-deb
	@# the module the floe-dkms package ships, built by DKMS in each VM
	$(MAKE) check-vm VM_MODULE=deb
	$(MAKE) check-kunit
	@echo "check: all tiers passed"

check-host: lib tests benches tools
	@# the shared library exports exactly the header's functions
	scripts/check-abi.sh $(O)/libfloe.so
	@# and the Debian symbols file lists them (scripts/deb-symbols.sh --write)
	scripts/deb-symbols.sh --check
	tests/run-host.sh $(HOST_TESTS)
	@# the benchmark still works (speed is not judged here: machines are noisy)
	$(O)/bench/pubsub_pingpong --quick --sizes 8,1M >/dev/null
	$(O)/bench/event_wakeup --quick >/dev/null
	$(O)/bench/waitset_wakeup --quick >/dev/null
	$(O)/bench/request_response --quick >/dev/null
	$(O)/bench/blackboard --quick >/dev/null
	for c in pingpong default stream rr; do \
		$(O)/bench/path_length $$c 100 || exit 1; done
	$(O)/bench/cxx_pingpong --quick >/dev/null
	FLOE_LIBRARY=$(abspath $(O))/libfloe.so.0 PYTHONPATH=bindings/python \
		PYTHONDONTWRITEBYTECODE=1 $(PYTHON) bench/python/pingpong.py \
		--quick >/dev/null
	$(MAKE) check-cli
	@# the manual pages render cleanly and document every public function
	scripts/check-man.sh
	$(MAKE) check-bindings
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
	$(O)/tests/host/t_model $(O)/tests/host/t_wait_storm
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
FUZZ_SRCS_mcap := $(MCAP_SRCS)
FUZZ_LIBS_mcap := $(MCAP_LIBS)
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
# module DKMS builds (VM_MODULE=kbuild: built from kmod/ directly;
# VM_MODULE=deb: DKMS builds the floe-dkms package's source, after make deb).
KVERS ?= 6.1 6.12
VM_MODULE ?= dkms
check-vm: tests tools examples
	KVERS="$(KVERS)" VM_MODULE="$(VM_MODULE)" \
		VM_EXTRA_TESTS="$(HOST_TESTS) $(CLI_TESTS)" \
		VM_EXTRA_FILES="$(TOOL) tests/cli/lib.sh $(CLI_EXAMPLES)" \
		scripts/vm-test.sh

check-kunit: tests
	KUNIT_EXTRA_TESTS="$(HOST_TESTS)" scripts/kunit-test.sh

# The Debian packages (debian/): dpkg-buildpackage -us -uc -b on a copy of
# the source in $(O)/deb/src; the .debs in $(O)/deb.
deb:
	scripts/deps.sh deb
	scripts/deb-build.sh $(O)/deb

# lintian on them, then installed and used in a clean Debian 12 chroot
# (debootstrap, cached outside the repository): pkg-config, an example
# pair, the floe tool, DKMS building the module (scripts/check-deb.sh).
check-deb: deb
	DEBS=$(abspath $(O)/deb) scripts/check-deb.sh

demo:
	scripts/deps.sh host
	$(MAKE) lib examples
	scripts/demo.sh

clean:
	rm -rf $(O)
	$(MAKE) -C kmod clean >/dev/null 2>&1 || true

# make install [PREFIX=/usr/local] [LIBDIR=PREFIX/lib] [DESTDIR=]: library,
# headers, pkg-config file, the floe tool, its manual and bash completion
# under PREFIX; the udev rule and the module's DKMS source where udev and
# DKMS look for them. (debian/rules: PREFIX=/usr, LIBDIR multiarch.)
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
UDEVRULESDIR ?= /lib/udev/rules.d
DKMSDIR ?= /usr/src/floe-$(VERSION)
# (kmod/*.mod.c are generated by a module build there)
KMOD_SRCS := $(filter-out %.mod.c,$(wildcard kmod/*.c kmod/*.h)) kmod/Kbuild \
	kmod/Makefile kmod/dkms.conf
DEST_PREFIX := $(DESTDIR)$(PREFIX)
# The API's manual: a page per family (docs/man3), floe.conf(5), floe(7)
MAN3 := $(wildcard docs/man3/*.3)
MAN5 := $(wildcard docs/man5/*.5)
MANDIR := $(DEST_PREFIX)/share/man
install: lib tools install-dkms install-bindings
	install -d $(addprefix $(DEST_PREFIX)/,include/linux bin \
		share/man/man1 share/man/man3 share/man/man5 share/man/man7 \
		share/bash-completion/completions) \
		$(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(UDEVRULESDIR)
	install -m 644 $(O)/libfloe.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(O)/libfloe.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libfloe.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libfloe.so.$(SOVERSION)
	ln -sf libfloe.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libfloe.so
	$(PC_SED) floe.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/floe.pc
	install -m 644 include/floe.h include/floe.hpp $(DEST_PREFIX)/include/
	install -m 644 include/uapi/linux/floe.h $(DEST_PREFIX)/include/linux/
	install -m 755 $(TOOL) $(GATEWAY) $(DEST_PREFIX)/bin/
	install -m 644 docs/floe.1 docs/floe-gateway.1 $(MANDIR)/man1/
	install -m 644 $(MAN3) $(MANDIR)/man3/
	install -m 644 $(MAN5) $(MANDIR)/man5/
	install -m 644 docs/floe.7 $(MANDIR)/man7/
	@# a link page per function its family's page documents, so that
	@# `man floe_publisher_loan` finds floe_publisher(3)
	scripts/man-names.sh $(MAN3) | while read -r page fn; do \
		p=$$(basename $$page); [ "$$fn.3" = "$$p" ] || \
		echo ".so man3/$$p" >$(MANDIR)/man3/$$fn.3 || exit 1; \
	done
	install -m 644 tools/floe.bash-completion \
		$(DEST_PREFIX)/share/bash-completion/completions/floe
	install -m 644 udev/60-floe.rules $(DESTDIR)$(UDEVRULESDIR)/

# The C++ headers, and the Python package where the prefix's python3 looks
# (Debian: /usr/lib/python3/dist-packages for /usr, else
# <prefix>/lib/pythonX.Y/dist-packages), with the floe.h it reads.
PYTHON_VERSION = $(shell $(PYTHON) -c \
	'import sys; print("%d.%d" % sys.version_info[:2])')
PYTHONDIR ?= $(if $(filter /usr,$(PREFIX)),$(PREFIX)/lib/python3,$\
	$(PREFIX)/lib/python$(PYTHON_VERSION))/dist-packages
install-bindings:
	install -d $(DEST_PREFIX)/include/floe $(DESTDIR)$(PYTHONDIR)/floe
	install -m 644 $(wildcard include/floe/*.hpp) $(DEST_PREFIX)/include/floe/
	install -m 644 bindings/python/floe/*.py include/floe.h \
		$(DESTDIR)$(PYTHONDIR)/floe/

# The module's DKMS source alone (the VM tier builds it with DKMS).
install-dkms:
	install -d $(DESTDIR)$(DKMSDIR)/uapi/linux
	@# DKMS builds from this tree; kmod/Kbuild finds the uapi header in
	@# uapi/ (FLOE_UAPI in kmod/dkms.conf)
	install -m 644 $(KMOD_SRCS) $(DESTDIR)$(DKMSDIR)/
	install -m 644 include/uapi/linux/floe.h $(DESTDIR)$(DKMSDIR)/uapi/linux/
