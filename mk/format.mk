# The layout of the C code is .clang-format's (the Linux kernel's, 100
# columns). `make format` applies it; `make format-check`, part of `make
# check`, fails and shows the difference when a file strays from it.
FORMAT_SRC = $(shell git ls-files 'sim/*.[ch]' 'tests/*.[ch]' 'tools/*.[ch]' 2>/dev/null)
CLANG_FORMAT ?= clang-format

.PHONY: format format-check
CHECK_EXTRA += format-check

format: | $(DEPS_OK)
	$(CLANG_FORMAT) -i $(FORMAT_SRC)

format-check: | $(DEPS_OK)
	@$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_SRC) || \
	  { echo "format-check: run 'make format' (clang-format $$($(CLANG_FORMAT) --version | grep -o '[0-9][0-9.]*' | head -1))" >&2; exit 1; }
