# make tsan: upsim built with ThreadSanitizer, driven by the threads suite
# and a soak on two threads (swaps, resets and every fault under load).
# halt_on_error makes upsim exit 66 at the first race report, so the test
# that stops it fails. Not part of make check: a TSan build of upsim
# needs a kernel whose address-space layout TSan accepts.
TSAN_BIN := build/tsan/upsim
TSAN_ENV := TSAN_OPTIONS="halt_on_error=1 exitcode=66" UPSIM_BIN=$(TSAN_BIN)

.PHONY: tsan
tsan: $(RUNNER) $(SOAK)
	$(MAKE) FLAVOR=tsan $(TSAN_BIN)
	$(TSAN_ENV) CK_RUN_SUITE=threads $(RUNNER)
	$(TSAN_ENV) $(SOAK) 10 2
