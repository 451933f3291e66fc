# Installing, and what makes upsim at home on a system (issue 17).
#
#   make install [PREFIX=/usr/local] [DESTDIR=]   binary, man pages,
#                      scenario library, JSON Schemas, bash completion, docs
#   make uninstall [PREFIX=...] [DESTDIR=...]     removes exactly those files
#   make deb           a Debian package in build/deb/ (tools/debian/)
#
# Checks, all part of `make check`:
#   check-install      install into a temporary DESTDIR, run the installed
#                      binary on installed scenarios, uninstall, nothing left
#   check-man          mandoc -T lint on the man pages: any output fails
#   check-schema       the JSON Schemas against scenarios/ and tests/data/
#   check-completion   the bash completion, called as bash would call it
#   check-deb          build the .deb, extract it, run it, lintian it

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
DATADIR  = $(PREFIX)/share
MANDIR   = $(DATADIR)/man
DOCDIR   = $(DATADIR)/doc/upsim
SHAREDIR = $(DATADIR)/upsim
COMPDIR  = $(DATADIR)/bash-completion/completions
INSTALL ?= install

MAN1      := docs/man/upsim.1
MAN5      := docs/man/upsim-scenario.5
SCHEMAS   := $(wildcard docs/schema/*.schema.json)
SCEN      := $(wildcard scenarios/*.json)
FLEETS    := $(wildcard scenarios/fleets/*.json)
DOCS      := README.md $(wildcard docs/*.md)
COMPLETION := tools/completion/upsim.bash

.PHONY: install uninstall check-install check-man check-schema \
        check-completion deb check-deb
CHECK_EXTRA += check-install check-man check-schema check-completion
# The package always holds a release build, whatever FLAVOR says: check it
# once, with the release suite, not again under the sanitizers.
ifeq ($(FLAVOR),release)
CHECK_EXTRA += check-deb
endif

install: $(UPSIM_BIN)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SHAREDIR)/scenarios/fleets \
	  $(DESTDIR)$(SHAREDIR)/schema $(DESTDIR)$(COMPDIR) $(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 755 $(UPSIM_BIN) $(DESTDIR)$(BINDIR)/upsim
	$(INSTALL) -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 644 $(SCEN) $(DESTDIR)$(SHAREDIR)/scenarios/
	$(INSTALL) -m 644 $(FLEETS) $(DESTDIR)$(SHAREDIR)/scenarios/fleets/
	$(INSTALL) -m 644 $(SCHEMAS) $(DESTDIR)$(SHAREDIR)/schema/
	$(INSTALL) -m 644 $(COMPLETION) $(DESTDIR)$(COMPDIR)/upsim
	$(INSTALL) -m 644 $(DOCS) $(DESTDIR)$(DOCDIR)/

# Only our own files, then only our own (now empty) folders: the shared
# ones (bin, man1, completions...) stay.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/upsim $(DESTDIR)$(MANDIR)/man1/$(notdir $(MAN1)) \
	  $(DESTDIR)$(MANDIR)/man5/$(notdir $(MAN5)) $(DESTDIR)$(COMPDIR)/upsim
	rm -f $(addprefix $(DESTDIR)$(SHAREDIR)/scenarios/,$(notdir $(SCEN))) \
	  $(addprefix $(DESTDIR)$(SHAREDIR)/scenarios/fleets/,$(notdir $(FLEETS))) \
	  $(addprefix $(DESTDIR)$(SHAREDIR)/schema/,$(notdir $(SCHEMAS))) \
	  $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS)))
	-rmdir $(DESTDIR)$(SHAREDIR)/scenarios/fleets $(DESTDIR)$(SHAREDIR)/scenarios \
	  $(DESTDIR)$(SHAREDIR)/schema $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(DOCDIR) 2>/dev/null

check-install: $(UPSIM_BIN)
	tests/install/check_install.sh "$(MAKE)"

check-man: $(UPSIM_BIN) | $(DEPS_OK)
	UPSIM_BIN=./$(UPSIM_BIN) tests/man/check_man.sh $(MAN1) $(MAN5)

# Debian's python3 on purpose: python3-jsonschema is installed for it,
# whatever python3 comes first on PATH.
check-schema: $(UPSIM_BIN) | $(DEPS_OK)
	UPSIM_BIN=./$(UPSIM_BIN) /usr/bin/python3 tests/schema/check_schema.py

check-completion: $(UPSIM_BIN) | $(DEPS_OK)
	UPSIM_BIN=./$(UPSIM_BIN) bash tests/completion/check_completion.sh $(COMPLETION)

# The package is built from a copy of the tree in build/deb/src, with
# tools/debian/ as its debian/; the .deb lands in build/deb/.
DEB_VERSION = $(shell ./$(UPSIM_BIN) --version | sed -n 's/^upsim //p')
DEB_SRC := build/deb/src
deb: $(UPSIM_BIN)
	rm -rf build/deb && mkdir -p $(DEB_SRC)
	tar -cf - --exclude=./build --exclude=./upsim --exclude=./.git . | tar -xf - -C $(DEB_SRC)
	cp -r tools/debian $(DEB_SRC)/debian
	test "$$(dpkg-parsechangelog -l $(DEB_SRC)/debian/changelog -S Version)" = "$(DEB_VERSION)" || \
	  { echo "deb: tools/debian/changelog is not at upsim --version ($(DEB_VERSION))" >&2; exit 1; }
	# The package's own make must not inherit ours (FLAVOR=asan from
	# `make asan` would reach debian/rules through MAKEFLAGS).
	cd $(DEB_SRC) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u FLAVOR \
	  DEB_BUILD_OPTIONS="nocheck $(DEB_BUILD_OPTIONS)" dpkg-buildpackage -us -uc -b
	@ls build/deb/*.deb

check-deb: deb
	tests/deb/check_deb.sh build/deb/upsim_$(DEB_VERSION)_*.deb
