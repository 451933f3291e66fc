# docs/harness.md's recipes, run as written (issue 13 item 7).
#
#   make check-harness   tests/harness/ under Debian's pytest: a real nginx
#                        ("edge-nginx", from tests/harness/nginx.conf) on
#                        loopback with free ports; the pytest fixture (one
#                        test per probe), the shell recipe, and the JUnit
#                        file parsed and held to --json
#
# Debian's python3 on purpose: python3-pytest is installed for it, whatever
# python3 comes first on PATH. The shell recipe calls "upsim": the one just
# built comes first on PATH. timeout bounds the whole run.
HARNESS_TIMEOUT ?= 300

.PHONY: check-harness
CHECK_EXTRA += check-harness

check-harness: $(UPSIM_BIN) | $(DEPS_OK)
	PYTHONDONTWRITEBYTECODE=1 UPSIM=$(CURDIR)/$(UPSIM_BIN) PATH="$(CURDIR)/$(dir $(UPSIM_BIN)):$$PATH" \
	  timeout $(HARNESS_TIMEOUT) /usr/bin/python3 -m pytest -q -p no:cacheprovider \
	  tests/harness
