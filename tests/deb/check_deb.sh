#!/usr/bin/env bash
# make check-deb: the package `make deb` built, extracted into a temporary
# root (dpkg-deb -x: nothing touches the real system), works and is
# lintian clean.
#
#   - its control fields: runtime libraries through ${shlibs:Depends},
#     Recommends on the libcurl that sim/net/curl_lib.c opens at run time;
#   - the extracted binary says the changelog's version, validates every
#     extracted scenario and serves the extracted healthy.json;
#   - man pages, schemas, completion and docs are where they belong;
#   - lintian reports no error or warning (overrides, each with its
#     reason, would go in tools/debian/upsim.lintian-overrides: none is
#     needed today).
#
#   tests/deb/check_deb.sh build/deb/upsim_VERSION_ARCH.deb
set -euo pipefail
deb=${1:?usage: check_deb.sh PACKAGE.deb}
[ -f "$deb" ] || { echo "check-deb: no package $deb" >&2; exit 1; }
root=$(mktemp -d "${TMPDIR:-/tmp}/upsim-deb.XXXXXX")
trap 'rm -rf "$root"' EXIT
fail() { echo "check-deb: $*" >&2; exit 1; }

depends=$(dpkg-deb -f "$deb" Depends)
for lib in libmicrohttpd12 libjansson4 libgnutls30; do
	grep -qw "$lib" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
soname=$(sed -n 's/.*dlopen("\(libcurl\.so\.[0-9]*\)".*/\1/p' sim/net/curl_lib.c)
[ -n "$soname" ] || fail "cannot find the libcurl soname in sim/net/curl_lib.c"
curl_pkg=libcurl${soname##*.so.}
grep -qw "$curl_pkg" <<<"$(dpkg-deb -f "$deb" Recommends)" ||
	fail "Recommends lacks $curl_pkg (upsim ctl opens $soname)"

dpkg-deb -x "$deb" "$root"
bin=$root/usr/bin/upsim
version=$(dpkg-deb -f "$deb" Version)
[ "$("$bin" --version)" = "upsim $version" ] || fail "upsim --version is not $version"
for f in usr/share/man/man1/upsim.1.gz usr/share/man/man5/upsim-scenario.5.gz \
	 usr/share/bash-completion/completions/upsim \
	 usr/share/upsim/schema/upsim-scenario.schema.json \
	 usr/share/upsim/schema/upsim-fleet.schema.json \
	 usr/share/upsim/scenarios/fleets/one-bad-of-three.json \
	 usr/share/doc/upsim/copyright usr/share/doc/upsim/scenarios.md; do
	[ -f "$root/$f" ] || fail "missing /$f"
done
n=0
for f in "$root"/usr/share/upsim/scenarios/*.json; do
	"$bin" validate "$f" >/dev/null || fail "the packaged upsim rejects ${f#"$root"}"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || fail "no scenario in the package"
out=$(timeout 10 "$bin" run --listen 127.0.0.1:0 --duration 200ms \
	"$root/usr/share/upsim/scenarios/healthy.json" 2>/dev/null) ||
	fail "the packaged upsim could not serve healthy.json"
case $out in '{"event":"ready"'*) ;; *) fail "no ready line: $out" ;; esac

# lintian warns on stderr that it runs as root; its verdict is the exit code.
if ! report=$(lintian --fail-on error,warning --no-tag-display-limit "$deb" 2>&1); then
	echo "$report" >&2
	fail "lintian reports errors or warnings (not overridden)"
fi
grep -E '^[EW]: ' <<<"$report" && fail "lintian reports errors or warnings"
echo "check-deb: ok ($(basename "$deb"): $n scenarios validated, served, lintian clean)"
