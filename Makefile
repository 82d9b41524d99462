# varde - build, test, bench and demo.
#
#   make            build ./varde
#   make test       install what is missing, then unit tests, the simulation,
#                   the sanitizer build (ASan + UBSan) and the cluster tests
#   make bench      measurements (failover, ...)
#   make demo       a whole system on this machine
#   make sim SEEDS=N   run the simulation over N more seeds
#   make fuzz       run the libFuzzer targets for a while (clang)

CC      ?= gcc
BUILD   ?= build
OPT     ?= -O2
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 \
           -Wno-unused-parameter
ifeq ($(CI),true)
WARN    += -Werror
endif
SANFLAGS ?=
# CFLAGS from the command line adds to these, it does not replace them.
ALL_CFLAGS = $(OPT) -g $(SANFLAGS) -std=c11 -D_GNU_SOURCE $(WARN) -Isrc \
             -MMD -MP $(CFLAGS)
LDLIBS   = -levent -ljansson
SAN      = -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined

SRC      := $(shell find src -name '*.c' | sort)
MAIN_SRC := src/cli/main.c
LIB_SRC  := $(filter-out $(MAIN_SRC),$(SRC))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
SIM_SRC  := $(sort $(wildcard tests/sim/*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

obj = $(patsubst %.c,$(1)/obj/%.o,$(2))

LIB_OBJ  := $(call obj,$(BUILD),$(LIB_SRC))
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
SIM_BIN  := $(BUILD)/tests/sim

BUILD_ASAN_VARDE = build/asan/varde
SEEDS   ?= 200
SEED0   ?= 1000

.PHONY: all deps test unit sim-test sim asan cluster cluster-asan \
        format-check bench \
        demo fuzz clean

all: varde

varde: $(BUILD)/varde
	cp $< $@.tmp && mv -f $@.tmp $@

$(BUILD)/varde: $(call obj,$(BUILD),$(MAIN_SRC)) $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(SIM_BIN): $(call obj,$(BUILD),$(SIM_SRC)) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

deps:
	@scripts/install-deps.sh

unit: $(UNIT_BIN)
	@scripts/run-unit.sh $(UNIT_BIN)

sim-test: $(SIM_BIN)
	$(SIM_BIN) --first-seed 1 --seeds 300

sim: $(SIM_BIN)
	$(SIM_BIN) --first-seed $(SEED0) --seeds $(SEEDS)

# The same unit tests and simulation, built with ASan and UBSan.
asan:
	$(MAKE) --no-print-directory BUILD=build/asan OPT=-O1 \
	    SANFLAGS="$(SAN)" unit sim-test $(BUILD_ASAN_VARDE)

cluster: varde
	/usr/bin/python3 tests/cluster/run.py

format-check:
	@scripts/format-check.sh

test: deps
	$(MAKE) --no-print-directory all
	$(MAKE) --no-print-directory format-check
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory sim-test
	$(MAKE) --no-print-directory asan
	$(MAKE) --no-print-directory cluster
	$(MAKE) --no-print-directory cluster-asan


bench: deps all $(BUILD)/bench/load $(BUILD)/bench/sched_bench
	@scripts/install-deps.sh bench
	/usr/bin/python3 bench/run.py
	$(BUILD)/bench/sched_bench
	/usr/bin/python3 bench/fleet.py
	/usr/bin/python3 bench/edge.py

# The scheduler's placements per second, apart from the network.
$(BUILD)/bench/sched_bench: bench/sched_bench.c $(filter $(BUILD)/obj/src/sched/%,$(LIB_OBJ)) \
        $(BUILD)/obj/src/util/err.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^

$(BUILD)/bench/load: bench/load.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< -levent

# Durability, the key-value API and bad input against the sanitized daemon.
cluster-asan:
	$(MAKE) --no-print-directory BUILD=build/asan OPT=-O1 \
	    SANFLAGS="$(SAN)" $(BUILD_ASAN_VARDE)
	VARDE_BIN=$(BUILD_ASAN_VARDE) /usr/bin/python3 tests/cluster/run.py \
	    -k test_durability.py -k test_kv.py -k test_bad_input.py \
	    -k test_fleet.py -k test_agent.py -k test_site.py

demo: deps all
	./varde demo

fuzz:
	@scripts/fuzz.sh $(FUZZ_SRC)

clean:
	rm -rf build varde

-include $(shell find build -name '*.d' 2>/dev/null)
