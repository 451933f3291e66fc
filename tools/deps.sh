#!/usr/bin/env bash
# Make sure the Debian packages upsim builds and tests with are installed.
#
# As root, install what is missing. Otherwise print the exact apt-get line:
# for a missing build or test package, fail (so `make` stops with something
# to do instead of a compiler error); for a missing gateway, only say so
# (its conformance tests are skipped, loudly, until it is installed).
#
#   tools/deps.sh                 build and unit/integration test packages,
#                                 and the five gateways
#   tools/deps.sh valgrind ...    the same plus the packages named
set -euo pipefail

# package  : what proves it is there
need=(
	"gcc:command -v gcc"
	"make:command -v make"
	"pkg-config:command -v pkg-config"
	"libmicrohttpd-dev:pkg-config --exists libmicrohttpd"
	"libjansson-dev:pkg-config --exists jansson"
	"libgnutls28-dev:pkg-config --exists gnutls"
	"libcurl4-openssl-dev:pkg-config --exists libcurl"
	"check:pkg-config --exists check"
	"libsubunit-dev:pkg-config --exists libsubunit"
	# the DNS server's packets (sim/net/dns_wire.c); dig in tests/integration/check_dns.c
	"libldns-dev:pkg-config --exists ldns"
	"bind9-dnsutils:command -v dig"
	# make check-man, check-schema, check-completion, check-deb
	"mandoc:command -v mandoc"
	"python3-jsonschema:/usr/bin/python3 -c 'import jsonschema'"
	"bash-completion:test -f /usr/share/bash-completion/bash_completion"
	"debhelper:command -v dh"
	"dpkg-dev:command -v dpkg-buildpackage"
	"fakeroot:command -v fakeroot"
	"lintian:command -v lintian"
	# make check-harness (docs/harness.md's pytest recipe, run as written)
	"python3-pytest:/usr/bin/python3 -c 'import pytest'"
	# make format, format-check
	"clang-format:command -v clang-format"
)
for pkg in "$@"; do
	# Single quotes keep ${Status} from the bash -c below, which would
	# expand it to nothing and call every extra package missing.
	need+=("$pkg:dpkg-query -W -f='\${Status}' $pkg 2>/dev/null | grep -q 'install ok installed'")
done
# The real gateways of the conformance tests (tests/gateways).
optional=(
	"nginx-light:command -v nginx"
	"haproxy:command -v haproxy"
	"caddy:command -v caddy"
	"varnish:command -v varnishd"
	"apache2:test -x /usr/sbin/apache2"
)

missing_of() {
	local entry pkg probe
	for entry in "$@"; do
		pkg=${entry%%:*}
		probe=${entry#*:}
		if ! bash -c "$probe" >/dev/null 2>&1; then
			printf '%s\n' "$pkg"
		fi
	done
}

mapfile -t missing < <(missing_of "${need[@]}")
mapfile -t missing_optional < <(missing_of "${optional[@]}")
all=("${missing[@]}" "${missing_optional[@]}")
[ ${#all[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	echo "tools/deps.sh: installing ${all[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	# Packages must not start their services: the tests start their own
	# gateways on loopback. policy-rc.d is the Debian way to say so.
	policy=/usr/sbin/policy-rc.d
	own_policy=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy"
		own_policy=1
	fi
	trap '[ $own_policy -eq 1 ] && rm -f "$policy"' EXIT
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${all[@]}" >&2
	exit 0
fi

if [ ${#missing_optional[@]} -gt 0 ]; then
	echo "tools/deps.sh: gateways not installed (their conformance tests are skipped):" >&2
	echo "  sudo apt-get install -y --no-install-recommends ${missing_optional[*]}" >&2
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "tools/deps.sh: missing Debian packages. Install them with:" >&2
	echo "  sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
exit 0
