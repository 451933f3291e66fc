# `make bench`: upsim measured against nginx under wrk, plus fault
# throughput, timer precision, held connections, start-up, forward
# mode against nginx proxy_pass (with upsim's RSS while it forwards a
# 1 GiB body), and TLS against nginx with the same certificate; one
# Markdown report on stdout (progress on stderr). A benchmark, never a
# test: it is not in CHECK_EXTRA, because its figures depend on the
# machine and on whatever else runs on it. BENCH_QUICK=1 shortens every
# run for a smoke test; BENCH_PROFILE=1 adds perf profiles of upsim;
# BENCH_ONLY=tls runs the TLS section alone (see tools/bench.sh).
.PHONY: bench

BENCH_HOLD := $(BUILD)/tools/hold

$(BENCH_HOLD): $(BUILD)/tools/bench/hold.o
	$(CC) $(LDFLAGS_$(FLAVOR)) $(LDFLAGS) -o $@ $^

# The packages first (wrk is not a build dependency, so deps.sh is only
# asked for it here; openssl makes the TLS section's certificate), then
# the binaries, then the run. The sub-make's output goes to stderr so
# stdout stays the report.
bench:
	@tools/deps.sh wrk nginx-light openssl
	@$(MAKE) --no-print-directory $(UPSIM_BIN) $(BENCH_HOLD) >&2
	@UPSIM_BIN=./$(UPSIM_BIN) BENCH_HOLD=./$(BENCH_HOLD) tools/bench.sh

-include $(BUILD)/tools/bench/hold.d
