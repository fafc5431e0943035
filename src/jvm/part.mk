# The JVM agent: build/libweftjvm.so (a JVMTI agent), the Java programs its
# tests and benchmark run, and its unit tests. Included by the Makefile.

JAVAC     ?= javac
JVM_HOME  ?= $(shell j=$$(readlink -f "$$(command -v $(JAVAC))" 2>/dev/null); echo $${j%/bin/javac})
JVM_DIR   := $(BUILD)/jvm
JVM_CFLAGS := -std=gnu11 -O2 -g $(WARN) -D_GNU_SOURCE -Isrc -I$(JVM_DIR) \
	      -I$(JVM_HOME)/include -I$(JVM_HOME)/include/linux
# Sources that need no JVM: shared by the agent and the unit tests.
JVM_CORE  := classfile classfile_code filter agent_opts registry sbuf dump gcring
JVM_ALL   := $(JVM_CORE) agent agent_server
JVM_OBJS  := $(JVM_ALL:%=$(JVM_DIR)/obj/%.o) $(JVM_DIR)/obj/probe_class.o
JVM_UNIT_SRCS := $(wildcard tests/jvm/unit/test_jvm_*.c)
JVM_UNIT_BINS := $(JVM_UNIT_SRCS:tests/jvm/unit/%.c=$(BUILD)/tests/%)
JVM_APP   := $(JVM_DIR)/app/.built
JVM_BENCH := $(JVM_DIR)/bench/.built

extras:: $(BUILD)/libweftjvm.so $(JVM_APP) $(JVM_BENCH) $(JVM_UNIT_BINS)
# `make` builds the agent too wherever a JDK is installed.
ifneq ($(shell command -v $(JAVAC) 2>/dev/null),)
all: $(BUILD)/libweftjvm.so
endif
.PHONY: jvm
jvm: $(BUILD)/libweftjvm.so $(JVM_APP) $(JVM_BENCH) $(JVM_UNIT_BINS)

# The probe class travels inside the .so as bytes: the agent does no file I/O.
$(JVM_DIR)/probe/weft/Probe.class: src/jvm/Probe.java
	@mkdir -p $(JVM_DIR)/probe
	$(JAVAC) -nowarn -d $(JVM_DIR)/probe $<

$(JVM_DIR)/probe_class.c: $(JVM_DIR)/probe/weft/Probe.class
	{ echo '/* Generated from src/jvm/Probe.java; do not edit. */'; \
	  echo 'const unsigned char weft_probe_class[] = {'; \
	  od -An -v -tx1 $< | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; \
	  echo "const unsigned int weft_probe_class_len = $$(wc -c < $<);"; } > $@.tmp && mv $@.tmp $@

$(JVM_DIR)/obj/probe_class.o: $(JVM_DIR)/probe_class.c
	@mkdir -p $(@D)
	$(CC) $(JVM_CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

$(JVM_DIR)/obj/%.o: src/jvm/%.c
	@mkdir -p $(@D)
	$(CC) $(JVM_CFLAGS) -fPIC -fvisibility=hidden -MMD -MP -c -o $@ $<

# Only Agent_* are exported (JNIEXPORT); everything else is hidden.
$(BUILD)/libweftjvm.so: $(JVM_OBJS)
	$(CC) -shared -fPIC -Wl,-z,defs -Wl,--as-needed -o $@ $^ -lpthread

$(JVM_APP): $(wildcard tests/jvm/app/*.java)
	@mkdir -p $(@D)
	$(JAVAC) -nowarn -d $(@D) $^ && touch $@

$(JVM_BENCH): $(wildcard bench/jvm/*.java)
	@mkdir -p $(@D)
	$(JAVAC) -nowarn -d $(@D) $^ && touch $@

# Unit tests of the parts that need no JVM, under ASan+UBSan like the rest.
# They read the test application's class files, hence the order-only $(JVM_APP).
$(BUILD)/tests/test_jvm_%: tests/jvm/unit/test_jvm_%.c $(JVM_CORE:%=src/jvm/%.c) $(wildcard src/jvm/*.h) | $(JVM_APP)
	@mkdir -p $(@D)
	$(CC) $(JVM_CFLAGS) $(SANFLAGS) -DWEFT_TEST_BUILD_DIR='"$(BUILD)"' -o $@ $< \
		$(JVM_CORE:%=src/jvm/%.c) -lpthread -lcmocka

-include $(JVM_OBJS:.o=.d)
