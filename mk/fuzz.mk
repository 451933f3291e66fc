# Fuzzing: one libFuzzer target per input surface, in tests/fuzz/.
#
#   make fuzz-replay   each target's corpus and regressions through a plain
#                      main (tests/fuzz/replay.c), in the current FLAVOR;
#                      part of `make check` (and of `make asan`)
#   make fuzz          each target under libFuzzer (clang, ASan+UBSan, all
#                      objects in build/fuzz) for FUZZ_SECONDS; new inputs
#                      go to build/fuzz/corpus/T, findings to
#                      build/fuzz/crashes/T
#
#   make fuzz FUZZ_SECONDS=600 FUZZ_TARGET=request FUZZ_FLAGS=-jobs=2
#
# docs/fuzzing.md says how to turn a finding into a regression.

FUZZ_TARGETS := scenario units request admin dns
FUZZ_TARGET  ?= $(FUZZ_TARGETS)
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   ?=
FUZZ_CC      ?= clang
# Fuzzing is background work: leave the machine to the tests.
FUZZ_NICE    ?= nice -n 10
FUZZ_OUT     := build/fuzz

# The fuzz flavour: sanitizer coverage everywhere, libFuzzer's main only
# in the fuzzer binaries.
CFLAGS_fuzz  := -O1 -g -fno-omit-frame-pointer \
                -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
LDFLAGS_fuzz := -fsanitize=address,undefined

# Per-target libFuzzer options. Requests stay small: bigger inputs only
# repeat what a pipelined pair of requests already shows.
FUZZ_FLAGS_request := -max_len=4096

FUZZ_OBJ    := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/fuzz/*.c))
FUZZ_REPLAY := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/replay_%)

.PHONY: fuzz fuzz-replay fuzz-run
CHECK_EXTRA += fuzz-replay

$(FUZZ_OBJ): mk/fuzz.mk

$(BUILD)/fuzz/replay_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay.o $(SIM_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_$(FLAVOR)) $(LDFLAGS) -o $@ $^ $(LIBS)

# Every committed input of every target, regressions included: a finding
# fixed once stays fixed.
fuzz-replay: $(FUZZ_REPLAY)
	@for t in $(FUZZ_TARGETS); do \
	  set -- tests/fuzz/corpus/$$t; \
	  if [ -d tests/fuzz/regressions/$$t ]; then set -- "$$@" tests/fuzz/regressions/$$t; fi; \
	  $(BUILD)/fuzz/replay_$$t "$$@" || { \
	    echo "fuzz-replay: $$t failed; REPLAY_VERBOSE=1 $(BUILD)/fuzz/replay_$$t $$* names each input" >&2; \
	    exit 1; }; \
	done

fuzz:
	@command -v $(FUZZ_CC) >/dev/null || \
	  { echo "make fuzz needs $(FUZZ_CC) (Debian: apt-get install clang)" >&2; exit 2; }
	$(MAKE) FLAVOR=fuzz CC=$(FUZZ_CC) fuzz-run

ifeq ($(FLAVOR),fuzz)
$(BUILD)/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(SIM_OBJ)
	$(CC) -fsanitize=fuzzer,address,undefined $(LDFLAGS) -o $@ $^ $(LIBS)

# One target after the other. The scratch corpus comes first, so what
# libFuzzer finds new goes there and the committed corpus stays as it is.
define fuzz_run_one
mkdir -p $(FUZZ_OUT)/corpus/$(1) $(FUZZ_OUT)/crashes/$(1); \
echo "fuzz: $(1) for $(FUZZ_SECONDS)s"; \
$(FUZZ_NICE) $(BUILD)/fuzz_$(1) \
  $(if $(wildcard tests/fuzz/$(1).dict),-dict=tests/fuzz/$(1).dict) \
  -max_total_time=$(FUZZ_SECONDS) -timeout=5 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix=$(FUZZ_OUT)/crashes/$(1)/ \
  $(FUZZ_FLAGS_$(1)) $(FUZZ_FLAGS) \
  $(FUZZ_OUT)/corpus/$(1) tests/fuzz/corpus/$(1) || status=1;
endef

fuzz-run: $(FUZZ_TARGET:%=$(BUILD)/fuzz_%)
	@status=0; $(foreach t,$(FUZZ_TARGET),$(call fuzz_run_one,$(t))) exit $$status
else
fuzz-run:
	@echo "fuzz-run needs FLAVOR=fuzz: use make fuzz" >&2; exit 2
endif

-include $(FUZZ_OBJ:.o=.d)
