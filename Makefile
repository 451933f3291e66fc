# upsim — `make` builds ./upsim, `make check` runs every test, `make run`
# serves the default scenario. Objects live in build/FLAVOR so sanitized
# and plain builds never mix; every object is rebuilt when this file changes.

FLAVOR   ?= release
BUILD    := build/$(FLAVOR)
SCENARIO ?= scenarios/healthy.json
LISTEN   ?= 127.0.0.1:8080

CC       ?= cc
PKGS     := libmicrohttpd jansson gnutls libcurl
# libcurl is compiled against but loaded at run time (sim/client/curl_lib.c), so
# `upsim run` does not load its twenty libraries at start-up.
LINK_PKGS := libmicrohttpd jansson gnutls
# ldns builds and reads the scripted DNS server's packets (sim/net/dns_wire.c).
PKGS      += ldns
LINK_PKGS += ldns
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2
CFLAGS_release := -O2 -g
CFLAGS_tsan    := -O1 -g -fsanitize=thread
LDFLAGS_tsan   := -fsanitize=thread
CFLAGS_asan    := -O1 -g -fno-omit-frame-pointer \
                  -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS_asan   := -fsanitize=address,undefined
CFLAGS   ?=
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS_$(FLAVOR)) $(CFLAGS) \
             -MMD -MP $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS      = $(shell pkg-config --libs $(LINK_PKGS) 2>/dev/null) -lm -pthread
TEST_LIBS = $(shell pkg-config --libs check 2>/dev/null) -lpthread

SIM_SRC  := $(filter-out sim/main.c,$(wildcard sim/*.c sim/*/*.c))
TEST_SRC := $(wildcard tests/support/*.c tests/unit/*.c tests/integration/*.c)
SIM_OBJ  := $(SIM_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/schema_text.o
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/sim/main.o

# The release binary sits at the top for `./upsim`; other flavours stay
# inside their build folder.
ifeq ($(FLAVOR),release)
UPSIM_BIN := upsim
else
UPSIM_BIN := $(BUILD)/upsim
endif
RUNNER := $(BUILD)/check_upsim
DEPS_OK := build/.deps-ok

.DEFAULT_GOAL := all
.PHONY: all check check-unit check-layers check-symbols asan run deps clean valgrind matrix
all: $(UPSIM_BIN)

# Further targets (bench, fuzz, ...) live in mk/, one file each; a file
# may add phony targets to CHECK_EXTRA for `make check` to run too.
CHECK_EXTRA :=
-include $(wildcard mk/*.mk)

# Installs (as root) or names (otherwise) the Debian packages we need.
$(DEPS_OK): tools/deps.sh
	@tools/deps.sh
	@mkdir -p $(@D) && touch $@
deps: $(DEPS_OK)

$(BUILD)/%.o: %.c Makefile | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Isim -Itests/support -Itests/unit -c $< -o $@

# The JSON Schemas of docs/schema, carried in the binary (upsim schema).
SCHEMAS := docs/schema/upsim-scenario.schema.json docs/schema/upsim-fleet.schema.json
$(BUILD)/gen/schema_text.c: $(SCHEMAS) tools/embed.sh
	@mkdir -p $(@D)
	tools/embed.sh $@ schema_scenario_json $(word 1,$(SCHEMAS)) schema_fleet_json $(word 2,$(SCHEMAS))
$(BUILD)/gen/%.o: $(BUILD)/gen/%.c Makefile
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(UPSIM_BIN): $(SIM_OBJ) $(MAIN_OBJ)
	$(CC) $(LDFLAGS_$(FLAVOR)) $(LDFLAGS) -o $@ $^ $(LIBS)

$(RUNNER): $(SIM_OBJ) $(TEST_OBJ)
	$(CC) $(LDFLAGS_$(FLAVOR)) $(LDFLAGS) -o $@ $^ $(LIBS) $(TEST_LIBS)

check: check-layers $(UPSIM_BIN) $(RUNNER) $(CHECK_EXTRA)
	UPSIM_BIN=./$(UPSIM_BIN) $(RUNNER)

# The unit suites alone: no upsim process, a few seconds.
check-unit: check-layers $(RUNNER)
	$(RUNNER) unit

# sim/ by layer: each layer includes only those below it (sim/README.md).
check-layers:
	@tools/check-layers.sh

# What an object of sim/ exports, a header declares: the rest is static.
CHECK_EXTRA += check-symbols
check-symbols: $(SIM_OBJ)
	@tools/check-symbols.sh $(BUILD)/sim

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer. Its
# gateway conformance runs through nginx alone: every gateway drives the
# same upsim code, the release suite holds all five to their expectations,
# and CI's time goes further on other things (UPSIM_GATEWAYS chooses).
asan:
	UPSIM_GATEWAYS=$${UPSIM_GATEWAYS:-nginx} $(MAKE) FLAVOR=asan check

# The integration suites with upsim under valgrind's memcheck; timing
# tolerances widen when UPSIM_WRAP is set.
VALGRIND := valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite -q
valgrind: $(UPSIM_BIN) $(RUNNER)
	@tools/deps.sh valgrind
	for suite in http process faults admin hostile threads forward dns; do \
	  UPSIM_BIN=./$(UPSIM_BIN) UPSIM_WRAP="$(VALGRIND)" CK_RUN_SUITE=$$suite $(RUNNER) || exit 1; \
	done

# Every shipped scenario through every installed gateway: Markdown on
# stdout, JSON in docs/gateway-matrix.json.
MATRIX := $(BUILD)/gateway-matrix
SUPPORT_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/support/*.c))
$(MATRIX): $(BUILD)/tools/gateway_matrix.o $(SIM_OBJ) $(SUPPORT_OBJ)
	$(CC) $(LDFLAGS_$(FLAVOR)) $(LDFLAGS) -o $@ $^ $(LIBS)
matrix: $(UPSIM_BIN) $(MATRIX)
	UPSIM_BIN=./$(UPSIM_BIN) $(MATRIX) docs/gateway-matrix.json

run: $(UPSIM_BIN)
	./$(UPSIM_BIN) run --listen $(LISTEN) $(SCENARIO)

clean:
	rm -rf build upsim

-include $(SIM_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(BUILD)/tools/gateway_matrix.d
