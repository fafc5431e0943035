# weft: one Makefile. `make` builds build/weft; `make test` builds and runs
# every test; both install what they need through scripts/deps.sh first.

CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
BUILD    := build
GEN      := $(BUILD)/gen
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

PKGS     := libbpf libelf zlib sqlite3 libmicrohttpd json-c libxml-2.0 libcurl
WARN     := -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) -D_GNU_SOURCE -Isrc -I$(GEN) \
	    $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# Every C file under src/ belongs to the binary, except the kernel programs and
# parts that build into their own artifacts (the JVM agent).
SRCS      := $(shell find src -name '*.c' ! -name '*.bpf.c' ! -path 'src/jvm/*' | sort)
OBJS      := $(SRCS:%.c=$(BUILD)/obj/%.o)
LIB_OBJS  := $(filter-out $(BUILD)/obj/src/main.o,$(OBJS))
SAN_OBJS  := $(LIB_OBJS:$(BUILD)/obj/%=$(BUILD)/san/%)
BPF_SRCS  := $(wildcard src/bpf/*.bpf.c)
SKELS     := $(BPF_SRCS:src/bpf/%.bpf.c=$(GEN)/%.skel.h)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

PREFIX   ?= /usr/local
# What needs root (packages, the sensor, tests that load kernel programs)
# goes through sudo for a user who is not root.
SUDO     := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: all deps test bench eval clean format format-check install
all: deps $(BUILD)/weft

deps:
	@scripts/deps.sh build

$(BUILD)/weft: $(OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/san/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) -MMD -MP -c -o $@ $<

# CO-RE: vmlinux.h comes from the running kernel's BTF, the skeleton embeds
# the compiled object so the binary carries its own kernel programs.
# After deps, even under -j: every object waits for the skeletons.
$(GEN)/vmlinux.h: | deps
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(GEN)/%.bpf.o: src/bpf/%.bpf.c $(GEN)/vmlinux.h $(wildcard src/bpf/*.h)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
		-I$(GEN) -Isrc -c $< -o $@.tmp
	$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(GEN)/%.skel.h: $(GEN)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# Unit tests: cmocka, linked against every module but main, under ASan+UBSan.
$(BUILD)/tests/%: tests/unit/%.c $(SAN_OBJS) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS) -lcmocka

test: all
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory $(UNIT_BINS) extras
	@$(SUDO) env CI="$${CI:-}" tests/run.sh

# Artifacts that are not the binary but that tests need: each part that has
# some adds them in its own src/<part>/part.mk as `extras:: TARGET`.
extras::
-include $(wildcard src/*/part.mk)
-include web/part.mk
-include testbed/part.mk

# Benchmark programs: bench/NAME.c linked against every module but main.
$(BUILD)/bench/%: bench/%.c $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

bench: all $(BUILD)/bench/correlate_bench $(BUILD)/bench/event_format_bench
	@scripts/deps.sh test
	@bench/run.sh

clean:
	rm -rf $(BUILD)

# One formatter for every C file of the tree (.clang-format), checked by CI.
FORMAT_SRCS = $(shell find src tests bench -name '*.[ch]' | sort)
format:
	clang-format -i $(FORMAT_SRCS)

format-check:
	@clang-format --dry-run -Werror $(FORMAT_SRCS)

# Sanitizer objects and the skeletons are kept between builds, not treated
# as intermediate files that make deletes after linking a test.
.SECONDARY: $(SAN_OBJS) $(SKELS)

-include $(OBJS:.o=.d) $(SAN_OBJS:.o=.d)

# The main job on the embedded defaults: a server and this host's sensor.
run:
	@scripts/deps.sh run
	@$(MAKE) --no-print-directory all
	$(SUDO) $(BUILD)/weft up
.PHONY: run

# The binary, the dashboard, the JVM agent (when built) and systemd units
# for the server and the sensor, under $(DESTDIR)$(PREFIX).
install: all
	install -D -m 0755 $(BUILD)/weft $(DESTDIR)$(PREFIX)/bin/weft
	mkdir -p $(DESTDIR)$(PREFIX)/share/weft/web
	cp -R $(BUILD)/web/. $(DESTDIR)$(PREFIX)/share/weft/web/
	if [ -f $(BUILD)/libweftjvm.so ]; then \
		install -D -m 0755 $(BUILD)/libweftjvm.so $(DESTDIR)$(PREFIX)/lib/weft/libweftjvm.so; fi
	mkdir -p $(DESTDIR)$(PREFIX)/lib/systemd/system
	for u in weft-server weft-sensor; do \
		sed 's|@PREFIX@|$(PREFIX)|g' dist/systemd/$$u.service.in \
			> $(DESTDIR)$(PREFIX)/lib/systemd/system/$$u.service; done
