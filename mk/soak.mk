# make soak: tools/soak.c for SOAK_SECONDS (default 180) — many clients,
# every fault, scenario swaps; then fds, memory and the journal are
# checked (every request exactly once). make check runs a 15 s one.
SOAK_SECONDS ?= 180
SOAK := $(BUILD)/soak
$(SOAK): $(BUILD)/tools/soak.o $(SIM_OBJ) \
         $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/support/*.c))
	$(CC) $(LDFLAGS_$(FLAVOR)) $(LDFLAGS) -o $@ $^ $(LIBS) -lpthread

.PHONY: soak soak-short
soak: $(UPSIM_BIN) $(SOAK)
	UPSIM_BIN=./$(UPSIM_BIN) $(SOAK) $(SOAK_SECONDS)

soak-short: $(UPSIM_BIN) $(SOAK)
	UPSIM_BIN=./$(UPSIM_BIN) $(SOAK) 15

CHECK_EXTRA += soak-short
