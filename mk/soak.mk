# make soak: tools/soak.c for SOAK_SECONDS (default 180) with
# SOAK_THREADS event loops (--threads, default 1) — many clients, every
# fault, scenario swaps; then fds, memory and the journal are checked
# (every request exactly once). make check runs a 15 s one on one thread
# and a 10 s one on two.
SOAK_SECONDS ?= 180
SOAK_THREADS ?= 1
SOAK := $(BUILD)/soak
$(SOAK): $(BUILD)/tools/soak.o $(SIM_OBJ) \
         $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/support/*.c))
	$(CC) $(LDFLAGS_$(FLAVOR)) $(LDFLAGS) -o $@ $^ $(LIBS) -lpthread

.PHONY: soak soak-short
soak: $(UPSIM_BIN) $(SOAK)
	UPSIM_BIN=./$(UPSIM_BIN) $(SOAK) $(SOAK_SECONDS) $(SOAK_THREADS)

soak-short: $(UPSIM_BIN) $(SOAK)
	UPSIM_BIN=./$(UPSIM_BIN) $(SOAK) 15 1
	UPSIM_BIN=./$(UPSIM_BIN) $(SOAK) 10 2

CHECK_EXTRA += soak-short
