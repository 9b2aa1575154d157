# floe — top-level build.
#   make            library (static + shared + pkg-config), tools, examples,
#                   tests, and the module when kernel headers are installed
#   make check      every test tier: host (shm backend), VM (Debian kernel,
#                   kmod backend), KUnit (debug kernel); non-zero on failure
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
LIBS := -luring -lpthread
# Test and example programs are linked statically so the very same binaries
# run on the host and inside the qemu initramfs.
PROG_LDFLAGS := -static

LIB_SRCS := $(wildcard lib/*.c lib/base/*.c lib/backend/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(O)/%.o)
LIB_HDRS := $(wildcard include/*.h include/uapi/linux/*.h lib/*.h lib/base/*.h lib/backend/*.h)

HOST_TESTS := $(patsubst tests/host/%.c,$(O)/tests/host/%,$(wildcard tests/host/t_*.c))
EXAMPLES := $(patsubst examples/%.c,$(O)/examples/%,$(wildcard examples/*.c))
BENCHES := $(patsubst bench/%.c,$(O)/bench/%,$(wildcard bench/*.c))

KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	$(wildcard /lib/modules/*-amd64/build))

.PHONY: all lib module tests examples benches check check-host check-vm \
	check-asan check-tsan \
	check-kunit demo clean
all: lib tests examples benches module

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

$(O)/floe.pc: floe.pc.in
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

tests: $(HOST_TESTS)
examples: $(EXAMPLES)
benches: $(BENCHES)

$(O)/tests/host/%: tests/host/%.c tests/tap.h tests/host/helpers.h $(O)/libfloe.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(CPPFLAGS) -Itests $(PROG_CFLAGS) $< -o $@ $(PROG_LDFLAGS) $(O)/libfloe.a $(LIBS)

$(O)/examples/%: examples/%.c $(wildcard examples/*.h) $(O)/libfloe.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(CPPFLAGS) $(PROG_CFLAGS) $< -o $@ $(PROG_LDFLAGS) $(O)/libfloe.a $(LIBS)

$(O)/bench/%: bench/%.c $(O)/libfloe.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(CPPFLAGS) $(PROG_CFLAGS) $< -o $@ $(PROG_LDFLAGS) $(O)/libfloe.a $(LIBS)

module:
ifneq ($(KDIR),)
	$(MAKE) -C kmod KDIR=$(KDIR)
else
	@echo "module: no kernel headers found (scripts/deps.sh vm), skipped"
endif

check:
	scripts/deps.sh all
	$(MAKE) check-host
	$(MAKE) check-asan
	$(MAKE) check-tsan
	$(MAKE) check-vm
	$(MAKE) check-kunit
	@echo "check: all tiers passed"

check-host: tests benches
	tests/run-host.sh $(HOST_TESTS)
	@# the benchmark still works (speed is not judged here: machines are noisy)
	$(O)/bench/pubsub_pingpong --quick --sizes 8,1M >/dev/null

# The host tests again under AddressSanitizer + UndefinedBehaviorSanitizer,
# and under ThreadSanitizer (sanitizer runtimes need dynamic linking).
SAN_FLAGS_asan := -O1 -g -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all
SAN_FLAGS_tsan := -O1 -g -fsanitize=thread
check-asan check-tsan: check-%:
	$(MAKE) O=$(O)/$* CFLAGS="$(SAN_FLAGS_$*)" PROG_LDFLAGS= tests
	FLOE_STORM_N=300 tests/run-host.sh $(HOST_TESTS:$(O)/%=$(O)/$*/%)

check-vm: tests
	VM_EXTRA_TESTS="$(HOST_TESTS)" scripts/vm-test.sh

check-kunit: tests
	KUNIT_EXTRA_TESTS="$(HOST_TESTS)" scripts/kunit-test.sh

demo:
	scripts/deps.sh host
	$(MAKE) examples
	scripts/demo.sh

clean:
	rm -rf $(O)
	$(MAKE) -C kmod clean >/dev/null 2>&1 || true

PREFIX ?= /usr/local
